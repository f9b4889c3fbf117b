import { describe, expect, it } from 'vitest';
import { planManifests } from '../../../src/targets/container/manifests.js';
import { containerTargetSchema, type ContainerTargetInput } from '../../../src/targets/container/schema.js';
import { EARLIER_INFERENCE_SERVICE } from './earlier-inference-service.js';
import { crdViolations } from './kserve-crd-subset.js';
import { effectiveDeploymentMode, KSERVE_WEBHOOK_RULES, kserveWebhookViolations, type KserveWebhookRule } from './kserve-webhook-rules.js';
import type { Json } from './violation.js';

const planned = (kserve: ContainerTargetInput['kserve']): Json => {
  const target = containerTargetSchema.parse({ type: 'container', resources: { cpu: '500m', memory: '768Mi' }, replicas: { min: 2, max: 6 }, targetCpuUtilization: 60, kserve });
  return planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target }).inferenceService!;
};
type C = Record<string, any>;
const MODES = [['true', true], ['serverless', { mode: 'serverless' }], ['raw', { mode: 'raw' }]] as const;

describe("KServe's InferenceService CRD (kserve/kserve v0.20.0, the fields deploy-model writes)", () => {
  it.each(MODES)('kserve %s: the InferenceService matches the CRD', (_what, kserve) => {
    expect(crdViolations(planned(kserve))).toEqual([]);
  });

  // A canary or linear rollout's first step: ComponentExtensionSpec.canaryTrafficPercent (kserve/kserve,
  // pkg/apis/serving/v1beta1/component.go; `format: int64, type: integer` under spec.predictor in
  // config/crd/full/serving.kserve.io_inferenceservices.yaml), left out in a pinned raw mode.
  it.each(MODES)('kserve %s with a canary share: the InferenceService matches the CRD and passes the webhooks', (_what, kserve) => {
    const target = containerTargetSchema.parse({ type: 'container', kserve });
    const isvc = planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target, canaryTrafficPercent: 10 }).inferenceService! as C;
    expect(crdViolations(isvc)).toEqual([]);
    expect(kserveWebhookViolations(isvc)).toEqual([]);
    expect(isvc.spec.predictor.canaryTrafficPercent).toBe(kserve !== true && kserve.mode === 'raw' ? undefined : 10);
  });

  it.each<[string, (isvc: C) => void, string, RegExp]>([
    ['a fractional canaryTrafficPercent', (i) => { i.spec.predictor.canaryTrafficPercent = 12.5; }, 'spec.predictor.canaryTrafficPercent', /integer/],
    ['a scaleMetric outside the enum', (i) => { i.spec.predictor.scaleMetric = 'gpu'; }, 'spec.predictor.scaleMetric', /one of cpu, memory, concurrency, rps/],
    ['minReplicas as a string', (i) => { i.spec.predictor.minReplicas = '2'; }, 'spec.predictor.minReplicas', /integer/],
    ['maxReplicas beyond int32', (i) => { i.spec.predictor.maxReplicas = 2 ** 31; }, 'spec.predictor.maxReplicas', /int32/],
    ['a container without its required name', (i) => { delete i.spec.predictor.containers[0].name; }, 'spec.predictor.containers[0].name', /required/],
    ['a port without containerPort', (i) => { delete i.spec.predictor.containers[0].ports[0].containerPort; }, 'spec.predictor.containers[0].ports[0].containerPort', /required/],
    ['a seccompProfile without type', (i) => { i.spec.predictor.containers[0].securityContext.seccompProfile = {}; }, 'spec.predictor.containers[0].securityContext.seccompProfile.type', /required/],
    ['a fractional uid', (i) => { i.spec.predictor.containers[0].securityContext.runAsUser = 1.5; }, 'spec.predictor.containers[0].securityContext.runAsUser', /integer/],
    ['a memory quantity with a space', (i) => { i.spec.predictor.containers[0].resources.limits.memory = '768 Mi'; }, 'spec.predictor.containers[0].resources.limits.memory', /quantity/],
    ['a misspelt field', (i) => { i.spec.predictor.minReplica = 1; }, 'spec.predictor.minReplica', /not a field/],
    ['no predictor', (i) => { delete i.spec.predictor; }, 'spec.predictor', /required/],
  ])('refuses %s', (_what, change, path, message) => {
    const isvc = structuredClone(planned(true)) as C;
    change(isvc);
    expect(crdViolations(isvc)).toContainEqual(expect.objectContaining({ rule: 'kserve-crd', path, message: expect.stringMatching(message) }));
  });
});

