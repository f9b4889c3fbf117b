/** The local target's plan: the function the emulator runs, with the settings aws-lambda would give it. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { trafficPlan } from '../../config/rollout-schema.js';
import { defaultLambdaMemoryMb } from '../../kits/aws/lambda-limits.js';
import type { LambdaImageBuildPlan } from '../../kits/container/build-lambda-image.js';
import { basePlan } from '../base-plan.js';
import { resourceName } from '../resource-name.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import type { LocalTargetConfig } from './schema.js';

export interface LocalPlan extends TargetPlanBase {
  readonly type: 'local';
  /** The function's name in the emulator (and in its log lines): the resource name. */
  readonly functionName: string;
  /** The layer (or the image) built for this machine. */
  readonly architecture: 'x86_64' | 'arm64';
  /** How the function runs: the zip and layer under the local Lambda runtime, or the image aws-lambda builds, run with podman or docker. */
  readonly package: 'zip' | 'image';
  /** @default - none: package 'zip' */
  readonly image?: LocalImagePlan;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb: number;
  /** The Function URL's auth type, which decides the events' requestContext. */
  readonly urlAuth: 'AWS_IAM' | 'NONE';
  /** @default - a free port chosen at deploy time */
  readonly port?: number;
  /** The Lambda runtime the emulator reports. */
  readonly runtime: 'nodejs22.x';
  readonly handler: 'index.handler';
  /** The serving environment (`DM_*`). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The function's container image, with `package: 'image'`: aws-lambda's, for this machine. */
export interface LocalImagePlan extends LambdaImageBuildPlan {
  /** The local repository its tags go in: `localhost/deploy-model-local/<resource name>`; the tag is the content's hash. */
  readonly repository: string;
}

/** The Lambda architecture matching this machine; `validate` refuses a machine that has none. */
export function hostArchitecture(arch: string = process.arch): 'x86_64' | 'arm64' {
  return arch === 'arm64' ? 'arm64' : 'x86_64';
}

/** The image plan: aws-lambda's image (same context, same Dockerfile) for this machine's platform. */
function imagePlan(target: LocalTargetConfig, resourceName: string, architecture: 'x86_64' | 'arm64'): LocalImagePlan {
  return {
    baseImage: target.image.baseImage,
    ...(target.image.builder ? { builder: target.image.builder } : {}),
    platform: architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64',
    taskRoot: '/var/task',
    optDir: '/opt',
    repository: `localhost/deploy-model-local/${resourceName.toLowerCase()}`,
  };
}

export function planLocal(input: PlanInput<LocalTargetConfig>): LocalPlan {
  const { config, target, signature } = input;
  const name = resourceName(config.name, input.stage, input.targetName);
  const architecture = hostArchitecture();
  const image = target.package === 'image' ? imagePlan(target, name, architecture) : undefined;
  const kept = image ? 'its image' : 'its zips';
  const base = basePlan(input, [
    image
      ? { phase: 'stage', action: `build the aws-lambda image ${image.repository}:<content hash> FROM ${image.baseImage} (${image.platform}) with ${image.builder ?? 'docker, podman or buildah, whichever runs images here'}, and run it with the Runtime API on 127.0.0.1 admitting that container only, behind its own Function URL` }
      : { phase: 'stage', action: 'start the new function under the local Lambda runtime on its own port, from a copy of its zips kept in the state folder' },
    { phase: 'smoke', action: 'call it through its Function URL on 127.0.0.1' },
    { phase: 'promote', action: `swap it in behind the daemon's stable URL and stop the previous one, keeping ${kept} for \`deploy-model rollback\`` },
    { phase: 'rollback', action: 'stop the new function; the previous one keeps serving' },
  ]);
  const traffic = trafficPlan(target.rollout);
  const rollout = traffic ? {
    strategy: target.rollout!.strategy,
    steps: [
      ...base.rollout.steps.filter((s) => s.phase !== 'promote' && s.phase !== 'rollback'),
      ...traffic.percents.map((p): RolloutStep => ({ phase: 'promote', action: `the daemon's stable URL sends ${p} % of its requests to the new function (a smooth weighted round-robin), the rest to the one serving; after ${traffic.intervalSeconds} s, smoke-test the new function and send ${traffic.alarms.probeRequests} requests through the stable URL (error rate <= ${traffic.alarms.maxErrorRate}${traffic.alarms.maxP99LatencyMs ? `, p99 <= ${traffic.alarms.maxP99LatencyMs} ms` : ''})` })),
      { phase: 'promote', action: `swap the new function in behind the daemon's stable URL for every request and stop the previous one, keeping ${kept} for \`deploy-model rollback\`` },
      { phase: 'rollback', action: "a failed step: the daemon's stable URL sends every request to the function serving again, then the new one stops" },
    ] satisfies RolloutStep[],
    traffic,
  } : base.rollout;
  return {
    ...base,
    rollout,
    type: 'local',
    functionName: base.resourceName,
    architecture,
    package: target.package,
    ...(image ? { image } : {}),
    memoryMb: target.memoryMb ?? defaultLambdaMemoryMb(signature.bytes),
    timeoutSeconds: target.timeoutSeconds,
    ephemeralStorageMb: target.ephemeralStorageMb,
    urlAuth: target.url.auth === 'none' ? 'NONE' : 'AWS_IAM',
    ...(target.port === undefined ? {} : { port: target.port }),
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    environment: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model.inputs, entry: 'lambda' }),
  };
}
