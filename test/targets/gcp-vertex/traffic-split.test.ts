// The gcp-vertex planners of traffic steps and rollback records: the split of each step, and the endpoint labels that record the previous version.
import { describe, expect, it } from 'vitest';
import { previousFromLabels, shiftedSplit, withPreviousLabels, type VertexPreviousVersion } from '../../../src/targets/gcp-vertex/plan.js';

describe('shiftedSplit', () => {
  it('gives the new model the step\'s share and the serving one the rest; "0" names the model a DeployModel adds', () => {
    expect(shiftedSplit({ '111': 100 }, '0', 10)).toEqual({ '111': 90, '0': 10 });
    expect(shiftedSplit({ '111': 90, '222': 10 }, '222', 50)).toEqual({ '111': 50, '222': 50 });
  });

  it('shares the rest between several serving models in proportion, rounded by largest remainder to add up to 100; models without traffic get none', () => {
    expect(shiftedSplit({ a: 70, b: 30, idle: 0 }, '0', 10)).toEqual({ a: 63, b: 27, '0': 10 });
    const split = shiftedSplit({ a: 34, b: 33, c: 33 }, 'n', 50);
    expect(split).toEqual({ a: 17, b: 17, c: 16, n: 50 });
    expect(Object.values(split).reduce((x, y) => x + y, 0)).toBe(100);
  });
});

describe('the previous version in the endpoint labels', () => {
  const previous: VertexPreviousVersion = {
    modelId: '4567890123', version: 'abcdef012345',
    resources: { machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 3 },
  };
  const base = { 'deploy-model-name': 'adder' };

  it('records it in label values Vertex AI accepts, and reads it back', () => {
    const labels = withPreviousLabels(base, previous);
    expect(labels).toEqual({
      ...base, 'deploy-model-previous-model': '4567890123', 'deploy-model-previous-version': 'abcdef012345', 'deploy-model-previous-machine': 'g2-standard-4',
      'deploy-model-previous-accelerator': 'nvidia_l4', 'deploy-model-previous-accelerators': '1', 'deploy-model-previous-replicas': '1-3',
    });
    expect(Object.values(labels).every((v) => /^[a-z0-9_-]{0,63}$/.test(v))).toBe(true);
    expect(previousFromLabels(labels)).toEqual(previous);
  });

  it('clears it, and reads nothing from missing or incomplete labels', () => {
    expect(withPreviousLabels(withPreviousLabels(base, previous), undefined)).toEqual(base);
    expect(previousFromLabels(base)).toBeUndefined();
    const { 'deploy-model-previous-replicas': _r, ...incomplete } = withPreviousLabels(base, previous);
    expect(previousFromLabels(incomplete)).toBeUndefined();
  });
});
