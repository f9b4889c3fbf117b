/** The container target's plan: the image, its environment, the manifests and the rollout, resolved once as plain data. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { basePlan } from '../base-plan.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import { builderOrder, type Platform } from './builders.js';
import { imageEnv } from './dockerfile.js';
import { planManifests, READY_PATH, type Manifests } from './manifests.js';
import type { ContainerBuilderName, ContainerContract, ContainerTargetConfig } from './schema.js';

export const PLATFORM: Record<ContainerTargetConfig['architecture'], Platform> = { x86_64: 'linux/amd64', arm64: 'linux/arm64' };

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
  readonly architecture: ContainerTargetConfig['architecture'];
  readonly platform: Platform;
}

export interface ContainerPlan extends TargetPlanBase {
  readonly type: 'container';
  readonly engine: ContainerTargetConfig['engine'];
  readonly image: ContainerImagePlan;
  /** The image's ENV: the serving variables (`servingEnv`, entry 'server') and the image's own (contract, paths, port). */
  readonly environment: Readonly<Record<string, string>>;
  readonly contract: ContainerContract;
  /** The port the server listens on inside the container. */
  readonly port: number;
  /** The builders stage tries, in order; the first that works builds and runs the image. */
  readonly builder: { readonly preferred?: ContainerBuilderName; readonly order: readonly ContainerBuilderName[] };
  /** How stage runs the image for the smoke test: published on loopback only, on a free port. */
  readonly run: { readonly host: '127.0.0.1'; readonly containerPort: number; readonly readyPath: string; readonly readyTimeoutMs: number; readonly namePrefix: string };
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
  const base = basePlan(input, rolloutSteps({ repository, extraTags, push: target.push !== undefined, order }));
  return {
    ...base,
    type: 'container',
    engine: target.engine,
    image: {
      modelName: config.name,
      repository,
      contentTag: { length: 12, rule: CONTENT_TAG_RULE },
      extraTags,
      push: target.push !== undefined,
      baseImage: target.baseImage,
      architecture: target.architecture,
      platform: PLATFORM[target.architecture],
    },
    // runtime.*, the pool and batching settings travel in the image's env (DM_EXECUTION_PROVIDERS, DM_MAX_BATCH_SIZE, ...).
    environment: imageEnv({
      baseImage: target.baseImage, modelName: config.name, port: target.port, contract: target.contract,
      serverEnv: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model.inputs, batching: config.model.batching, entry: 'server' }),
    }),
    contract: target.contract,
    port: target.port,
    builder: { ...(target.builder ? { preferred: target.builder } : {}), order },
    run: { host: '127.0.0.1', containerPort: target.port, readyPath: READY_PATH, readyTimeoutMs: 60_000, namePrefix: base.resourceName },
    manifests: { dir: 'k8s', image: placeholderRef, objects: planManifests({ name: config.name, image: placeholderRef, target }) },
  };
}

function rolloutSteps(image: { repository: string; extraTags: readonly string[]; push: boolean; order: readonly ContainerBuilderName[] }): RolloutStep[] {
  const refs = [`${image.repository}:${CONTENT_TAG_PLACEHOLDER}`, ...image.extraTags.map((t) => `${image.repository}:${t}`)].join(' and ');
  const builder = image.order.length === 1 ? image.order[0] : `the first of ${image.order.join(', ')} that works`;
  return [
    { phase: 'stage', action: `build the image from the build context with ${builder}, tagged ${refs}` },
    { phase: 'stage', action: `run it on 127.0.0.1 (a free port) and wait for ${READY_PATH}` },
    {
      phase: 'smoke',
      action: image.push
        ? 'call its v2 infer route on 127.0.0.1; when the last deploy pushed these same tags, the image is unchanged: its run stops after the smoke test and nothing is pushed'
        : 'call its v2 infer route on 127.0.0.1',
    },
    {
      phase: 'promote',
      action: image.push
        ? `stop the run, push ${refs}, record the image and write the manifests under k8s/`
        : 'stop the run, record the image and write the manifests under k8s/; the image stays local (set push to publish it)',
    },
    { phase: 'rollback', action: 'stop the run and remove the new image; nothing is pushed' },
  ];
}
