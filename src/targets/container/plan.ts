/** The container target's plan: the image, its environment, the manifests and the rollout, resolved once as plain data. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { trafficPlan, type TrafficPlan } from '../../config/rollout-schema.js';
import { basePlan } from '../base-plan.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import { builderOrder, type Platform } from './builders.js';
import { imageEnv } from './dockerfile.js';
import { defaultBaseImage, ENGINE_UID, needsGpu } from './engines.js';
import { planManifests, READY_PATH, resolveKserve, type GpuScheduling, type Manifests } from './manifests.js';
import { planOvmsConfig, type OvmsPlan } from './openvino-config.js';
import type { ContainerBuilderName, ContainerContract, ContainerEngine, ContainerTargetConfig } from './schema.js';
import { planContainerTriton, resolveTritonOptions, type ContainerTritonPlan } from './triton-plan.js';

type Architecture = NonNullable<ContainerTargetConfig['architecture']>;

export const PLATFORM: Record<Architecture, Platform> = { x86_64: 'linux/amd64', arm64: 'linux/arm64' };
export const ARCHITECTURE: Record<Platform, Architecture> = { 'linux/amd64': 'x86_64', 'linux/arm64': 'arm64' };

/** The platforms a target builds: `platforms`, else the one of `architecture` (x86_64 by default). */
export function targetPlatforms(target: Pick<ContainerTargetConfig, 'platforms' | 'architecture'>): Platform[] {
  return target.platforms ? [...target.platforms] : [PLATFORM[target.architecture ?? 'x86_64']];
}

/** The GPU scheduling of the pod: `gpu` with its defaults for a GPU engine, none for a CPU engine. */
export function resolveGpu(target: Pick<ContainerTargetConfig, 'engine' | 'gpu'>): GpuScheduling | undefined {
  if (target.gpu === false) return undefined;
  if (target.gpu) return { ...target.gpu, tolerations: target.gpu.tolerations.map((t) => ({ ...t })), nodeSelector: { ...target.gpu.nodeSelector } };
  if (!needsGpu(target.engine)) return undefined;
  return { count: 1, resource: 'nvidia.com/gpu', nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] };
}

/** Stands for the content tag in the planned manifests until the build knows it. */
export const CONTENT_TAG_PLACEHOLDER = '<content-tag>';

/** How the content tag is made; `writeBuildContext` computes it. */
export const CONTENT_TAG_RULE =
  "the first 12 hex digits of the sha256 over the build context (each file's path, mode and content, in path order); computed at build";

export interface ContainerImagePlan {
  /** The config's name: the model's name in the v2 routes. */
  readonly modelName: string;
  /** Where the image is tagged: `push`, or `localhost/<name>` when it stays local. */
  readonly repository: string;
  /** The content tag, known only once the build has hashed the context: its rule here. */
  readonly contentTag: { readonly length: 12; readonly rule: string };
  /** Tags besides the content tag (`tag`). @default - none */
  readonly extraTags: readonly string[];
  /** Pushed to `repository` on promote. */
  readonly push: boolean;
  readonly baseImage: string;
  /** The first platform's architecture (the only one of a single-platform image). */
  readonly architecture: Architecture;
  /** The first platform: the one a single-platform image is built for. */
  readonly platform: Platform;
  /** Every platform built; more than one makes a manifest list under the same tags. */
  readonly platforms: readonly Platform[];
}

export interface ContainerPlan extends TargetPlanBase {
  readonly type: 'container';
  readonly engine: ContainerEngine;
  readonly image: ContainerImagePlan;
  /** The uid the server runs as (the image's USER and the pods' runAsUser). */
  readonly uid: number;
  /** Engine 'triton': the generated repository's configuration, the engine cache, how Triton starts. */
  readonly triton?: ContainerTritonPlan;
  /** Engine 'openvino': OVMS's config.json, where the model sits, the flags for KServe's runtime. */
  readonly openvino?: OvmsPlan;
  /** GPUs per pod and the node pool (engine 'triton'). */
  readonly gpu?: GpuScheduling;
  /** The image's ENV: the serving variables (`servingEnv`, entry 'server') and the image's own (contract, paths, port). */
  readonly environment: Readonly<Record<string, string>>;
  readonly contract: ContainerContract;
  /** The port the server listens on inside the container. */
  readonly port: number;
  /** The builders stage tries, in order; the first that works builds and runs the image. */
  readonly builder: { readonly preferred?: ContainerBuilderName; readonly order: readonly ContainerBuilderName[] };
  /** How stage runs the image for the smoke test: published on loopback only, on a free port. */
  readonly run: {
    readonly host: '127.0.0.1'; readonly containerPort: number; readonly readyPath: string; readonly readyTimeoutMs: number; readonly namePrefix: string;
    /** The run needs the host's GPUs (engine 'triton'). */
    readonly gpu: boolean;
    /** Writable folders the server needs where the pod mounts a volume (the engine cache). @default - none */
    readonly tmpfs: readonly string[];
  };
  /**
   * The Kubernetes and KServe objects written under `k8s/`. Their image is `image`, the repository
   * with CONTENT_TAG_PLACEHOLDER, which the build replaces with the content tag.
   */
  readonly manifests: { readonly dir: 'k8s'; readonly image: string; readonly objects: Manifests };
}

