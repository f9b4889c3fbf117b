/** The gcp-vertex plan: names, the Triton container, resources, endpoints and rollout steps, as plain data. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { trafficPlan } from '../../config/rollout-schema.js';
import type { GpuRepositoryPlan } from '../../kits/triton/build-gpu-repository.js';
import { engineCacheLocation, planTritonConfig, type TritonModelConfig } from '../../kits/triton/index.js';
import { basePlan } from '../base-plan.js';
import { resourceName } from '../resource-name.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import { resolveVertexAccelerator } from './machine-types.js';
import type { GcpVertexTargetConfig } from './schema.js';

/*
 * The Vertex AI resources of one target, as plain data: request bodies in the shapes
 * `@google-cloud/aiplatform` takes (camelCase proto fields). Tested by equality; the driver only
 * sends them.
 */

/** Labels on every resource deploy-model creates, so the cloud is the state. */
export const VERTEX_LABEL_KEYS = { name: 'deploy-model-name', stage: 'deploy-model-stage', target: 'deploy-model-target', spec: 'deploy-model-spec' } as const;

/** Triton's HTTP port inside the container; Vertex AI sends health checks and predictions there. */
export const TRITON_HTTP_PORT = 8000;

export interface VertexNames {
  /** `projects/<project>/locations/<region>` */
  parent: string;
  /** `<name>-<stage>-<target>`: the endpoint's display name, and the base of the others. */
  base: string;
  /** Display name of the endpoint a new model is smoke-tested on before it joins the live one. */
  smokeEndpoint: string;
  /** Triton's model name: the repository folder and the `/v2/models/<name>` path. */
  tritonModel: string;
  /** `gs://bucket/prefix/deploy-model/<name>/<stage>/<target>` (no trailing slash). */
  stagingRoot: string;
  labels: Record<string, string>;
}

/** A label value: lowercase letters, digits, - and _, at most 63 characters. */
export function labelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 63);
}

export function vertexNames(params: { name: string; stage: string; targetName: string; target: Pick<GcpVertexTargetConfig, 'project' | 'region' | 'stagingBucket'> }): VertexNames {
  const { name, stage, targetName, target } = params;
  const base = resourceName(name, stage, targetName);
  const bucket = target.stagingBucket.replace(/\/+$/, '');
  return {
    parent: `projects/${target.project}/locations/${target.region}`,
    base,
    smokeEndpoint: `${base}-smoke`,
    tritonModel: name,
    stagingRoot: `${bucket}/deploy-model/${name}/${stage}/${targetName}`,
    labels: {
      [VERTEX_LABEL_KEYS.name]: labelValue(name),
      [VERTEX_LABEL_KEYS.stage]: labelValue(stage),
      [VERTEX_LABEL_KEYS.target]: labelValue(targetName),
    },
  };
}

export interface VertexContainerSpec {
  imageUri: string;
  args: string[];
  ports: Array<{ containerPort: number }>;
  healthRoute: string;
  predictRoute: string;
}

/**
 * The Triton container. Vertex AI starts it with AIP_MODE=PREDICTION, so NVIDIA's entrypoint runs
 * `tritonserver` with these arguments (docker/entrypoint.d/99-check-run-aip-mode.sh), and in that
 * mode Triton changes its defaults before it reads the command line: its Vertex AI front end on
 * (on AIP_HTTP_PORT), HTTP and GRPC off (triton-inference-server/server src/command_line_parser.cc,
 * `TritonParser::Parse`, "Step 1", the same on r24.09 to r25.09; Triton's own qa/L0_vertex_ai
 * passes `--allow-vertex-ai=false --allow-http=true` for this setup). So HTTP is turned back on
 * explicitly: without `--allow-http=true` nothing listens on port 8000 and the deployment never
 * passes Vertex AI's health check. The Vertex AI front end is turned off, since it would take the
 * same port: Vertex AI talks KServe v2 to Triton's HTTP server, which makes RawPredict bodies plain
 * v2 inference requests. Triton reads `gs://` repositories itself; `$(AIP_STORAGE_URI)` is Vertex
 * AI's copy of the model's artifact folder, expanded by Vertex AI as Kubernetes expands `args`.
 */
