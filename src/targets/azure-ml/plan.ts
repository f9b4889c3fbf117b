/** The azure-ml plan: names, the runtime settings, the Triton config, the endpoint and deployment bodies, the rollout steps. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { trafficPlan, type TrafficPlan } from '../../config/rollout-schema.js';
import type { GpuRepositoryPlan } from '../../kits/triton/build-gpu-repository.js';
import { engineCacheLocation, planTritonConfig, type TritonModelConfig } from '../../kits/triton/index.js';
import { basePlan } from '../base-plan.js';
import { resourceName } from '../resource-name.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import { planRuntimeSettings, type AzureRuntimeSettings } from './runtime-settings.js';
import type { AzureMlTargetConfig } from './schema.js';
import { tritonOptionsOf } from './triton-options-of.js';

/*
 * The Azure ML resources of one target as plain data, in the shapes `@azure/arm-machinelearning`
 * takes. Tested by equality; the driver only sends them.
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
  const full = resourceName(name, stage, targetName).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/-$/, '');
  if (full.length <= 32) return full;
  return `${full.slice(0, 23).replace(/-+$/, '')}-${hash(full, 8)}`;
}

export function azureNames(params: { name: string; stage: string; targetName: string; target: Pick<AzureMlTargetConfig, 'endpointName'> }): AzureNames {
  const { name, stage, targetName, target } = params;
  const model = resourceName(name, stage, targetName).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
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

/**
 * Tags on the endpoint that record the deployment a promote replaced, so that `deploy-model
 * rollback` can create it again: Azure ML bills a managed online deployment for every instance,
 * and keeps none at 0 instances, so the previous deployment is deleted and its definition kept.
 * Its model version stays registered. One tag a field: ARM tag values hold at most 256
 * characters (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
 */
export const AZURE_PREVIOUS_TAGS = {
  deployment: 'deploy-model-previous',
  spec: 'deploy-model-previous-spec',
  modelVersion: 'deploy-model-previous-model-version',
  instanceType: 'deploy-model-previous-instance-type',
  instanceCount: 'deploy-model-previous-instance-count',
  livenessProbe: 'deploy-model-previous-liveness-probe',
  readinessProbe: 'deploy-model-previous-readiness-probe',
  requestSettings: 'deploy-model-previous-request-settings',
} as const;

/** What a promote records of the deployment it replaced: enough to create it again. */
export interface AzurePreviousDeployment {
  name: string;
  spec: string;
  modelVersion: string;
  instanceType: string;
  instanceCount: number;
  runtime: AzureRuntimeSettings;
}

/** `tags` with `previous` recorded, or with no previous deployment when undefined. */
export function withPreviousTags(tags: Record<string, string>, previous: AzurePreviousDeployment | undefined): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(tags).filter(([k]) => !Object.values(AZURE_PREVIOUS_TAGS).includes(k as never)));
  if (!previous) return kept;
  const T = AZURE_PREVIOUS_TAGS;
  return {
    ...kept,
    [T.deployment]: previous.name, [T.spec]: previous.spec, [T.modelVersion]: previous.modelVersion,
    [T.instanceType]: previous.instanceType, [T.instanceCount]: String(previous.instanceCount),
    [T.livenessProbe]: JSON.stringify(previous.runtime.livenessProbe), [T.readinessProbe]: JSON.stringify(previous.runtime.readinessProbe),
    [T.requestSettings]: JSON.stringify(previous.runtime.requestSettings),
  };
}

/** The previous deployment an endpoint's tags record, when they record a complete one. */
export function previousFromTags(tags: Record<string, string>): AzurePreviousDeployment | undefined {
  const T = AZURE_PREVIOUS_TAGS;
  const parse = (key: string) => { try { return JSON.parse(tags[key] ?? '') as unknown; } catch { return undefined; } };
  const [liveness, readiness, request] = [parse(T.livenessProbe), parse(T.readinessProbe), parse(T.requestSettings)];
  const count = Number(tags[T.instanceCount]);
  if (!tags[T.deployment] || !tags[T.spec] || !tags[T.modelVersion] || !tags[T.instanceType] || !(count >= 1) || !liveness || !readiness || !request) return undefined;
  return {
    name: tags[T.deployment]!, spec: tags[T.spec]!, modelVersion: tags[T.modelVersion]!, instanceType: tags[T.instanceType]!, instanceCount: count,
    runtime: { livenessProbe: liveness, readinessProbe: readiness, requestSettings: request } as AzureRuntimeSettings,
  };
}

