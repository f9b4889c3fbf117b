import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import type { ModelSignature } from '../../../src/model/types.js';
import {
  armAuthMode, azureBlobPrefix, azureEndpointName, azureInferUrl, azureModelUri, azureNames, azureSpecHash, azureVersion, endpointBody, nextModelVersion,
  planAzureMl, planAzureRollout, planDeployment, planEndpoint, planModelVersion,
} from '../../../src/targets/azure-ml/plan.js';
import { planRuntimeSettings } from '../../../src/targets/azure-ml/runtime-settings.js';
import type { AzureMlTargetConfig } from '../../../src/targets/azure-ml/schema.js';
import { validateAzure } from '../../../src/targets/azure-ml/validate-azure.js';

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
    const spec = planEndpoint({ names, authMode: 'key' });
    expect(spec).toEqual({
      identity: { type: 'SystemAssigned' }, tags: names.tags,
      properties: { authMode: 'Key', description: "deploy-model endpoint of 'ocr-det'.", traffic: {} },
    });
    // The location is the workspace's, read at deploy time; a PUT keeps an existing endpoint's identity type.
    expect(endpointBody(spec, { location: 'westeurope', traffic: { blue: 100 } })).toEqual({
      location: 'westeurope', identity: { type: 'SystemAssigned' }, tags: names.tags,
      properties: { authMode: 'Key', description: "deploy-model endpoint of 'ocr-det'.", traffic: { blue: 100 } },
    });
    expect(endpointBody(planEndpoint({ names, authMode: 'aml_token' }), { location: 'eastus', traffic: {}, identityType: 'UserAssigned' })).toMatchObject({
      location: 'eastus', identity: { type: 'UserAssigned' }, properties: { authMode: 'AMLToken', traffic: {} },
    });
    expect(spec.properties.traffic).toEqual({});
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

