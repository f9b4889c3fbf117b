import { describe, expect, it } from 'vitest';
import {
  armAuthMode, azureBlobPrefix, azureEndpointName, azureInferUrl, azureModelUri, azureNames, azureSpecHash, nextModelVersion,
  planAzureRollout, planDeployment, planEndpoint, planModelVersion,
} from '../../../src/targets/azure-ml/plan.js';
import { planRuntimeSettings } from '../../../src/targets/azure-ml/runtime-settings.js';

const names = azureNames({ name: 'ocr-det', stage: 'prod', targetName: 'azure', target: {} });
const TRITON = { engine: 'tensorrt', precision: 'fp16', warmup: true, instancesPerGpu: 1 } as const;

describe('Azure ML planners', () => {
  it('derives the names from the config name, the stage and the target', () => {
    expect(names).toEqual({
      endpoint: 'ocr-det-prod-azure', model: 'ocr-det-prod-azure', tritonModel: 'ocr-det', blobRoot: 'deploy-model/ocr-det/prod/azure',
      tags: { 'deploy-model-name': 'ocr-det', 'deploy-model-stage': 'prod', 'deploy-model-target': 'azure' },
    });
    expect(azureNames({ name: 'ocr-det', stage: 'prod', targetName: 'azure', target: { endpointName: 'my-ep' } }).endpoint).toBe('my-ep');
  });

  it('keeps endpoint names within 32 characters, distinct, lowercase', () => {
    expect(azureEndpointName('a', 'dev', 'Azure')).toBe('a-dev-azure');
    const long = azureEndpointName('a-really-long-model-name', 'production', 'azure-west');
    expect(long).toMatch(/^a-really-long-model-nam-[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(32);
    expect(azureEndpointName('a-really-long-model-name', 'production', 'azure-east')).not.toBe(long);
  });

  it('plans the blob path and the model URI of a repository', () => {
    expect(azureBlobPrefix(names, 'ab'.repeat(32))).toBe('deploy-model/ocr-det/prod/azure/abababababab');
    expect(azureModelUri({ subscriptionId: 's', resourceGroup: 'rg', workspace: 'ws1', datastore: 'workspaceblobstore', path: 'p/q' }))
      .toBe('azureml://subscriptions/s/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/p/q/');
  });

  it('plans a triton_model version and numbers versions', () => {
    expect(planModelVersion(names, 'azureml://x/', 'cd'.repeat(32))).toEqual({
      properties: {
        modelType: 'triton_model', modelUri: 'azureml://x/', description: "Triton model repository of 'ocr-det', uploaded by deploy-model.",
        tags: { ...names.tags, 'deploy-model-repository': 'cdcdcdcdcdcd' },
      },
    });
    expect(nextModelVersion([])).toBe('1');
    expect(nextModelVersion(['1', '7', 'latest', '3'])).toBe('8');
  });

  it('plans the endpoint and a managed deployment', () => {
    expect(armAuthMode('key')).toBe('Key');
    expect(armAuthMode('aml_token')).toBe('AMLToken');
    expect(planEndpoint({ names, location: 'westeurope', authMode: 'key', traffic: { blue: 100 } })).toEqual({
      location: 'westeurope', identity: { type: 'SystemAssigned' }, tags: names.tags,
      properties: { authMode: 'Key', description: "deploy-model endpoint of 'ocr-det'.", traffic: { blue: 100 } },
    });
    const runtime = planRuntimeSettings(TRITON);
    expect(planDeployment({ names, location: 'westeurope', modelId: '/subscriptions/s/.../versions/2', target: { instanceType: 'Standard_NC4as_T4_v3', instanceCount: 2 }, runtime, specHash: '0123456789ab' })).toEqual({
      location: 'westeurope',
      tags: { ...names.tags, 'deploy-model-spec': '0123456789ab' },
      sku: { name: 'Default', capacity: 2 },
      properties: {
        endpointComputeType: 'Managed', model: '/subscriptions/s/.../versions/2', instanceType: 'Standard_NC4as_T4_v3',
        scaleSettings: { scaleType: 'Default' }, description: "deploy-model version 0123456789ab of 'ocr-det'.",
        livenessProbe: { initialDelay: 'PT1200S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 6, successThreshold: 1 },
        readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 119, successThreshold: 1 },
        requestSettings: { requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0.5S' },
      },
    });
  });

  it('hashes the deployment spec, probes and request settings included', () => {
    const runtime = planRuntimeSettings(TRITON);
    const a = azureSpecHash({ repositoryDigest: 'x', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 1, runtime });
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(azureSpecHash({ repositoryDigest: 'x', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 2, runtime })).not.toBe(a);
    expect(azureSpecHash({ repositoryDigest: 'x', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 1, runtime: planRuntimeSettings({ ...TRITON, precision: 'int8' }) })).not.toBe(a);
  });

  describe('planRuntimeSettings: probes and request settings from the engine, precision and warmup', () => {
    // [engine, precision, warmup] → [liveness initialDelay, readiness failureThreshold, requestTimeout]
    const table: Array<[string, string, boolean, string, number, string]> = [
      ['onnxruntime', 'fp16', true, 'PT600S', 59, 'PT60S'],
      ['onnxruntime', 'fp32', false, 'PT600S', 59, 'PT60S'],
      ['tensorrt', 'fp32', true, 'PT900S', 89, 'PT60S'],
      ['tensorrt', 'fp16', true, 'PT1200S', 119, 'PT60S'],
      ['tensorrt', 'int8', true, 'PT1800S', 179, 'PT60S'],
      ['tensorrt', 'fp16', false, 'PT600S', 59, 'PT180S'],
      ['tensorrt', 'int8', false, 'PT600S', 59, 'PT180S'],
    ];
    it.each(table)('%s %s warmup=%s: liveness waits %s, readiness tries %i times, requests time out after %s', (engine, precision, warmup, initialDelay, readinessFailures, requestTimeout) => {
      expect(planRuntimeSettings({ ...TRITON, engine, precision, warmup } as never)).toEqual({
        livenessProbe: { initialDelay, period: 'PT10S', timeout: 'PT2S', failureThreshold: 6, successThreshold: 1 },
        readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: readinessFailures, successThreshold: 1 },
        requestSettings: { requestTimeout, maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0.5S' },
      });
    });

    it('lets each model instance take two requests, or a batch with dynamic batching', () => {
      expect(planRuntimeSettings({ ...TRITON, instancesPerGpu: 3 }).requestSettings.maxConcurrentRequestsPerInstance).toBe(6);
      expect(planRuntimeSettings({ ...TRITON, instancesPerGpu: 2 }, 8).requestSettings.maxConcurrentRequestsPerInstance).toBe(16);
      expect(planRuntimeSettings(TRITON, 1).requestSettings.maxConcurrentRequestsPerInstance).toBe(2);
    });

    it('takes any field from the config over the derived one', () => {
      expect(planRuntimeSettings({
        ...TRITON,
        livenessProbe: { initialDelaySeconds: 3000, timeoutSeconds: 5 },
        readinessProbe: { periodSeconds: 30, successThreshold: 2 },
        requestSettings: { requestTimeoutMs: 90_500, maxQueueWaitMs: 0 },
      })).toEqual({
        livenessProbe: { initialDelay: 'PT3000S', period: 'PT10S', timeout: 'PT5S', failureThreshold: 6, successThreshold: 1 },
        // The derived failure threshold covers the liveness delay given, at the period given: (3000 - 10) / 30, rounded up.
        readinessProbe: { initialDelay: 'PT10S', period: 'PT30S', timeout: 'PT2S', failureThreshold: 100, successThreshold: 2 },
        requestSettings: { requestTimeout: 'PT90.5S', maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0S' },
      });
    });
  });

  describe('planAzureRollout', () => {
    it('changes nothing when the live deployment already is the spec', () => {
      expect(planAzureRollout({ deployments: [{ name: 'blue', spec: 's1', provisioningState: 'Succeeded' }], traffic: { blue: 100 }, specHash: 's1' })).toEqual({ kind: 'unchanged', live: 'blue' });
    });
    it('starts with blue on an empty endpoint', () => {
      expect(planAzureRollout({ deployments: [], traffic: {}, specHash: 's1' })).toEqual({ kind: 'deploy', next: 'blue', remove: [], previous: [] });
    });
    it('alternates blue and green, removing leftovers without traffic first', () => {
      expect(planAzureRollout({ deployments: [{ name: 'blue', spec: 's1' }, { name: 'green', spec: 's0' }], traffic: { blue: 100, green: 0 }, specHash: 's2' }))
        .toEqual({ kind: 'deploy', next: 'green', live: 'blue', remove: ['green'], previous: ['blue'] });
      expect(planAzureRollout({ deployments: [{ name: 'green', spec: 's2' }], traffic: { green: 100 }, specHash: 's3' }))
        .toEqual({ kind: 'deploy', next: 'blue', live: 'green', remove: [], previous: ['green'] });
    });
    it('redeploys a live deployment that failed, and picks a free name under a hand-made split', () => {
      expect(planAzureRollout({ deployments: [{ name: 'blue', spec: 's1', provisioningState: 'Failed' }], traffic: { blue: 100 }, specHash: 's1' }))
        .toMatchObject({ kind: 'deploy', next: 'green', previous: ['blue'] });
      expect(planAzureRollout({ deployments: [{ name: 'blue' }, { name: 'green' }], traffic: { blue: 50, green: 50 }, specHash: 's1' }))
        .toEqual({ kind: 'deploy', next: 'blue-2', live: 'blue', remove: [], previous: ['blue', 'green'] });
    });
  });

  it('finds Triton behind the scoring URI', () => {
    expect(azureInferUrl('https://ep.westeurope.inference.ml.azure.com/score', 'ocr-det')).toBe('https://ep.westeurope.inference.ml.azure.com/v2/models/ocr-det/infer');
    expect(azureInferUrl('https://ep.westeurope.inference.ml.azure.com', 'm')).toBe('https://ep.westeurope.inference.ml.azure.com/v2/models/m/infer');
  });
});
