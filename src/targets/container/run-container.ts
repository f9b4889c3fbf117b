/** Runs an image on loopback until its health route answers, and stops it with SIGTERM. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { exec, runOrThrow, tail } from './_exec.js';
import { planContainerState, planLogs, planRemoveContainer, planRun, planStop, type Builder, type Platform } from './builders.js';

export interface RunContainerOptions {
  /** Extra environment, e.g. Vertex AI's AIP_* variables. */
  env?: Readonly<Record<string, string>>;
  /** The port the server listens on inside the container. @default 8080 */
  port?: number;
  /** @default 'deploy-model-<random>' */
  name?: string;
  /** Polled until it answers 200. @default '/v2/health/ready' */
  healthPath?: string;
  /** @default 60000 */
  readyTimeoutMs?: number;
  /** The image's platform when this machine runs it under emulation. @default - this machine's */
  platform?: Platform;
  /** The builder's flags that give the container the host's GPUs. @default - none */
  gpuFlags?: readonly string[];
  /** Writable folders (a pod's volumes). @default - none */
  tmpfs?: readonly string[];
  io?: IoHelper;
}

export interface StopResult {
  /** How long the container took to exit after SIGTERM. */
  stopMs: number;
  /** The server's exit code: 0 after a graceful shutdown, 137 when it had to be killed. */
  exitCode: number;
}

export interface RunningContainer {
  /** `http://127.0.0.1:<host port>`. */
  url: string;
  name: string;
  hostPort: number;
  /** What the container printed so far. */
  logs(): Promise<string>;
  /** SIGTERM, SIGKILL after `timeoutSeconds` (default 10), then removes the container. */
  stop(options?: { timeoutSeconds?: number }): Promise<StopResult>;
}

/** A free TCP port on 127.0.0.1 (the kernel picks; it is released right away for the container). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs the image for a smoke test: published on a free loopback port only, waited on until the
 * health route answers 200. If the server exits or never gets ready, the container's logs are in
 * the error and the container is removed.
 */
export async function runContainer(builder: Builder, image: string, options: RunContainerOptions = {}): Promise<RunningContainer> {
  const { io } = options;
  const name = options.name ?? `deploy-model-${randomBytes(4).toString('hex')}`;
  const hostPort = await freeLoopbackPort();
  const url = `http://127.0.0.1:${hostPort}`;
  const argv = planRun(builder, {
    image, name, hostPort, containerPort: options.port ?? 8080, env: options.env ?? {},
    ...(options.platform ? { platform: options.platform } : {}), ...(options.gpuFlags ? { gpuFlags: options.gpuFlags } : {}), ...(options.tmpfs ? { tmpfs: options.tmpfs } : {}),
  });
  io?.info('DM_CONTAINER_RUN', `Running ${image} as ${name} on ${url}`, { image, name, url });
  await runOrThrow(argv, `Starting ${image}`, io ? { io } : {});

  const logs = async () => {
    const r = await exec(planLogs(builder, name), { timeoutMs: 30_000 });
    return `${r.stdout}${r.stderr}`;
  };
  const remove = () => exec(planRemoveContainer(builder, name), { timeoutMs: 60_000 });

  const healthPath = options.healthPath ?? '/v2/health/ready';
  const deadline = performance.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    try {
      const res = await fetch(`${url}${healthPath}`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    const state = await exec(planContainerState(builder, name), { timeoutMs: 30_000 });
    const exited = state.code !== 0 || state.stdout.trim().startsWith('false');
    if (exited || performance.now() > deadline) {
      const output = tail(await logs(), 20);
      await remove();
      throw new DeployModelError(exited ? 'CONTAINER_EXITED' : 'CONTAINER_NOT_READY',
        exited
          ? `The container from ${image} exited before it was ready (${state.stdout.trim() || tail(state.stderr, 2)}). Its output:\n${output}`
          : `The container from ${image} did not answer 200 on ${healthPath} within ${options.readyTimeoutMs ?? 60_000} ms. Its output:\n${output}`,
        { details: { image, name } });
    }
    await sleep(200);
  }
  io?.info('DM_CONTAINER_READY', `${name} is ready on ${url}`, { name, url });

  return {
    url,
    name,
    hostPort,
    logs,
    stop: ({ timeoutSeconds = 10 } = {}) => stopContainer(builder, name, { timeoutSeconds, ...(io ? { io } : {}) }),
  };
}

/** SIGTERM, SIGKILL after `timeoutSeconds` (default 10), then removes the container. */
export async function stopContainer(builder: Builder, name: string, options: { timeoutSeconds?: number; io?: IoHelper } = {}): Promise<StopResult> {
  const started = performance.now();
  await runOrThrow(planStop(builder, name, options.timeoutSeconds ?? 10), `Stopping ${name}`);
  const stopMs = Math.round(performance.now() - started);
  const state = await exec(planContainerState(builder, name), { timeoutMs: 30_000 });
  const exitCode = Number(state.stdout.trim().split(/\s+/)[1] ?? NaN);
  await exec(planRemoveContainer(builder, name), { timeoutMs: 60_000 });
  options.io?.info('DM_CONTAINER_STOPPED', `Stopped ${name} in ${stopMs} ms (exit ${exitCode})`, { name, stopMs, exitCode });
  return { stopMs, exitCode };
}
