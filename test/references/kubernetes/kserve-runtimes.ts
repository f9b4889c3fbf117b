// KServe's serving runtimes for the container target's triton and openvino engines, and how KServe turns
// a `predictor.model` into the pod it runs, written for tests from kserve/kserve tag v0.20.0:
//   config/runtimes/kserve-tritonserver.yaml, config/runtimes/kserve-openvino.yaml   the ClusterServingRuntimes
//   pkg/controller/v1beta1/inferenceservice/components/predictor.go  `reconcileModel` (the named runtime must
//       support the model format and the protocol version), `buildPodSpec`
//   pkg/controller/v1beta1/inferenceservice/utils/utils.go  `MergeRuntimeContainers` (a strategic merge of the
//       InferenceService's container into the runtime's, args concatenated), `MergePodSpec`, `UpdateImageTag`
// The restatement and the merge are ours; the runtimes' fields are the ones that reach the pod.
import { isObject, type Json, type Violation } from './violation.js';

interface Runtime {
  supportedModelFormats: Array<{ name: string; version: string }>;
  protocolVersions: string[];
  container: Json;
}

export const KSERVE_RUNTIMES: Readonly<Record<string, Runtime>> = {
  'kserve-tritonserver': {
    supportedModelFormats: [
      { name: 'tensorrt', version: '8' }, { name: 'tensorflow', version: '1' }, { name: 'tensorflow', version: '2' },
      { name: 'onnx', version: '1' }, { name: 'pytorch', version: '1' }, { name: 'triton', version: '2' },
    ],
    protocolVersions: ['v2', 'grpc-v2'],
    container: {
      name: 'kserve-container',
      image: 'nvcr.io/nvidia/tritonserver:23.05-py3',
      args: ['tritonserver', '--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true'],
      securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
    },
  },
  'kserve-openvino': {
    supportedModelFormats: [{ name: 'openvino', version: '10' }, { name: 'onnx', version: '1' }, { name: 'tensorflow', version: '1' }],
    protocolVersions: ['v1', 'v2', 'grpc-v2'],
    container: {
      name: 'kserve-container',
      image: 'openvino/model_server:replace',
      args: ['--model_name={{.Name}}', '--model_path=/mnt/models', '--port=9000', '--rest_port=8080', '--file_system_poll_wait_seconds=0'],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, runAsNonRoot: true, runAsUser: 5000 },
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
    },
  },
};

// ModelSpec's own fields; the rest of `predictor.model` is a corev1.Container.
const MODEL_OWN = new Set(['modelFormat', 'runtime', 'protocolVersion', 'storageUri', 'runtimeVersion', 'storage']);
// Strategic-merge keys of corev1.Container's lists (k8s.io/api core/v1 types.go `patchMergeKey`).
const MERGE_KEYS: Record<string, string> = { ports: 'containerPort', env: 'name', volumeMounts: 'mountPath' };

function mergeValue(base: unknown, patch: unknown, key?: string): unknown {
  if (patch === undefined) return base;
  if (isObject(base) && isObject(patch)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = mergeValue(base[k], v, k);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && key && MERGE_KEYS[key]) {
    const by = MERGE_KEYS[key]!;
    const out = [...base] as Json[];
    for (const item of patch as Json[]) {
      const at = out.findIndex((b) => b[by] === item[by]);
      if (at >= 0) out[at] = mergeValue(out[at], item) as Json; else out.push(item);
    }
    return out;
  }
  return patch;
}

/** What the named runtime refuses in `predictor.model` (`reconcileModel`). */
export function runtimeViolations(predictor: Json): Violation[] {
  const model = isObject(predictor.model) ? predictor.model : undefined;
  if (!model) return [];
  const out: Violation[] = [];
  const name = String(model.runtime ?? '');
  const runtime = KSERVE_RUNTIMES[name];
  if (!runtime) return [{ rule: 'kserve-runtime', path: 'spec.predictor.model.runtime', message: `No ServingRuntimes or ClusterServingRuntimes with the name: ${name} (of the two restated here)` }];
  const format = isObject(model.modelFormat) ? model.modelFormat : {};
  // RuntimeSupportsModel: the format's name, with its version when one is given.
  const supported = runtime.supportedModelFormats.some((f) => f.name === format.name && (format.version === undefined || f.version === format.version));
  if (!supported) out.push({ rule: 'kserve-runtime', path: 'spec.predictor.model.modelFormat', message: 'Specified runtime does not support specified framework/version' });
  if (model.protocolVersion !== undefined && !runtime.protocolVersions.includes(String(model.protocolVersion))) {
    out.push({ rule: 'kserve-runtime', path: 'spec.predictor.model.protocolVersion', message: 'Specified runtime does not support specified protocol version' });
  }
  return out;
}

/**
 * The pod spec KServe builds from a model predictor (`buildPodSpec`): the runtime's container with the
 * predictor's container fields merged in and the args appended, `{{.Name}}` replaced
 * (`ReplacePlaceholders`), beside the predictor's own pod fields.
 */
export function runtimePodSpec(isvcName: string, podFields: Json, predictor: Json): Json {
  const model = predictor.model as Json;
  const runtime = KSERVE_RUNTIMES[String(model.runtime)]!;
  const patch = Object.fromEntries(Object.entries(model).filter(([k]) => !MODEL_OWN.has(k)));
  const merged = mergeValue(runtime.container, patch) as Json;
  merged.args = [...(runtime.container.args as string[]), ...((patch.args as string[] | undefined) ?? [])];
  const container = JSON.parse(JSON.stringify(merged).replaceAll('{{.Name}}', isvcName)) as Json;
  return { ...podFields, containers: [container] };
}
