// The triton and openvino engines' manifests against KServe's CRD, webhooks and own runtimes, Knative's rules and the Kubernetes API schema.
import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodSpec } from 'kubernetes-models/v1/PodSpec';
import { planManifests, resolveKserve, type GpuScheduling } from '../../../src/targets/container/manifests.js';
import { containerTargetSchema, type ContainerTargetInput } from '../../../src/targets/container/schema.js';
import { knativePodSpecViolations } from './knative-pod-spec-rules.js';
import { crdViolations } from './kserve-crd-subset.js';
import { runtimePodSpec, runtimeViolations } from './kserve-runtimes.js';
import { kserveWebhookViolations, predictorPodSpec } from './kserve-webhook-rules.js';
import type { Json } from './violation.js';

const GPU: GpuScheduling = { count: 1, resource: 'nvidia.com/gpu', nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] };
type C = Record<string, any>;

function manifests(engine: 'triton' | 'openvino', kserve: ContainerTargetInput['kserve'] = true) {
  const target = containerTargetSchema.parse({ type: 'container', engine, resources: { cpu: '2', memory: '4Gi' }, kserve });
  const gpu = engine === 'triton' ? GPU : undefined;
  return planManifests({
    name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target, engine, uid: engine === 'triton' ? 1000 : 5000,
    ...(gpu ? { gpu, engineCache: { path: '/mnt/models/ocr-cls/trt_engine_cache', volume: 'emptyDir' as const }, startupBudgetSeconds: 1200 } : { runtimeArgs: ['--plugin_config={"PERFORMANCE_HINT":"LATENCY"}', '--target_device=CPU'] }),
  });
}

describe("the triton and openvino engines' InferenceService on KServe's own runtimes (kserve/kserve v0.20.0)", () => {
  it.each(['triton', 'openvino'] as const)('%s: the CRD, the webhooks, and the runtime it names accept it', (engine) => {
    const isvc = manifests(engine).inferenceService! as Json;
    expect(crdViolations(isvc)).toEqual([]);
    expect(kserveWebhookViolations(isvc)).toEqual([]);
    expect(kserveWebhookViolations(isvc, { defaultDeploymentMode: 'Standard' })).toEqual([]);
    expect(runtimeViolations((isvc.spec as C).predictor)).toEqual([]);
  });

  it('openvino: the pod KServe builds from the runtime passes Knative\'s rules (serverless) and the Kubernetes schema', () => {
    const isvc = manifests('openvino').inferenceService! as C;
    const pod = runtimePodSpec('ocr-cls', predictorPodSpec(isvc.spec.predictor), isvc.spec.predictor);
    expect(knativePodSpecViolations(pod)).toEqual([]);
    expect(() => new PodSpec(pod as never).validate()).not.toThrow();
    const c = (pod.containers as C[])[0]!;
    // OVMS in single-model mode on our image, with our shape and plugin flags after the runtime's.
    expect(c.image).toBe('registry.example.com/ocr-cls:0123456789ab');
    expect(c.args).toEqual(['--model_name=ocr-cls', '--model_path=/mnt/models', '--port=9000', '--rest_port=8080', '--file_system_poll_wait_seconds=0',
      '--plugin_config={"PERFORMANCE_HINT":"LATENCY"}', '--target_device=CPU']);
    // The runtime's one-CPU limit is overridden, not kept.
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(c.securityContext.runAsUser).toBe(5000);
  });

  it('triton: pinned to raw mode, since Knative refuses the GPU pool\'s nodeSelector and tolerations by default; the pod requests the GPU', () => {
    const isvc = manifests('triton').inferenceService! as C;
    expect(effectiveMode(isvc)).toBe('RawDeployment');
    const pod = runtimePodSpec('ocr-cls', predictorPodSpec(isvc.spec.predictor), isvc.spec.predictor);
    expect(() => new PodSpec(pod as never).validate()).not.toThrow();
    const c = (pod.containers as C[])[0]!;
    expect(c.args.slice(0, 2)).toEqual(['tritonserver', '--model-store=/mnt/models']);
    expect(c.resources.limits).toEqual({ cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' });
    expect(c.volumeMounts).toEqual([{ name: 'engine-cache', mountPath: '/mnt/models/ocr-cls/trt_engine_cache' }]);
    // Asked for serverless, the pod is refused by Knative with default flags, which is why raw is the default here.
    const serverless = manifests('triton', { mode: 'serverless' }).inferenceService! as C;
    const onKnative = runtimePodSpec('ocr-cls', predictorPodSpec(serverless.spec.predictor), serverless.spec.predictor);
    expect(knativePodSpecViolations(onKnative).map((v) => v.path).sort()).toEqual(['nodeSelector', 'tolerations']);
    expect(knativePodSpecViolations(onKnative, { 'kubernetes.podspec-nodeselector': 'enabled', 'kubernetes.podspec-tolerations': 'enabled' })).toEqual([]);
    expect(resolveKserve({ mode: 'serverless' }, GPU)).toEqual({ mode: 'serverless' });
  });

  it('the triton Deployment requests the GPU on its pool and passes the Kubernetes schema', () => {
    const { deployment } = manifests('triton') as C;
    expect(() => new Deployment(deployment).validate()).not.toThrow();
    expect(deployment.spec.template.spec.containers[0].startupProbe).toEqual({ httpGet: { path: '/v2/health/live', port: 'http' }, periodSeconds: 10, failureThreshold: 120 });
  });

  it.each<[string, (isvc: C) => void, RegExp]>([
    ['a model format the runtime does not serve', (i) => { i.spec.predictor.model.modelFormat = { name: 'sklearn' }; }, /framework\/version/],
    ['a protocol the runtime does not speak', (i) => { i.spec.predictor.model.protocolVersion = 'v1'; }, /protocol version/],
    ['a runtime that is not installed', (i) => { i.spec.predictor.model.runtime = 'kserve-tritonserver-typo'; }, /No ServingRuntimes/],
  ])('the runtime refuses %s', (_what, change, message) => {
    const isvc = structuredClone(manifests('triton').inferenceService) as C;
    change(isvc);
    expect(runtimeViolations(isvc.spec.predictor)).toContainEqual(expect.objectContaining({ message: expect.stringMatching(message) }));
  });

  it('the CRD subset refuses a model without a format name and a PVC volume without a claim', () => {
    const isvc = structuredClone(manifests('triton').inferenceService) as C;
    isvc.spec.predictor.model.modelFormat = {};
    isvc.spec.predictor.volumes = [{ name: 'v', persistentVolumeClaim: {} }];
    expect(crdViolations(isvc).map((v) => v.path).sort()).toEqual(['spec.predictor.model.modelFormat.name', 'spec.predictor.volumes[0].persistentVolumeClaim.claimName']);
  });
});

function effectiveMode(isvc: C): string | undefined {
  return isvc.metadata.annotations?.['serving.kserve.io/deploymentMode'];
}
