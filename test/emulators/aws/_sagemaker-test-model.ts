import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { generateSmokeRequest, type V2Request } from '../../../src/smoke/smoke-input.js';
import {
  buildTritonRepository, packTritonRepository, planTritonConfig, tritonOptionsSchema, type TritonModelConfig,
} from '../../../src/kits/triton/index.js';

export interface TestArchive {
  /** The packed model.tar.gz. */
  readonly bytes: Buffer;
  /** A v2 request the model answers. */
  readonly request: V2Request;
  readonly outputNames: string[];
}

const scratch: string[] = [];

/**
 * A Triton model repository for SageMaker from a real ONNX model, packed as the target packs it.
 * `layout: 'flat'` puts config.pbtxt at the archive's root, which SageMaker's Triton image refuses.
 */
export async function tritonArchive(modelPath: string, name: string, options: { layout?: 'repository' | 'flat'; editConfig?: (config: TritonModelConfig) => TritonModelConfig } = {}): Promise<TestArchive> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dm-sagemaker-model-'));
  scratch.push(dir);
  const signature = await inspectModel(modelPath);
  const planned = planTritonConfig({ signature, modelName: name, host: 'aws-sagemaker', options: tritonOptionsSchema.parse({}) });
  const config = options.editConfig ? options.editConfig(planned) : planned;
  const repo = await buildTritonRepository({ signature, config, outDir: path.join(dir, 'repository'), engineCacheDir: 'trt_engine_cache' });
  if (options.layout === 'flat') await writeFile(path.join(repo.root, 'config.pbtxt'), await readFile(path.join(repo.modelDir, 'config.pbtxt')));
  const packed = await packTritonRepository(repo.root, path.join(dir, 'model.tar.gz'));
  return { bytes: await readFile(packed.file), request: generateSmokeRequest(signature), outputNames: signature.outputs.map((o) => o.name) };
}

export async function removeTestArchives(): Promise<void> {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
