// The Triton kit: the model repository's plan, files and archive.
export { buildTritonRepository, MODEL_VERSION, type BuildTritonRepositoryParams, type TritonRepository } from './build-triton-repository.js';
export { engineCacheLocation, type EngineCacheLocation } from './engine-cache.js';
export { packTritonRepository, type PackedRepository } from './pack-triton-repository.js';
export { calibrationTableName, DEFAULT_MAX_BATCH_SIZE, planTritonConfig, type PlanTritonConfigParams } from './plan-triton-config.js';
export { PBTXT_HEADER, renderPbtxt } from './render-pbtxt.js';
export {
  checkTritonOptions, DEFAULT_TRITON_VERSION, DEFAULT_WORKSPACE_MB, tritonOptionsSchema, tritonOptionsShape,
  type TritonOptions, type TritonOptionsInput,
} from './schema.js';
export { CONTAINER_LOCAL_ENGINE_CACHE, defaultEngineCachePath, ENGINE_CACHE_DIR, SERVING_HOSTS, type TritonHost } from './serving-host.js';
export type * from './types.js';