export function vertexContainerSpec(image: string, tritonModel: string): VertexContainerSpec {
  return {
    imageUri: image,
    args: [
      '--model-repository=$(AIP_STORAGE_URI)',
      '--allow-http=true',
      '--allow-vertex-ai=false',
      `--http-port=${TRITON_HTTP_PORT}`,
      '--allow-grpc=false',
      '--model-control-mode=none',
      '--exit-on-error=true',
    ],
    ports: [{ containerPort: TRITON_HTTP_PORT }],
    healthRoute: '/v2/health/ready',
    predictRoute: `/v2/models/${tritonModel}/infer`,
  };
}

export interface VertexDedicatedResources {
  machineSpec: { machineType: string; acceleratorType: string; acceleratorCount: number };
  minReplicaCount: number;
  maxReplicaCount: number;
}

export function vertexResources(target: Pick<GcpVertexTargetConfig, 'machineType' | 'accelerator' | 'minReplicas' | 'maxReplicas'>): VertexDedicatedResources {
  // The schema guarantees an accelerator here (given, or fixed by the machine type).
  const accelerator = resolveVertexAccelerator(target.machineType, target.accelerator)!;
  return {
    machineSpec: { machineType: target.machineType, acceleratorType: accelerator.type, acceleratorCount: accelerator.count },
    minReplicaCount: target.minReplicas,
    maxReplicaCount: target.maxReplicas ?? target.minReplicas,
  };
}

/**
 * What identifies one version: the repository's content and everything the deployed model is
 * made of. Equal specs mean a redeploy has nothing to change. 12 hex digits.
 */
export function vertexSpecHash(params: { repositoryDigest: string; container: VertexContainerSpec; resources: VertexDedicatedResources }): string {
  const text = JSON.stringify({ r: params.repositoryDigest, c: params.container, d: params.resources });
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Where this version's repository lives: content-addressed, so an identical build is not uploaded twice. */
export function vertexArtifactUri(names: VertexNames, repositoryDigest: string): string {
  return `${names.stagingRoot}/${repositoryDigest.slice(0, 12)}`;
}

export interface VertexModelSpec {
  displayName: string;
  description: string;
  artifactUri: string;
  containerSpec: VertexContainerSpec;
  labels: Record<string, string>;
}

export function planVertexModel(params: { names: VertexNames; specHash: string; artifactUri: string; container: VertexContainerSpec }): VertexModelSpec {
  const { names, specHash, artifactUri, container } = params;
  return {
    displayName: `${names.base}-${specHash}`,
    description: `Triton model repository of '${names.tritonModel}', deployed by deploy-model.`,
    artifactUri,
    containerSpec: container,
    labels: { ...names.labels, [VERTEX_LABEL_KEYS.spec]: specHash },
  };
}

export interface VertexDeployedModelSpec {
  model: string;
  displayName: string;
  dedicatedResources: VertexDedicatedResources;
}

export function planDeployedModel(params: { names: VertexNames; specHash: string; model: string; resources: VertexDedicatedResources }): VertexDeployedModelSpec {
  return { model: params.model, displayName: `${params.names.base}-${params.specHash}`, dedicatedResources: params.resources };
}

export interface VertexEndpointSpec {
  displayName: string;
  description: string;
  labels: Record<string, string>;
}

export function planVertexEndpoint(names: VertexNames, purpose: 'live' | 'smoke'): VertexEndpointSpec {
  return purpose === 'live'
    ? { displayName: names.base, description: `deploy-model endpoint of '${names.tritonModel}'.`, labels: { ...names.labels } }
    : { displayName: names.smokeEndpoint, description: `deploy-model smoke-test endpoint of '${names.tritonModel}'; empty between deploys.`, labels: { ...names.labels, 'deploy-model-purpose': 'smoke' } };
}

/** A deployed model as deploy-model sees it on an endpoint. */
export interface LiveDeployedModel {
  id: string;
  displayName: string;
  model: string;
  /** How it is deployed, as the endpoint lists it. @default - not read */
  dedicatedResources?: VertexDedicatedResources;
}

/**
 * Labels on the live endpoint that record the version a promote replaced, so `deploy-model
 * rollback` can deploy its Model (kept in the Model Registry) again with its own resources, with
 * no local state. Label values allow lowercase letters, digits, `-` and `_` only (Vertex AI,
 * "Labels": https://cloud.google.com/vertex-ai/docs/general/resource-labels), so the Model is
 * recorded by its id, the accelerator type in lowercase.
 */
export const VERTEX_PREVIOUS_LABELS = {
  model: 'deploy-model-previous-model',
  version: 'deploy-model-previous-version',
  machine: 'deploy-model-previous-machine',
  accelerator: 'deploy-model-previous-accelerator',
  accelerators: 'deploy-model-previous-accelerators',
  replicas: 'deploy-model-previous-replicas',
} as const;

/** What a promote records of the version it replaced. */
export interface VertexPreviousVersion {
  /** The Model's id, the last part of its resource name. */
  modelId: string;
  /** Its spec hash. */
  version: string;
  resources: VertexDedicatedResources;
}

/** The endpoint's labels with `previous` recorded, or with no previous version when undefined. */
export function withPreviousLabels(labels: Record<string, string>, previous: VertexPreviousVersion | undefined): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => !Object.values(VERTEX_PREVIOUS_LABELS).includes(k as never)));
  if (!previous) return kept;
  const { machineSpec, minReplicaCount, maxReplicaCount } = previous.resources;
  return {
    ...kept,
    [VERTEX_PREVIOUS_LABELS.model]: previous.modelId,
    [VERTEX_PREVIOUS_LABELS.version]: previous.version,
    [VERTEX_PREVIOUS_LABELS.machine]: machineSpec.machineType,
    [VERTEX_PREVIOUS_LABELS.accelerator]: machineSpec.acceleratorType.toLowerCase(),
    [VERTEX_PREVIOUS_LABELS.accelerators]: String(machineSpec.acceleratorCount),
    [VERTEX_PREVIOUS_LABELS.replicas]: `${minReplicaCount}-${maxReplicaCount}`,
  };
}

