/** Runs a Lambda container image (its own Runtime API client as ENTRYPOINT) against a local Runtime API that admits that container only. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { exec } from '../kits/container/exec.js';
import { startRuntimeApi, type RuntimeApi, type RuntimeOutcome } from './runtime-api.js';

export interface ImageRuntimeOptions {
  /** The image, e.g. `localhost/deploy-model-lambda/<stack>:<tag>`. */
  readonly image: string;
  /** `podman` or `docker`: the program that runs it. */
  readonly builder: string;
  /** The function's environment (the serving `DM_*` variables and the like). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** The container's memory limit. @default 1024 */
  readonly memoryMb?: number;
  /** @default 'function' */
  readonly functionName?: string;
  /** Each line the container prints. @default - dropped */
  readonly onLine?: (line: string) => void;
  /** Another process tried the Runtime API and was turned away. */
  readonly onRefused?: (clientPort: number) => void;
  /** Labels on the container (`--label`), by which its owner finds it again, e.g. to remove it after a crash. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ImageRuntime {
  /** The address the container was given as AWS_LAMBDA_RUNTIME_API. */
  readonly runtimeApi: string;
  /** Sends one event; resolves with what the image's runtime posted back. */
  invoke(event: unknown, options?: { timeoutMs?: number }): Promise<RuntimeOutcome>;
  stop(): Promise<void>;
}

/**
 * Starts the image on the host network with AWS_LAMBDA_RUNTIME_API pointing at a Runtime API on
 * 127.0.0.1. The Runtime API answers only connections held by the container's processes: the
 * container's process is not our child but conmon's (podman) or containerd-shim's (docker), so the
 * root of the admitted process tree is read from the pid file the runtime writes before the
 * container starts (`--conmon-pidfile`; docker's `--cidfile` names no pid, so docker gets the
 * container's own pid once it runs, and its first connections wait for it). Any other local
 * process is refused, as the zip runtime's are.
 */
export async function startImageRuntime(options: ImageRuntimeOptions): Promise<ImageRuntime> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-model-image-'));
  const pidFile = path.join(dir, 'conmon.pid');
  const name = `deploy-model-lambda-${randomUUID().slice(0, 12)}`;
  const isPodman = path.basename(options.builder) === 'podman';
  let dockerPid: number | undefined;
  const rootPid = (): number | undefined => {
    if (!isPodman) return dockerPid;
    try {
      return Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const api: RuntimeApi = await startRuntimeApi({ runtimePid: rootPid, ...(options.onRefused ? { onRefused: options.onRefused } : {}) });
  const env: Record<string, string> = {
    ...options.env,
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName ?? 'function',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 1024),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  };
  const args = ['run', '--rm', '--name', name, '--network=host', '--memory', `${options.memoryMb ?? 1024}m`,
    ...(isPodman ? ['--conmon-pidfile', pidFile] : []),
    ...Object.keys(options.labels ?? {}).sort().flatMap((k) => ['--label', `${k}=${options.labels![k]}`]),
    ...Object.keys(env).sort().flatMap((k) => ['--env', `${k}=${env[k]}`]), options.image];
  const child: ChildProcess = spawn(options.builder, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine?.(line.replace(/\u0000DM_LOCAL_END .*$/, ''));
    });
  }
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  if (!isPodman) {
    // docker: the container's own pid once it runs.
    for (let i = 0; i < 100 && dockerPid === undefined && !exited; i++) {
      const r = await exec([options.builder, 'inspect', '--format', '{{.State.Pid}}', name], { timeoutMs: 10_000 });
      dockerPid = Number(r.stdout.trim()) || undefined;
      if (dockerPid === undefined) await new Promise((r2) => setTimeout(r2, 50));
    }
  }
  let count = 0;
  return {
    runtimeApi: api.address,
    async invoke(event, invokeOptions = {}) {
      if (exited) throw new DeployModelError('LOCAL_FUNCTION_STOPPED', `The container of ${options.image} has exited; start the image again to invoke it.`, { details: { image: options.image } });
      const timeoutMs = invokeOptions.timeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeployModelError('LOCAL_IMAGE_NO_ANSWER', `The image ${options.image} did not answer within ${timeoutMs} ms: its ENTRYPOINT must be a Runtime API client polling AWS_LAMBDA_RUNTIME_API (${api.address}). Read its output, or raise timeoutMs.`, { details: { image: options.image, timeoutMs } })), timeoutMs);
      });
      try {
        return await Promise.race([
          api.dispatch({
            requestId: `${name}-${++count}`, payload: Buffer.from(JSON.stringify(event ?? null)), deadlineMs: Date.now() + timeoutMs,
            invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${options.functionName ?? 'function'}`, traceId: `Root=1-${randomUUID().replace(/-/g, '').slice(0, 8)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
          }),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      // Node as PID 1 ignores SIGTERM: podman would wait its 10 s before SIGKILL.
      await exec([options.builder, 'rm', '--force', ...(isPodman ? ['--time', '0'] : []), name], { timeoutMs: 60_000 });
      if (!exited) child.kill('SIGKILL');
      await gone;
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