describe("KServe's admission webhooks (kserve/kserve v0.20.0, inference_service_validation.go)", () => {
  const cases: [KserveWebhookRule, string, (isvc: C) => void, string][] = [
    ['isvc-name', 'a name ending in -', (i) => { i.metadata.name = 'ocr-'; }, 'metadata.name'],
    ['deployment-mode', 'a mode KServe does not know', (i) => { i.metadata.annotations = { 'serving.kserve.io/deploymentMode': 'Raw' }; }, 'metadata.annotations.serving.kserve.io/deploymentMode'],
    ['autoscaler-class', 'the autoscaler class kpa, which is not on the allowed list', (i) => { i.metadata.annotations = { 'serving.kserve.io/autoscalerClass': 'kpa' }; }, 'metadata.annotations.serving.kserve.io/autoscalerClass'],
    ['autoscaling', 'scaleMetric cpu on Knative', (i) => { i.spec.predictor.scaleMetric = 'cpu'; }, 'spec.predictor.scaleMetric'],
    ['autoscaling', 'a deploymentStrategy on Knative', (i) => { i.spec.predictor.deploymentStrategy = { type: 'Recreate' }; }, 'spec.predictor.deploymentStrategy'],
    ['autoscaling', 'a CPU target above 100 on an HPA', (i) => {
      i.metadata.annotations = { 'serving.kserve.io/deploymentMode': 'RawDeployment', 'serving.kserve.io/autoscalerClass': 'hpa' };
      Object.assign(i.spec.predictor, { scaleMetric: 'cpu', scaleTarget: 120 });
    }, 'spec.predictor.scaleTarget'],
    ['autoscaling', 'scaleMetric concurrency on an HPA', (i) => {
      i.metadata.annotations = { 'serving.kserve.io/deploymentMode': 'RawDeployment', 'serving.kserve.io/autoscalerClass': 'hpa' };
      i.spec.predictor.scaleMetric = 'concurrency';
    }, 'spec.predictor.scaleMetric'],
    ['replicas', 'minReplicas above maxReplicas', (i) => { i.spec.predictor.minReplicas = 7; }, 'spec.predictor.minReplicas'],
    ['replicas', 'a negative maxReplicas', (i) => { i.spec.predictor.maxReplicas = -1; }, 'spec.predictor.maxReplicas'],
    ['custom-predictor', 'PROTOCOL v3', (i) => { i.spec.predictor.containers[0].env[0].value = 'v3'; }, 'spec.predictor.containers[0].env'],
    ['custom-predictor', 'containers and a model', (i) => { i.spec.predictor.model = { modelFormat: { name: 'onnx' } }; }, 'spec.predictor'],
    ['blocked-env', 'PYTHONPATH', (i) => { i.spec.predictor.containers[0].env.push({ name: 'PYTHONPATH', value: '/x' }); }, 'spec.predictor.containers[0].env[1]'],
  ];

  it('covers every rule with a case below', () => {
    expect(new Set(cases.map(([rule]) => rule))).toEqual(new Set(KSERVE_WEBHOOK_RULES));
  });

  it.each(cases)('%s: refuses %s', (rule, _what, change, path) => {
    const isvc = structuredClone(planned(true)) as C;
    expect(kserveWebhookViolations(isvc)).toEqual([]);
    change(isvc);
    expect(kserveWebhookViolations(isvc)).toContainEqual(expect.objectContaining({ rule, path }));
  });

  it.each(MODES)('kserve %s: admitted on a cluster that defaults to Serverless and on one that defaults to Standard', (_what, kserve) => {
    for (const defaultDeploymentMode of ['Serverless', 'Standard'] as const) {
      expect(kserveWebhookViolations(planned(kserve), { defaultDeploymentMode }), defaultDeploymentMode).toEqual([]);
    }
  });

  it('runs in the mode asked for, and in the cluster default when none is', () => {
    // GetDeploymentMode: the legacy names map to the current ones; no annotation follows the ConfigMap
    expect(effectiveDeploymentMode(planned({ mode: 'serverless' }), { defaultDeploymentMode: 'Standard' })).toBe('Knative');
    expect(effectiveDeploymentMode(planned({ mode: 'raw' }))).toBe('Standard');
    expect(effectiveDeploymentMode(planned(true))).toBe('Knative');
    expect(effectiveDeploymentMode(planned(true), { defaultDeploymentMode: 'RawDeployment' })).toBe('Standard');
  });

  it('writes the legacy mode names, which every release reads (v0.16 added Knative and Standard)', () => {
    expect((planned({ mode: 'serverless' }).metadata as C).annotations['serving.kserve.io/deploymentMode']).toBe('Serverless');
    expect((planned({ mode: 'raw' }).metadata as C).annotations['serving.kserve.io/deploymentMode']).toBe('RawDeployment');
  });

  it('refused the earlier manifest on a default install: scaleMetric cpu without raw mode', () => {
    expect(kserveWebhookViolations(EARLIER_INFERENCE_SERVICE)).toEqual([
      { rule: 'autoscaling', path: 'spec.predictor.scaleMetric', message: '[cpu] is not a supported metric' },
    ]);
    expect(kserveWebhookViolations(EARLIER_INFERENCE_SERVICE, { defaultDeploymentMode: 'Standard' })).toEqual([]);
  });
});
