import { createHash } from 'node:crypto';
import type { AzureRuntimeSettings } from './runtime-settings.js';
import type { AzureMlTargetConfig } from './schema.js';

/**
 * The Azure ML resources of one target as plain data, in the shapes `@azure/arm-machinelearning`
 * takes. Tested by equality; the deploy code only sends them.
 */

export const AZURE_TAG_KEYS = { name: 'deploy-model-name', stage: 'deploy-model-stage', target: 'deploy-model-target', spec: 'deploy-model-spec', repository: 'deploy-model-repository' } as const;

/** The two deployment names a new version alternates between. */
export const DEPLOYMENT_NAMES = ['blue', 'green'] as const;

export interface AzureNames {
  /** The online endpoint: part of the scoring URI, unique in the region. */
  endpoint: string;
  /** The registered model's name; versions are numbered. */
  model: string;
  /** Triton's model name: the repository folder and the `/v2/models/<name>` path. */
  tritonModel: string;
  /** Blob folder (in the workspace's default datastore) under which repositories are uploaded. */
  blobRoot: string;
  tags: Record<string, string>;
}

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * An endpoint name from the config: lowercase `<name>-<stage>-<target>`; longer than Azure's 32
 * characters, it keeps 23 and adds 8 hex digits of the full name, so names stay distinct.
 */
export function azureEndpointName(name: string, stage: string, targetName: string): string {
  const full = `${name}-${stage}-${targetName}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/-$/, '');
  if (full.length <= 32) return full;
  return `${full.slice(0, 23).replace(/-+$/, '')}-${hash(full, 8)}`;
}

export function azureNames(params: { name: string; stage: string; targetName: string; target: Pick<AzureMlTargetConfig, 'endpointName'> }): AzureNames {
  const { name, stage, targetName, target } = params;
  const model = `${name}-${stage}-${targetName}`.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  return {
    endpoint: target.endpointName ?? azureEndpointName(name, stage, targetName),
    model,
    tritonModel: name,
    blobRoot: `deploy-model/${name}/${stage}/${targetName}`,
    tags: { [AZURE_TAG_KEYS.name]: name, [AZURE_TAG_KEYS.stage]: stage, [AZURE_TAG_KEYS.target]: targetName },
  };
}

/** Where one repository version is uploaded: content-addressed. */
export function azureBlobPrefix(names: AzureNames, repositoryDigest: string): string {
  return `${names.blobRoot}/${repositoryDigest.slice(0, 12)}`;
}

/** The datastore URI Azure ML registers a model from (the folder holding the Triton repository). */
export function azureModelUri(params: { subscriptionId: string; resourceGroup: string; workspace: string; datastore: string; path: string }): string {
  const { subscriptionId, resourceGroup, workspace, datastore, path } = params;
  return `azureml://subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/workspaces/${workspace}/datastores/${datastore}/paths/${path}/`;
}

/** Same deployment spec → nothing to change on redeploy. 12 hex digits. */
export function azureSpecHash(params: { repositoryDigest: string; instanceType: string; instanceCount: number; runtime: AzureRuntimeSettings }): string {
  return hash(JSON.stringify({ r: params.repositoryDigest, t: params.instanceType, c: params.instanceCount, s: params.runtime }), 12);
}

export interface AzureModelVersionBody {
  properties: { modelType: 'triton_model'; modelUri: string; description: string; tags: Record<string, string> };
}

/** A `triton_model` version: Azure ML runs Triton on the folder itself (no-code deployment). */
export function planModelVersion(names: AzureNames, modelUri: string, repositoryDigest: string): AzureModelVersionBody {
  return {
    properties: {
      modelType: 'triton_model',
      modelUri,
      description: `Triton model repository of '${names.tritonModel}', uploaded by deploy-model.`,
      tags: { ...names.tags, [AZURE_TAG_KEYS.repository]: repositoryDigest.slice(0, 12) },
    },
  };
}

/** The next version number: one more than the highest numeric version. */
export function nextModelVersion(existing: readonly string[]): string {
  const numbers = existing.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return String(numbers.length === 0 ? 1 : Math.max(...numbers) + 1);
}

export type AzureAuthMode = 'Key' | 'AMLToken';

