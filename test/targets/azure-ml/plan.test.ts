import { describe, expect, it } from 'vitest';
import {
  armAuthMode, azureBlobPrefix, azureEndpointName, azureInferUrl, azureModelUri, azureNames, azureSpecHash, nextModelVersion,
  planAzureRollout, planDeployment, planEndpoint, planModelVersion,
} from '../../../src/targets/azure-ml/plan.js';

const names = azureNames({ name: 'ocr-det', stage: 'prod', targetName: 'azure', target: {} });

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
    expect(planDeployment({ names, location: 'westeurope', modelId: '/subscriptions/s/.../versions/2', target: { instanceType: 'Standard_NC4as_T4_v3', instanceCount: 2 }, specHash: '0123456789ab' })).toEqual({
      location: 'westeurope',
      tags: { ...names.tags, 'deploy-model-spec': '0123456789ab' },
      sku: { name: 'Default', capacity: 2 },
      properties: {
        endpointComputeType: 'Managed', model: '/subscriptions/s/.../versions/2', instanceType: 'Standard_NC4as_T4_v3',
        scaleSettings: { scaleType: 'Default' }, description: "deploy-model version 0123456789ab of 'ocr-det'.",
      },
    });
  });

  it('hashes the deployment spec', () => {
    const a = azureSpecHash({ repositoryDigest: 'x', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 1 });
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(azureSpecHash({ repositoryDigest: 'x', instanceType: 'Standard_NC4as_T4_v3', instanceCount: 2 })).not.toBe(a);
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
