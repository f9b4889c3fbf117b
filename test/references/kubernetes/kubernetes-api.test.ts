import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { planManifests } from '../../../src/targets/container/manifests.js';
import { containerTargetSchema } from '../../../src/targets/container/schema.js';
import { predictorPodSpec } from './kserve-webhook-rules.js';
import { KUBERNETES_SCHEMAS, unknownFields } from './kubernetes-unknown-fields.js';
import type { Json } from './violation.js';

const target = containerTargetSchema.parse({ type: 'container', resources: { cpu: '500m', memory: '768Mi' }, replicas: { min: 2, max: 6 }, targetCpuUtilization: 60 });
const m = planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target, namespace: 'ml' });
type C = Record<string, any>;

describe('the Kubernetes API schema (kubernetes-models, generated from the upstream OpenAPI)', () => {
  it('validates the Deployment, Service and HorizontalPodAutoscaler', () => {
    expect(() => new Deployment(m.deployment as never).validate()).not.toThrow();
    expect(() => new Service(m.service as never).validate()).not.toThrow();
    expect(() => new HorizontalPodAutoscaler(m.hpa as never).validate()).not.toThrow();
  });

  it('finds no field the schema lacks, in any object or in the pod inside each InferenceService predictor', () => {
    expect(unknownFields(KUBERNETES_SCHEMAS.Deployment, m.deployment)).toEqual([]);
    expect(unknownFields(KUBERNETES_SCHEMAS.Service, m.service)).toEqual([]);
    expect(unknownFields(KUBERNETES_SCHEMAS.HorizontalPodAutoscaler, m.hpa)).toEqual([]);
    for (const kserve of [true, { mode: 'serverless' as const }, { mode: 'raw' as const }]) {
      // With and without a rollout's canary share, which is KServe's own field and not the pod's.
      for (const canary of [{}, { canaryTrafficPercent: 10 }]) {
        const isvc = planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target: { ...target, kserve }, ...canary }).inferenceService as { spec: { predictor: Json } };
        expect(unknownFields(KUBERNETES_SCHEMAS.PodSpec, predictorPodSpec(isvc.spec.predictor))).toEqual([]);
      }
    }
  });

  it('refuses a misspelt field that kubernetes-models alone lets through', () => {
    // GIVEN a typo in a probe and one in the HPA spec WHEN validated THEN the models accept them, the strict check does not
    const deployment = structuredClone(m.deployment) as C;
    deployment.spec.template.spec.containers[0].readinessProbe.periodSecond = 5;
    const hpa = structuredClone(m.hpa) as C;
    hpa.spec.minReplica = 1;
    expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    expect(() => new HorizontalPodAutoscaler(hpa as never).validate()).not.toThrow();
    expect(unknownFields(KUBERNETES_SCHEMAS.Deployment, deployment)).toEqual([
      { rule: 'kubernetes-unknown-field', path: 'spec.template.spec.containers[0].readinessProbe.periodSecond', message: 'is not a field of this type in the Kubernetes API schema' },
    ]);
    expect(unknownFields(KUBERNETES_SCHEMAS.HorizontalPodAutoscaler, hpa).map((v) => v.path)).toEqual(['spec.minReplica']);
  });

  it('takes every key of a map as known, and still reads into objects beside it', () => {
    const service = structuredClone(m.service) as C;
    service.metadata.labels['any/key'] = 'v';
    service.spec.ports[0].targetPorts = 'http';
    expect(unknownFields(KUBERNETES_SCHEMAS.Service, service).map((v) => v.path)).toEqual(['spec.ports[0].targetPorts']);
  });

  it('refuses wrong types and values through the models', () => {
    const service = structuredClone(m.service) as C;
    service.spec.type = 'Internal';
    expect(() => new Service(service as never).validate()).toThrow(/spec\/type must be equal to one of the allowed values/);
  });
});