export function armAuthMode(authMode: AzureMlTargetConfig['authMode']): AzureAuthMode {
  return authMode === 'aml_token' ? 'AMLToken' : 'Key';
}

export interface AzureEndpointBody {
  location: string;
  identity: { type: string };
  tags: Record<string, string>;
  properties: { authMode: AzureAuthMode; description: string; traffic: Record<string, number> };
}

export function planEndpoint(params: { names: AzureNames; location: string; authMode: AzureMlTargetConfig['authMode']; traffic: Record<string, number>; identityType?: string }): AzureEndpointBody {
  const { names, location, authMode, traffic } = params;
  return {
    location,
    identity: { type: params.identityType ?? 'SystemAssigned' },
    tags: { ...names.tags },
    properties: { authMode: armAuthMode(authMode), description: `deploy-model endpoint of '${names.tritonModel}'.`, traffic: { ...traffic } },
  };
}

export interface AzureDeploymentBody {
  location: string;
  tags: Record<string, string>;
  sku: { name: 'Default'; capacity: number };
  properties: {
    endpointComputeType: 'Managed';
    model: string;
    instanceType: string;
    scaleSettings: { scaleType: 'Default' };
    description: string;
  } & AzureRuntimeSettings;
}

export function planDeployment(params: { names: AzureNames; location: string; modelId: string; target: Pick<AzureMlTargetConfig, 'instanceType' | 'instanceCount'>; runtime: AzureRuntimeSettings; specHash: string }): AzureDeploymentBody {
  const { names, location, modelId, target, runtime, specHash } = params;
  return {
    location,
    tags: { ...names.tags, [AZURE_TAG_KEYS.spec]: specHash },
    sku: { name: 'Default', capacity: target.instanceCount },
    properties: {
      endpointComputeType: 'Managed',
      model: modelId,
      instanceType: target.instanceType,
      scaleSettings: { scaleType: 'Default' },
      livenessProbe: runtime.livenessProbe,
      readinessProbe: runtime.readinessProbe,
      requestSettings: runtime.requestSettings,
      description: `deploy-model version ${specHash} of '${names.tritonModel}'.`,
    },
  };
}

export interface ExistingDeployment {
  name: string;
  spec?: string;
  provisioningState?: string;
}

export type AzureRollout =
  | { kind: 'unchanged'; live: string }
  /**
   * Create `next` beside `live` with no traffic; `remove` are deployments without traffic (left
   * by an interrupted deploy) deleted before, so the new one gets a free name and quota.
   */
  | { kind: 'deploy'; next: string; live?: string; remove: string[]; previous: string[] };

export function planAzureRollout(params: { deployments: ExistingDeployment[]; traffic: Record<string, number>; specHash: string }): AzureRollout {
  const { deployments, traffic, specHash } = params;
  const serving = deployments.filter((d) => (traffic[d.name] ?? 0) > 0);
  const live = serving.length === 1 && traffic[serving[0].name] === 100 ? serving[0] : undefined;
  if (live && live.spec === specHash && (live.provisioningState ?? 'Succeeded') === 'Succeeded') return { kind: 'unchanged', live: live.name };
  const previous = serving.sort((a, b) => (traffic[b.name] ?? 0) - (traffic[a.name] ?? 0) || a.name.localeCompare(b.name)).map((d) => d.name);
  const liveName = previous[0];
  // Alternate blue and green; a hand-made split over both falls back to a third name.
  const next = [...DEPLOYMENT_NAMES, ...DEPLOYMENT_NAMES.map((n) => `${n}-2`)].find((n) => n !== liveName && !previous.includes(n))!;
  const remove = deployments.filter((d) => (traffic[d.name] ?? 0) === 0).map((d) => d.name).sort();
  return { kind: 'deploy', next, ...(liveName ? { live: liveName } : {}), remove, previous };
}

/** Triton's v2 infer URL behind an endpoint's scoring URI (which ends in `/score` for managed endpoints). */
export function azureInferUrl(scoringUri: string, tritonModel: string): string {
  const base = scoringUri.replace(/\/score\/?$/, '').replace(/\/+$/, '');
  return `${base}/v2/models/${encodeURIComponent(tritonModel)}/infer`;
}
