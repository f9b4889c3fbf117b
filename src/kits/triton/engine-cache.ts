// Where the TensorRT engine cache lives on each host.
import { posix } from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { TritonOptions } from './schema.js';
import { SERVING_HOSTS, defaultEngineCachePath, type TritonHost } from './serving-host.js';

export interface EngineCacheLocation {
  /** Absolute path on the serving host, as written into `trt_engine_cache_path`. */
  path: string;
  /**
   * The same directory relative to the model's folder of the repository (e.g. `trt_engine_cache`)
   * when it lies inside the repository, so the build can create it and ship the INT8 calibration
   * table in it; `null` when it lies elsewhere on the host.
   */
  repositoryDir: string | null;
}

/** Resolves where the TensorRT engine cache of `modelName` lives on `host`. */
export function engineCacheLocation(host: TritonHost, modelName: string, options: Pick<TritonOptions, 'engineCachePath'>): EngineCacheLocation {
  const path = posix.normalize(options.engineCachePath ?? defaultEngineCachePath(host, modelName)).replace(/(.)\/$/, '$1');
  const repository = SERVING_HOSTS[host].repository;
  if (repository === null) return { path, repositoryDir: null };
  const modelDir = `${repository}/${modelName}`;
  if (path === modelDir || path === repository) {
    throw new DeployModelError('TRITON_ENGINE_CACHE_PATH',
      `engineCachePath ${path} is the ${path === repository ? 'model repository' : "model's folder"} itself on ${host}; TensorRT would write engine files where Triton looks for models. Use a subfolder such as ${modelDir}/trt_engine_cache.`,
      { details: { engineCachePath: path, host } });
  }
  if (!path.startsWith(`${modelDir}/`)) return { path, repositoryDir: null };
  const repositoryDir = path.slice(modelDir.length + 1);
  // Triton reads every numeric folder of a model as a version.
  if (/^\d+$/.test(repositoryDir.split('/')[0])) {
    throw new DeployModelError('TRITON_ENGINE_CACHE_PATH',
      `engineCachePath ${path} puts the cache in a numeric folder of the model, which Triton would load as model version ${repositoryDir.split('/')[0]}. Use a name with letters, such as ${modelDir}/trt_engine_cache.`,
      { details: { engineCachePath: path, host } });
  }
  return { path, repositoryDir };
}
