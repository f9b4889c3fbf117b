// The azure-ml planners of traffic steps and rollback records: the traffic map of each step, and the endpoint tags that record the previous deployment.
import { describe, expect, it } from 'vitest';
import { previousFromTags, shiftedTraffic, withPreviousTags, type AzurePreviousDeployment } from '../../../src/targets/azure-ml/plan.js';

describe('shiftedTraffic', () => {
  it('gives the new deployment the step\'s share and the serving ones the rest, in proportion, adding up to 100', () => {
    expect(shiftedTraffic({ blue: 100 }, 'green', 10)).toEqual({ blue: 90, green: 10 });
    expect(shiftedTraffic({ blue: 100, green: 0 }, 'green', 50)).toEqual({ blue: 50, green: 50 });
    expect(shiftedTraffic({ blue: 34, green: 33, red: 33 }, 'blue-2', 50)).toEqual({ blue: 17, green: 17, red: 16, 'blue-2': 50 });
  });
});

describe('the previous deployment in the endpoint tags', () => {
  const previous: AzurePreviousDeployment = {
    name: 'blue', spec: 'abcdef012345', modelVersion: '3', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 2,
    runtime: {
      livenessProbe: { initialDelay: 'PT600S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 6, successThreshold: 1 },
      readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 60, successThreshold: 1 },
      requestSettings: { requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0.5S' },
    },
  };
  const base = { 'deploy-model-name': 'adder' };

  it('records it in tag values within ARM\'s 256 characters, and reads it back', () => {
    const tags = withPreviousTags(base, previous);
    expect(tags).toMatchObject({ ...base, 'deploy-model-previous': 'blue', 'deploy-model-previous-spec': 'abcdef012345', 'deploy-model-previous-model-version': '3', 'deploy-model-previous-instance-count': '2' });
    expect(Object.values(tags).every((v) => v.length <= 256)).toBe(true);
    expect(previousFromTags(tags)).toEqual(previous);
  });

  it('clears it, and reads nothing from missing or broken tags', () => {
    expect(withPreviousTags(withPreviousTags(base, previous), undefined)).toEqual(base);
    expect(previousFromTags(base)).toBeUndefined();
    expect(previousFromTags({ ...withPreviousTags(base, previous), 'deploy-model-previous-liveness-probe': '{not json' })).toBeUndefined();
  });
});