/** The previous version an endpoint's labels record, when they record a complete one. */
export function previousFromLabels(labels: Record<string, string>): VertexPreviousVersion | undefined {
  const L = VERTEX_PREVIOUS_LABELS;
  const replicas = /^(\d+)-(\d+)$/.exec(labels[L.replicas] ?? '');
  const count = Number(labels[L.accelerators]);
  if (!/^\d+$/.test(labels[L.model] ?? '') || !labels[L.version] || !labels[L.machine] || !labels[L.accelerator] || !(count >= 1) || !replicas) return undefined;
  return {
    modelId: labels[L.model]!,
    version: labels[L.version]!,
    resources: {
      machineSpec: { machineType: labels[L.machine]!, acceleratorType: labels[L.accelerator]!.toUpperCase(), acceleratorCount: count },
      minReplicaCount: Number(replicas[1]), maxReplicaCount: Number(replicas[2]),
    },
  };
}

/**
 * A traffic step's split: `percent` to the new deployed model (`newId`, or "0" for the one a
 * DeployModel call adds), the rest shared by the models serving in `before` in proportion to their
 * shares, rounded by largest remainder so that the split adds up to 100 as Vertex AI requires.
 */
export function shiftedSplit(before: Record<string, number>, newId: string, percent: number): Record<string, number> {
  const old = Object.entries(before).filter(([id, share]) => id !== newId && share > 0);
  const total = old.reduce((sum, [, share]) => sum + share, 0);
  const rest = 100 - percent;
  const exact = old.map(([id, share]) => ({ id, value: (share / total) * rest }));
  const split: Record<string, number> = Object.fromEntries(exact.map((e) => [e.id, Math.floor(e.value)]));
  let left = rest - Object.values(split).reduce((a, b) => a + b, 0);
  for (const e of [...exact].sort((a, b) => (b.value % 1) - (a.value % 1))) {
    if (left <= 0) break;
    split[e.id]! += 1;
    left--;
  }
  return { ...split, [newId]: percent };
}

export type VertexRollout =
  /** The live model already is this spec: smoke-test it, change nothing. */
  | { kind: 'unchanged'; live: LiveDeployedModel }
  /**
   * Nothing serves yet: deploy with all traffic and smoke-test through the endpoint. `stale` are
   * deployed models without traffic (left by an interrupted deploy), undeployed afterwards.
   */
  | { kind: 'first'; stale: LiveDeployedModel[] }
  /** Smoke-test on the smoke endpoint, deploy beside the live models at 0%, move traffic, undeploy these. */
  | { kind: 'replace'; previous: LiveDeployedModel[]; keepSplit: Record<string, number> };