/** The ARM id of a version of the target's registered model. */
export function azureModelVersionId(plan: Pick<AzureMlPlan, 'subscriptionId' | 'resourceGroup' | 'workspace' | 'names'>, version: string): string {
  return `/subscriptions/${plan.subscriptionId}/resourceGroups/${plan.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${plan.workspace}/models/${plan.names.model}/versions/${version}`;
}

/**
 * A traffic step's map: `percent` to the new deployment, the rest shared by the deployments
 * serving in `before` in proportion to their shares, rounded by largest remainder so that the map
 * adds up to 100 as Azure requires.
 */
export function shiftedTraffic(before: Record<string, number>, next: string, percent: number): Record<string, number> {
  const old = Object.entries(before).filter(([name, share]) => name !== next && share > 0);
  const total = old.reduce((sum, [, share]) => sum + share, 0);
  const exact = old.map(([name, share]) => ({ name, value: (share / total) * (100 - percent) }));
  const traffic: Record<string, number> = Object.fromEntries(exact.map((e) => [e.name, Math.floor(e.value)]));
  let left = 100 - percent - Object.values(traffic).reduce((a, b) => a + b, 0);
  for (const e of [...exact].sort((a, b) => (b.value % 1) - (a.value % 1))) {
    if (left-- <= 0) break;
    traffic[e.name]! += 1;
  }
  return { ...traffic, [next]: percent };
}

/** The online endpoint's body without its location, which is the workspace's, read when the endpoint is created. */
export interface AzureEndpointSpec {
  identity: { type: string };
  tags: Record<string, string>;
  properties: { authMode: AzureAuthMode; description: string; traffic: Record<string, number> };
}

export interface AzureEndpointBody extends AzureEndpointSpec {
  location: string;
}

/** The endpoint as created: no traffic until a deployment passed its smoke test. */
export function planEndpoint(params: { names: AzureNames; authMode: AzureMlTargetConfig['authMode'] }): AzureEndpointSpec {
  const { names, authMode } = params;
  return {
    identity: { type: 'SystemAssigned' },
    tags: { ...names.tags },
    properties: { authMode: armAuthMode(authMode), description: `deploy-model endpoint of '${names.tritonModel}'.`, traffic: {} },
  };
}

/**
 * The body a PUT of the endpoint sends: the planned spec in `location` with `traffic`. An
 * existing endpoint keeps its identity type, since a PUT would otherwise change it.
 */
