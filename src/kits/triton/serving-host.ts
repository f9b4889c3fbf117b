/**
 * Where each GPU target runs Triton, and so where TensorRT engines can be cached.
 *
 * ONNX Runtime's TensorRT provider builds an engine per GPU model and shape range at the first
 * inference, which takes seconds to minutes; with `trt_engine_cache_enable` it writes the engine
 * to `trt_engine_cache_path` and the next load reads it back. The path is used as given (a relative
 * one would be resolved against Triton's working directory, not the model), the provider creates
 * only its last component (`create_directory`, not recursive), and it also reads the INT8
 * calibration table from there. So the default must be absolute, its parent must exist, and it
 * should outlive the server process: a directory inside the model's own folder of the repository
 * does all three where the target puts the repository at a fixed path.
 */
export type TritonHost = 'aws-sagemaker' | 'gcp-vertex' | 'azure-ml' | 'container';

/** The engine cache's folder name inside the model's folder of the repository. */
export const ENGINE_CACHE_DIR = 'trt_engine_cache';

/**
 * Used where the repository has no fixed path. `/var/tmp` exists and is world-writable in every
 * Linux image (so the provider's one-level `create_directory` works whatever user runs Triton)
 * and, unlike `/tmp`, is meant to be kept across reboots; in a container it lives as long as the
 * container does.
 */
export const CONTAINER_LOCAL_ENGINE_CACHE = '/var/tmp/trt_engine_cache';

interface ServingHost {
  /** Absolute path of the model repository on the serving host, when the target fixes it. */
  repository: string | null;
  /** What keeps a cached engine, for the docs and for messages. */
  survives: string;
}

export const SERVING_HOSTS: Readonly<Record<TritonHost, ServingHost>> = {
  // SageMaker extracts model.tar.gz into /opt/ml/model on the instance's volume and its Triton
  // image runs `tritonserver --model-repository=/opt/ml/model`. Triton skips non-numeric folders
  // inside a model folder (with a warning), so the cache can sit next to `1/`.
  'aws-sagemaker': {
    repository: '/opt/ml/model',
    survives: 'restarts of Triton and of its container on the same instance; a new instance (scale-out, endpoint update) builds again',
  },
  // Our GPU image serves the repository from /models (Triton's documented convention).
  container: {
    repository: '/models',
    survives: 'restarts of Triton in the container; mount a volume on /models/<model>/trt_engine_cache to keep engines across pod restarts on the same node',
  },
  // Vertex passes the artifact as a gs:// URI (AIP_STORAGE_URI); Triton copies it into a fresh
  // temporary folder at each start, so the repository has no fixed path.
  'gcp-vertex': {
    repository: null,
    survives: 'restarts of Triton in the same container; a new replica builds again',
  },
  // Azure ML mounts the registered model under AZUREML_MODEL_DIR, whose path carries the model
  // version assigned at registration, so it is not known when the config is planned.
  'azure-ml': {
    repository: null,
    survives: 'restarts of Triton in the same container; a new instance builds again',
  },
};

/** Where TensorRT engines are cached on a target unless `engineCachePath` says otherwise. */
export function defaultEngineCachePath(host: TritonHost, modelName: string): string {
  const repository = SERVING_HOSTS[host].repository;
  return repository === null ? CONTAINER_LOCAL_ENGINE_CACHE : `${repository}/${modelName}/${ENGINE_CACHE_DIR}`;
}