/** Pure: the same input gives an equal plan, and nothing is read or written. */
export function planContainer(input: PlanInput<ContainerTargetConfig>): ContainerPlan {
  const { config, target } = input;
  const repository = target.push ?? `localhost/${config.name}`;
  const extraTags = target.tag ? [target.tag] : [];
  const placeholderRef = `${repository}:${CONTENT_TAG_PLACEHOLDER}`;
  const order = builderOrder(target.builder, true);
  const platforms = targetPlatforms(target);
  const platform = platforms[0]!;
  const gpu = resolveGpu(target);
  const engine = target.engine;
  const tritonOptions = engine === 'triton' ? resolveTritonOptions(target) : undefined;
  const baseImage = target.baseImage ?? defaultBaseImage(engine, tritonOptions?.tritonVersion);
  const triton = tritonOptions ? planContainerTriton({
    signature: input.signature, modelName: config.name, batching: config.model.batching, inputShapes: config.model.inputs,
    runtime: config.runtime, options: tritonOptions, port: target.port, rootDir: input.rootDir,
  }) : undefined;
  const openvino = engine === 'openvino' ? planOvmsConfig({
    signature: input.signature, modelName: config.name, batching: config.model.batching, inputShapes: config.model.inputs,
    runtime: config.runtime, options: target.openvino,
  }) : undefined;
  const traffic = trafficPlan(target.rollout);
  const base = basePlan(input, rolloutSteps({ repository, extraTags, push: target.push !== undefined, order, platforms, engine }));
  const uid = ENGINE_UID[engine];
  const kserveMode = resolveKserve(target.kserve, gpu)?.mode;
  return {
    ...base,
    ...(traffic ? { rollout: { strategy: target.rollout!.strategy, steps: trafficSteps(base.rollout.steps, traffic, kserveMode), traffic } } : {}),
    type: 'container',
    engine,
    image: {
      modelName: config.name,
      repository,
      contentTag: { length: 12, rule: CONTENT_TAG_RULE },
      extraTags,
      push: target.push !== undefined,
      baseImage,
      architecture: ARCHITECTURE[platform],
      platform,
      platforms,
    },
    uid,
    ...(triton ? { triton } : {}),
    ...(openvino ? { openvino } : {}),
    ...(gpu ? { gpu } : {}),
    // runtime.*, the pool and batching settings travel in the Node server's env (DM_EXECUTION_PROVIDERS, DM_MAX_BATCH_SIZE, ...);
    // Triton and OVMS read theirs from config.pbtxt and config.json.
    environment: engine === 'onnxruntime'
      ? imageEnv({
        baseImage, modelName: config.name, port: target.port, contract: target.contract,
        serverEnv: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model.inputs, batching: config.model.batching, entry: 'server' }),
      })
      : { HOME: '/tmp' },
    contract: target.contract,
    port: target.port,
    builder: { ...(target.builder ? { preferred: target.builder } : {}), order },
    run: {
      host: '127.0.0.1', containerPort: target.port, readyPath: READY_PATH,
      readyTimeoutMs: triton ? triton.startupBudgetSeconds * 1000 : engine === 'openvino' ? 120_000 : 60_000,
      namePrefix: base.resourceName, gpu: gpu !== undefined && gpu.count > 0, tmpfs: triton?.engineCache ? [triton.engineCache.path] : [],
    },
    manifests: {
      dir: 'k8s', image: placeholderRef,
      objects: planManifests({
        name: config.name, image: placeholderRef, target, engine, uid,
        ...(gpu ? { gpu } : {}),
        ...(triton?.engineCache ? { engineCache: triton.engineCache } : {}),
        ...(triton ? { startupBudgetSeconds: triton.startupBudgetSeconds, command: triton.command } : {}),
        ...(openvino ? { runtimeArgs: openvino.args } : {}),
        ...(traffic ? { canaryTrafficPercent: traffic.percents[0]! } : {}),
      }),
    },
  };
}

