/** Which files of a built Triton repository are copies of objects in a store: the model and its external data, when model.path is a URL. */
import path from 'node:path';
import { keyFolder } from '../../model/remote/model-url.js';
import { MODEL_VERSION } from './build-triton-repository.js';
import type { BuiltRepository } from './build-gpu-repository.js';

/** A repository file whose bytes are those of an object beside model.path (checked by sha256 when it was downloaded). */
export interface RepositorySource {
  /** The file in the repository, relative to its root (`<model>/1/model.onnx`). */
  readonly path: string;
  /** The object's key in the model's bucket or container. */
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The repository's `<model>/1/model.onnx` comes from the object `modelKey`, and each external data
 * file `<model>/1/<location>` from `<folder of modelKey><location>`, as the download read them.
 */
export function repositorySources(repo: BuiltRepository, modelName: string, modelKey: string, externalData: readonly string[]): RepositorySource[] {
  const versionDir = `${modelName}/${MODEL_VERSION}/`;
  const keys = new Map<string, string>([[`${versionDir}model.onnx`, modelKey]]);
  for (const location of externalData) {
    const rel = path.posix.normalize(location.split(path.sep).join('/'));
    keys.set(`${versionDir}${rel}`, `${keyFolder(modelKey)}${rel}`);
  }
  return repo.files.flatMap((f) => {
    const key = keys.get(f.path);
    return key === undefined ? [] : [{ path: f.path, key, bytes: f.bytes, sha256: f.sha256 }];
  });
}