/**
 * Decides how a deploy proceeds from what the live endpoint has. Vertex AI's v1 API routes
 * Predict and RawPredict by the traffic split only (no request can name a deployed model), so a
 * model at 0% cannot be reached on the live endpoint: a replacement is smoke-tested on a second
 * endpoint first.
 */
export function planVertexRollout(params: { names: VertexNames; specHash: string; deployed: LiveDeployedModel[]; trafficSplit: Record<string, number> }): VertexRollout {
  const { names, specHash, deployed, trafficSplit } = params;
  const wanted = `${names.base}-${specHash}`;
  const serving = deployed.filter((d) => (trafficSplit[d.id] ?? 0) > 0);
  if (serving.length === 1 && serving[0].displayName === wanted && trafficSplit[serving[0].id] === 100) return { kind: 'unchanged', live: serving[0] };
  if (serving.length === 0) return { kind: 'first', stale: deployed };
  return { kind: 'replace', previous: deployed, keepSplit: { ...trafficSplit, '0': 0 } };
}

/** The Triton release in an image tag such as `tritonserver:25.06-py3`, when the tag says it. */
export function imageTritonRelease(image: string): string | undefined {
  return /:(\d{2}\.\d{2})(-py3)?(-[a-z0-9-]+)?$/.exec(image)?.[1];
}

/** The version string reported for a deployed model: its spec hash. */
export function versionOf(displayName: string): string {
  const m = /-([0-9a-f]{12})$/.exec(displayName);
  return m ? m[1] : displayName;
}

export interface GcpVertexPlan extends TargetPlanBase {
  readonly type: 'gcp-vertex';
  readonly project: string;
  readonly region: string;
  readonly names: VertexNames;
  /** The release the Triton config is planned for. */
  readonly tritonVersion: string;
  /** The release the image's tag names, when it names one; a deploy warns when it differs from `tritonVersion`. */
  readonly imageTritonRelease?: string;
  /** The Model's container: the image, Triton's command line and Vertex AI's routes. */
  readonly container: VertexContainerSpec;
  /** Machine, GPU and replicas of each deployed model. */
  readonly resources: VertexDedicatedResources;
  /** config.pbtxt, as data. */
  readonly tritonConfig: TritonModelConfig;
  readonly repository: GpuRepositoryPlan;
  /** The endpoint that serves, and the one a replacement is smoke-tested on before it joins it. */
  readonly endpoints: { readonly live: VertexEndpointSpec; readonly smoke: VertexEndpointSpec };
  /** How long one long-running operation is waited for. */
  readonly operationTimeoutMs: number;
}

function vertexRolloutSteps(names: VertexNames): RolloutStep[] {
  const live = `'${names.base}'`;
  const smoke = `'${names.smokeEndpoint}'`;
  return [
    { phase: 'stage', action: `hash the version from the built repository's digest, the container and the resources; when the only model serving on ${live} already is that version, upload and deploy nothing and smoke-test it` },
    { phase: 'stage', action: `upload the repository to ${names.stagingRoot}/<digest> and the Model '${names.base}-<version>'` },
    { phase: 'stage', action: `first deploy (nothing serves): create the endpoint ${live} if needed, undeploy models without traffic, deploy the Model on it with 100% of the traffic` },
    { phase: 'stage', action: `replacement: deploy the Model alone on the endpoint ${smoke} (Vertex AI routes by traffic split only); ${live} is not touched` },
    { phase: 'smoke', action: `RawPredict on the endpoint holding the new model: ${live} on a first deploy, ${smoke} on a replacement` },
    { phase: 'promote', action: `replacement: undeploy it from ${smoke} and delete that endpoint, deploy it on ${live} at 0%, move 100% of the traffic to it, undeploy the previous models and delete their Models but the one of the version that served, kept in the Model Registry and recorded in the labels of ${live} for \`deploy-model rollback\` (a first deploy already serves)` },
    { phase: 'rollback', action: `first deploy: undeploy the new model and delete its Model; nothing serves. Replacement: clear and delete ${smoke}, delete the Model; ${live} never changed` },
  ];
}