function rolloutSteps(image: { repository: string; extraTags: readonly string[]; push: boolean; order: readonly ContainerBuilderName[]; platforms: readonly Platform[]; engine: ContainerEngine }): RolloutStep[] {
  const refs = [`${image.repository}:${CONTENT_TAG_PLACEHOLDER}`, ...image.extraTags.map((t) => `${image.repository}:${t}`)].join(' and ');
  const builder = image.order.length === 1 ? image.order[0] : `the first of ${image.order.join(', ')} that works`;
  const multi = image.platforms.length > 1;
  const gpu = needsGpu(image.engine);
  // The Node image's native files are ours (onnxruntime-node); Triton's and OVMS's come with their base.
  const elf = image.engine === 'onnxruntime' ? ', and check the architecture of every ELF file it ships' : '';
  return [
    ...(gpu ? [{ phase: 'stage' as const, action: 'check that this machine has a GPU container runtime (NVIDIA Container Toolkit: CDI for podman, the nvidia runtime for docker); without one, stop and say what could not be checked' }] : []),
    multi
      ? { phase: 'stage', action: `build one image per platform (${image.platforms.join(', ')}) from its build context with ${builder}, tagged ${image.repository}:${CONTENT_TAG_PLACEHOLDER}-<arch>${elf}` }
      : { phase: 'stage', action: `build the image from the build context with ${builder}, tagged ${refs}${elf}` },
    { phase: 'stage', action: `run ${multi ? 'the image of this machine\'s platform' : 'it'} on 127.0.0.1 (a free port${gpu ? ', with the GPUs' : ''}) and wait for ${READY_PATH}` },
    ...(multi ? [{ phase: 'stage' as const, action: 'run each other platform\'s image where this machine can (natively or under qemu-user emulation) and compare its answer to the smoke request with the first; where it cannot run, say so' }] : []),
    {
      phase: 'smoke',
      action: image.push
        ? 'call its v2 infer route on 127.0.0.1; when the last deploy pushed these same tags, the image is unchanged: its run stops after the smoke test and nothing is pushed'
        : 'call its v2 infer route on 127.0.0.1',
    },
    {
      phase: 'promote',
      action: image.push
        ? `stop the run, push ${multi ? `a manifest list of the platform images as ${refs}` : refs}, record the image and write the manifests under k8s/`
        : 'stop the run, record the image and write the manifests under k8s/; the image stays local (set push to publish it)',
    },
    { phase: 'rollback', action: 'stop the run and remove the new image; nothing is pushed' },
  ];
}

/**
 * A canary or linear rollout's steps: here, the recorded image and the new one run side by side
 * behind a weighted front on 127.0.0.1 whose weights each traffic step sets; in the cluster,
 * KServe's canaryTrafficPercent, which nothing promotes by itself.
 */
function trafficSteps(steps: readonly RolloutStep[], traffic: TrafficPlan, kserveMode: string | undefined): RolloutStep[] {
  const alarms = `error rate <= ${traffic.alarms.maxErrorRate}${traffic.alarms.maxP99LatencyMs ? `, p99 <= ${traffic.alarms.maxP99LatencyMs} ms` : ''}`;
  const kserve = kserveMode === 'raw'
    ? 'the InferenceService carries no canaryTrafficPercent (KServe splits traffic in serverless mode only)'
    : `the InferenceService carries canaryTrafficPercent: ${traffic.percents[0]}, for KServe to step by \`kubectl patch\` (docs/kubernetes.md)`;
  return [
    ...steps.filter((s) => s.phase !== 'promote' && s.phase !== 'rollback'),
    { phase: 'stage', action: 'when an image of this target is recorded (and still in local storage), run it too, and put a weighted front on 127.0.0.1 before both, all requests on the recorded image; a first deploy has nothing to split with and promotes after the smoke test' },
    ...traffic.percents.map((p): RolloutStep => ({ phase: 'promote', action: `set the front's weights to ${p} % of the requests on the new image (smooth weighted round-robin); after ${traffic.intervalSeconds} s, smoke-test the new image and send ${traffic.alarms.probeRequests} requests through the front (${alarms})` })),
    { phase: 'promote', action: `stop the front and the recorded image's run, then as all at once: stop the new image's run, ${steps.find((s) => s.phase === 'promote')?.action.replace(/^stop the run, /, '') ?? 'record the image'}; ${kserve}` },
    { phase: 'rollback', action: "a failed step: the front's weights go back to the recorded image alone, then the front, both runs and the new image go; the record and the manifests under k8s/ still name the recorded image" },
  ];
}