// GIVEN a detection model (x float32 [batch,3,h,w] → y float32 [batch,1,h,w]) and an azure-ml
// target with its defaults (TensorRT fp16, warmup, one Standard_NC4as_T4_v3 instance, key auth).
const SIGNATURE: ModelSignature = {
  file: '/project/models/ocr-det.onnx', bytes: 4_700_000, sha256: 'ab'.repeat(32), irVersion: 8, opsets: { 'ai.onnx': 17 }, producer: 'pytorch', producerVersion: '2.3',
  inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 3, 'h', 'w'] }],
  outputs: [{ name: 'y', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 1, 'h', 'w'] }],
  nodes: 10, initializers: 5, initializerBytes: 100, operators: {}, externalData: [],
};
const AZURE = { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' };

function planInput(target: Record<string, unknown> = {}, model: Record<string, unknown> = {}, signature: ModelSignature = SIGNATURE) {
  const config = configSchema.parse({ name: 'ocr-det', model: { path: './models/ocr-det.onnx', ...model }, targets: { azure: { ...AZURE, ...target } } });
  return { config, stage: 'prod', targetName: 'azure', target: config.targets.azure as AzureMlTargetConfig, signature, rootDir: '/project' };
}

describe('planAzureMl: the module\'s plan', () => {
  const TAGS = { 'deploy-model-name': 'ocr-det', 'deploy-model-stage': 'prod', 'deploy-model-target': 'azure' };

  it('resolves every value build, synth and the rollout hooks use, once, as plain data', () => {
    // WHEN the target is planned
    const plan = planAzureMl(planInput());
    // THEN names, runtime settings, the Triton config, the endpoint body (no location) and the rollout steps are resolved
    expect(plan).toEqual({
      type: 'azure-ml', targetName: 'azure', stage: 'prod', resourceName: 'ocr-det-prod-azure',
      model: { file: '/project/models/ocr-det.onnx', sha256: 'ab'.repeat(32), bytes: 4_700_000 },
      rollout: {
        strategy: 'all-at-once',
        steps: [
          { phase: 'stage', action: "hash the version from the built repository's digest, the instance type and count and the runtime settings; when the deployment with all the traffic of 'ocr-det-prod-azure' already is that version, upload and create nothing and smoke-test it" },
          { phase: 'stage', action: "upload the repository to the workspace's default datastore under deploy-model/ocr-det/prod/azure/<digest> and register it as a triton_model version of 'ocr-det-prod-azure' (a version holding the same repository is reused)" },
          { phase: 'stage', action: "create the online endpoint 'ocr-det-prod-azure' in the workspace's region if it does not exist, and delete its deployments without traffic" },
          { phase: 'stage', action: 'create the new deployment (blue or green, whichever does not serve) on 1 x Standard_NC4as_T4_v3, without traffic' },
          { phase: 'smoke', action: "call the scoring URI of 'ocr-det-prod-azure' with the header azureml-model-deployment: <new deployment>, which routes to it whatever the traffic" },
          { phase: 'promote', action: "move 100% of the traffic of 'ocr-det-prod-azure' to the new deployment, recording the previous one's definition in the tags of 'ocr-det-prod-azure' for `deploy-model rollback`, then delete the previous one (its model version stays registered)" },
          { phase: 'rollback', action: 'delete the new deployment; the traffic never moved' },
        ],
      },
      subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws',
      names: { endpoint: 'ocr-det-prod-azure', model: 'ocr-det-prod-azure', tritonModel: 'ocr-det', blobRoot: 'deploy-model/ocr-det/prod/azure', tags: TAGS },
      authMode: 'key',
      instanceType: 'Standard_NC4as_T4_v3',
      instanceCount: 1,
      runtime: {
        livenessProbe: { initialDelay: 'PT1200S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 6, successThreshold: 1 },
        readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 119, successThreshold: 1 },
        requestSettings: { requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0.5S' },
      },
      tritonConfig: {
        name: 'ocr-det', backend: 'onnxruntime', max_batch_size: 8,
        input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1, -1] }],
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1, -1, -1] }],
        instance_group: [{ count: 1, kind: 'KIND_GPU' }],
        optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt', parameters: { precision_mode: 'FP16', max_workspace_size_bytes: '4294967296', trt_engine_cache_enable: '1', trt_engine_cache_path: '/var/tmp/trt_engine_cache' } }] } },
        model_warmup: [{ name: 'warmup', batch_size: 1, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 64, 64], random_data: true } } }],
      },
      // Azure ML mounts the model under a versioned path: the engine cache lies outside the repository.
      repository: { engineCacheDir: null },
      endpoint: { identity: { type: 'SystemAssigned' }, tags: TAGS, properties: { authMode: 'Key', description: "deploy-model endpoint of 'ocr-det'.", traffic: {} } },
      operationTimeoutMs: 3_600_000,
    });
  });

  it('is deterministic and serialisable: the same input plans equal, and the plan survives JSON', () => {
    const input = () => planInput({ authMode: 'aml_token', endpointName: 'my-ep', instanceCount: 2, engine: 'onnxruntime' }, { batching: { maxBatchSize: 4 } });
    const plan = planAzureMl(input());
    expect(planAzureMl(input())).toEqual(plan);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(plan).toMatchObject({ authMode: 'aml_token', instanceCount: 2, names: { endpoint: 'my-ep' }, endpoint: { properties: { authMode: 'AMLToken' } } });
    // A batch's worth of requests per instance, so that Triton can merge them.
    expect(plan.runtime.requestSettings.maxConcurrentRequestsPerInstance).toBe(4);
  });

  it('a build adds the version: the spec hash, the blob folder and the repository tag, from the repository digest', () => {
    const plan = planAzureMl(planInput());
    expect(azureVersion(plan, 'c'.repeat(64))).toEqual({
      specHash: azureSpecHash({ repositoryDigest: 'c'.repeat(64), instanceType: 'Standard_NC4as_T4_v3', instanceCount: 1, runtime: plan.runtime }),
      blobPath: 'deploy-model/ocr-det/prod/azure/cccccccccccc',
      repositoryTag: 'cccccccccccc',
    });
  });

  it('validate reports what Triton would refuse, with the fix, instead of throwing', async () => {
    expect(await validateAzure(planInput())).toEqual([]);
    const bf16: ModelSignature = { ...SIGNATURE, inputs: [{ name: 'x', dtype: 'bfloat16', onnxType: 16, onnxTypeName: 'BFLOAT16', shape: ['batch', 3] }] };
    expect(await validateAzure(planInput({}, {}, bf16))).toEqual([{
      path: 'targets.azure', value: 'tensorrt', rule: expect.stringMatching(/input 'x' is bfloat16/), fix: 'change the model options or the Triton options as the message says',
    }]);
  });
});