/** The steps of a canary or linear rollout: the traffic split of the live endpoint, step by step. */
function vertexTrafficSteps(names: VertexNames, traffic: NonNullable<ReturnType<typeof trafficPlan>>, base: readonly RolloutStep[]): RolloutStep[] {
  const live = `'${names.base}'`;
  const smoke = `'${names.smokeEndpoint}'`;
  const { alarms } = traffic;
  return [
    ...base.filter((s) => s.phase !== 'promote' && s.phase !== 'rollback'),
    ...traffic.percents.map((p, i): RolloutStep => ({
      phase: 'promote',
      action: `${i === 0 ? `deploy the new model on ${live} beside the serving one with the trafficSplit` : `update the trafficSplit of ${live} to`} {new: ${p}, previous: ${100 - p}} (Vertex AI routes Predict and RawPredict by it); after ${traffic.intervalSeconds} s, smoke-test the new model on ${smoke} and send ${alarms.probeRequests} RawPredict requests to ${live} (error rate <= ${alarms.maxErrorRate}${alarms.maxP99LatencyMs ? `, p99 <= ${alarms.maxP99LatencyMs} ms` : ''})`,
    })),
    { phase: 'promote', action: `set the trafficSplit of ${live} to {new: 100}, undeploy the model from ${smoke} and delete that endpoint, undeploy the previous models; the Model of the version that served is kept in the Model Registry and recorded in the labels of ${live} for \`deploy-model rollback\`` },
    { phase: 'rollback', action: `a failed step: set the trafficSplit of ${live} back to the previous models alone, undeploy the new model from ${live} and ${smoke}, delete ${smoke} and the new Model` },
  ];
}

export function planGcpVertex(input: PlanInput<GcpVertexTargetConfig>): GcpVertexPlan {
  const { config, stage, targetName, target, signature, rootDir } = input;
  const names = vertexNames({ name: config.name, stage, targetName, target });
  const tritonConfig = planTritonConfig({
    signature, modelName: names.tritonModel, host: 'gcp-vertex', batching: config.model.batching, inputShapes: config.model.inputs, options: target, runtime: config.runtime,
  });
  const release = imageTritonRelease(target.image);
  const base = basePlan(input, vertexRolloutSteps(names));
  const traffic = trafficPlan(target.rollout);
  return {
    ...base,
    ...(traffic ? { rollout: { strategy: target.rollout!.strategy, steps: vertexTrafficSteps(names, traffic, base.rollout.steps), traffic } } : {}),
    type: 'gcp-vertex',
    project: target.project,
    region: target.region,
    names,
    tritonVersion: target.tritonVersion,
    ...(release ? { imageTritonRelease: release } : {}),
    container: vertexContainerSpec(target.image, names.tritonModel),
    resources: vertexResources(target),
    tritonConfig,
    repository: {
      engineCacheDir: target.engine === 'tensorrt' ? engineCacheLocation('gcp-vertex', names.tritonModel, target).repositoryDir : null,
      ...(target.int8Calibration ? { int8CalibrationTable: path.resolve(rootDir, target.int8Calibration.table) } : {}),
    },
    endpoints: { live: planVertexEndpoint(names, 'live'), smoke: planVertexEndpoint(names, 'smoke') },
    operationTimeoutMs: target.operationTimeoutMinutes * 60_000,
  };
}

/** One version of the plan: what the built repository's digest adds to it. */
export interface VertexVersion {
  /** The version: 12 hex digits over the repository, the container and the resources. */
  specHash: string;
  artifactUri: string;
  model: VertexModelSpec;
  /** The deployed model's display name, `<base>-<specHash>`. */
  deployedModelName: string;
}

/** The version a build of the plan makes: computed where the repository's digest is known (stage, synth, diff). */
export function vertexVersion(plan: Pick<GcpVertexPlan, 'names' | 'container' | 'resources'>, repositoryDigest: string): VertexVersion {
  const specHash = vertexSpecHash({ repositoryDigest, container: plan.container, resources: plan.resources });
  const artifactUri = vertexArtifactUri(plan.names, repositoryDigest);
  const model = planVertexModel({ names: plan.names, specHash, artifactUri, container: plan.container });
  return { specHash, artifactUri, model, deployedModelName: `${plan.names.base}-${specHash}` };
}