export function endpointBody(spec: AzureEndpointSpec, params: { location: string; traffic: Record<string, number>; identityType?: string; previous?: AzurePreviousDeployment }): AzureEndpointBody {
  return {
    location: params.location,
    identity: { type: params.identityType ?? spec.identity.type },
    tags: withPreviousTags(spec.tags, params.previous),
    properties: { ...spec.properties, traffic: { ...params.traffic } },
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

export interface AzureMlPlan extends TargetPlanBase {
  readonly type: 'azure-ml';
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly names: AzureNames;
  /** The config's auth mode; the endpoint's body carries Azure's spelling. */
  readonly authMode: AzureMlTargetConfig['authMode'];
  readonly instanceType: string;
  readonly instanceCount: number;
  /** The deployment's probes and request settings. */
  readonly runtime: AzureRuntimeSettings;
  /** config.pbtxt, as data. */
  readonly tritonConfig: TritonModelConfig;
  readonly repository: GpuRepositoryPlan;
  /** The endpoint's body; its location is the workspace's, read at stage. */
  readonly endpoint: AzureEndpointSpec;
  /** How long one long-running operation is waited for. */
  readonly operationTimeoutMs: number;
}

function azureRolloutSteps(names: AzureNames, target: Pick<AzureMlTargetConfig, 'instanceType' | 'instanceCount'>): RolloutStep[] {
  const ep = `'${names.endpoint}'`;
  return [
    { phase: 'stage', action: `hash the version from the built repository's digest, the instance type and count and the runtime settings; when the deployment with all the traffic of ${ep} already is that version, upload and create nothing and smoke-test it` },
    { phase: 'stage', action: `upload the repository to the workspace's default datastore under ${names.blobRoot}/<digest> and register it as a triton_model version of '${names.model}' (a version holding the same repository is reused)` },
    { phase: 'stage', action: `create the online endpoint ${ep} in the workspace's region if it does not exist, and delete its deployments without traffic` },
    { phase: 'stage', action: `create the new deployment (blue or green, whichever does not serve) on ${target.instanceCount} x ${target.instanceType}, without traffic` },
    { phase: 'smoke', action: `call the scoring URI of ${ep} with the header azureml-model-deployment: <new deployment>, which routes to it whatever the traffic` },
    { phase: 'promote', action: `move 100% of the traffic of ${ep} to the new deployment, recording the previous one's definition in the tags of ${ep} for \`deploy-model rollback\`, then delete the previous one (its model version stays registered)` },
    { phase: 'rollback', action: 'delete the new deployment; the traffic never moved' },
  ];
}

/** The steps of a canary or linear rollout: the endpoint's traffic map, step by step. */
function azureTrafficSteps(names: AzureNames, traffic: TrafficPlan, base: readonly RolloutStep[]): RolloutStep[] {
  const ep = `'${names.endpoint}'`;
  const { alarms } = traffic;
  return [
    ...base.filter((s) => s.phase !== 'promote' && s.phase !== 'rollback'),
    ...traffic.percents.map((p): RolloutStep => ({
      phase: 'promote',
      action: `PUT ${ep} with the traffic {new: ${p}, previous: ${100 - p}} (scoring requests without azureml-model-deployment are routed by it); after ${traffic.intervalSeconds} s, smoke-test the new deployment through the header and send ${alarms.probeRequests} requests to the scoring URI without it (error rate <= ${alarms.maxErrorRate}${alarms.maxP99LatencyMs ? `, p99 <= ${alarms.maxP99LatencyMs} ms` : ''})`,
    })),
    { phase: 'promote', action: `PUT ${ep} with the traffic {new: 100}, recording the previous deployment's definition in its tags for \`deploy-model rollback\`, then delete the previous deployment (its model version stays registered)` },
    { phase: 'rollback', action: `a failed step: PUT ${ep} with the traffic it had before the steps, then delete the new deployment` },
  ];
}

export function planAzureMl(input: PlanInput<AzureMlTargetConfig>): AzureMlPlan {
  const { config, stage, targetName, target, signature, rootDir } = input;
  const names = azureNames({ name: config.name, stage, targetName, target });
  const triton = tritonOptionsOf(target);
  const tritonConfig = planTritonConfig({
    signature, modelName: names.tritonModel, host: 'azure-ml', batching: config.model.batching, inputShapes: config.model.inputs, options: triton, runtime: config.runtime,
  });
  const base = basePlan(input, azureRolloutSteps(names, target));
  const traffic = trafficPlan(target.rollout);
  return {
    ...base,
    ...(traffic ? { rollout: { strategy: target.rollout!.strategy, steps: azureTrafficSteps(names, traffic, base.rollout.steps), traffic } } : {}),
    type: 'azure-ml',
    subscriptionId: target.subscriptionId,
    resourceGroup: target.resourceGroup,
    workspace: target.workspace,
    names,
    authMode: target.authMode,
    instanceType: target.instanceType,
    instanceCount: target.instanceCount,
    runtime: planRuntimeSettings(target, config.model.batching?.maxBatchSize),
    tritonConfig,
    repository: {
      engineCacheDir: target.engine === 'tensorrt' ? engineCacheLocation('azure-ml', names.tritonModel, triton).repositoryDir : null,
      ...(target.int8Calibration ? { int8CalibrationTable: path.resolve(rootDir, target.int8Calibration.table) } : {}),
    },
    endpoint: planEndpoint({ names, authMode: target.authMode }),
    operationTimeoutMs: target.operationTimeoutMinutes * 60_000,
  };
}

/** One version of the plan: what the built repository's digest adds to it. */
export interface AzureVersion {
  /** The version: 12 hex digits over the repository, the instances and the runtime settings. */
  specHash: string;
  /** Where the repository is uploaded in the default datastore. */
  blobPath: string;
  /** The model version's tag naming the repository, by which a version is reused. */
  repositoryTag: string;
}

/** The version a build of the plan makes: computed where the repository's digest is known (stage, synth, diff). */
export function azureVersion(plan: Pick<AzureMlPlan, 'names' | 'instanceType' | 'instanceCount' | 'runtime'>, repositoryDigest: string): AzureVersion {
  return {
    specHash: azureSpecHash({ repositoryDigest, instanceType: plan.instanceType, instanceCount: plan.instanceCount, runtime: plan.runtime }),
    blobPath: azureBlobPrefix(plan.names, repositoryDigest),
    repositoryTag: repositoryDigest.slice(0, 12),
  };
}
