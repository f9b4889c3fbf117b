import { containerEnvironment, expandVariables } from './_expand-variables.js';
import { startTritonStandIn, type TritonProcess, type TritonStandInOptions } from './triton-stand-in.js';

/** The parts of a Model's containerSpec that decide what runs. */
export interface ContainerSpecInput {
  imageUri?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name?: string; value?: string }>;
}

/** One container start, as the fake records it. */
export interface ContainerRun {
  imageUri: string;
  /** The process's command line after `$(VAR)` expansion and the image's entrypoint. */
  argv: string[];
  env: Record<string, string>;
  process: TritonProcess;
}

/**
 * NVIDIA's Triton images run `/opt/nvidia/nvidia_entrypoint.sh` with no CMD (the Dockerfile that
 * triton-inference-server/server `build.py` writes). The entrypoint sources
 * `docker/entrypoint.d/99-check-run-aip-mode.sh` (identical on r24.09 to r25.09), which puts
 * `/opt/tritonserver/bin/tritonserver` in front of the arguments when AIP_MODE is not empty, then
 * `exec`s them (`/bin/bash` when there are none).
 */
const TRITON_ENTRYPOINT = '/opt/nvidia/nvidia_entrypoint.sh';
const TRITONSERVER = /^(\/opt\/tritonserver\/bin\/)?tritonserver$/;

/** The image's release, from a tag such as `tritonserver:25.06-py3`. */
function releaseOf(image: string): string | undefined {
  return /:(\d{2}\.\d{2})(-[a-z0-9-]+)?$/.exec(image)?.[1];
}

const exited = (exitCode: number, log: string[]): TritonProcess => ({ state: 'exited', exitCode, log });

/**
 * Starts a Model's container as Vertex AI does, on Kubernetes: `command` replaces the image's
 * ENTRYPOINT and `args` its CMD, both expanded against `env` then `containerSpec.env` (see
 * `expandVariables`). Every image is taken for a copy of NVIDIA's Triton image (deploy-model
 * gives Vertex AI no other), run through `startTritonStandIn`.
 */
export async function runModelContainer(params: { spec: ContainerSpecInput; env: Readonly<Record<string, string>> } & Omit<TritonStandInOptions, 'args' | 'env' | 'release'>): Promise<ContainerRun> {
  const { spec, ...standIn } = params;
  const imageUri = spec.imageUri ?? '';
  const env = containerEnvironment(params.env, spec.env);
  const expand = (a: string) => expandVariables(a, (n) => env[n]);
  const entrypoint = spec.command?.length ? spec.command.map(expand) : [TRITON_ENTRYPOINT];
  const cmd = spec.args?.length ? spec.args.map(expand) : [];
  let argv = [...entrypoint, ...cmd];
  const run = (process: TritonProcess): ContainerRun => ({ imageUri, argv, env, process });

  if (argv[0] === TRITON_ENTRYPOINT) {
    argv = [...(env.AIP_MODE ? ['/opt/tritonserver/bin/tritonserver'] : []), ...argv.slice(1)];
    // bash without a terminal reads no command and exits at once.
    if (argv.length === 0) return run(exited(0, []));
  }
  if (!TRITONSERVER.test(argv[0])) {
    return run(exited(127, [`exec: "${argv[0]}": executable file not found in $PATH`]));
  }
  return run(await startTritonStandIn({ ...standIn, args: argv.slice(1), env, release: releaseOf(imageUri) }));
}
