/**
 * Entry point of a local deployment's daemon (started by daemon-control.ts, never imported): a
 * stable Function URL on one port, in front of the function version that passed its smoke test,
 * and a control server on a private Unix socket through which a deploy stages a candidate beside
 * it, promotes it (an atomic swap behind the same URL) or discards it. Serves until SIGTERM or
 * `POST /stop`. Its argv carries the state folder and the key, so it can be found without a record.
 */
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { stop as stopEsbuild } from 'esbuild';
import { isDeployModelError } from '../../errors.js';
import { startFunctionUrlServer, type FunctionUrlServer, type FunctionUrlTarget } from '../../lambda-emulator/function-url-server.js';
import { startImageFunction } from '../../lambda-emulator/image-function.js';
import { startLocalFunction } from '../../lambda-emulator/local-function.js';
import { DAEMON_MARKER } from './daemon-records.js';
import { imageLabels } from './image-labels.js';
import type { LocalFunction } from '../../lambda-emulator/types.js';
import type { ControlError, DaemonStart, DaemonStartReply, DaemonState, DaemonVersion, ShiftRequest, StageRequest } from './daemon-protocol.js';
import { stampedFunctionLog } from './_function-log.js';
import { trafficSplit, type TrafficSplit } from './traffic-split.js';

/** A version the daemon runs: a zip under the local runtime, or an image under podman or docker. */
type ServedFunction = FunctionUrlTarget & { readonly url: string; stats(): { initError?: string }; stop(): Promise<void> };

interface Running {
  fn: ServedFunction;
  info: DaemonVersion;
  /** Requests the stable URL handed it that have not answered yet. */
  inFlight: number;
  /** Requests the stable URL handed it in all. */
  frontRequests: number;
}

let current: Running | undefined;
let candidate: Running | undefined;
/** A traffic step's split of the stable URL between `current` and `candidate`; undefined: `current` answers all. */
let split: TrafficSplit | undefined;
let front: FunctionUrlServer | undefined;
let control: http.Server | undefined;
let settings: DaemonStart | undefined;
let stopping = false;
/** Where the state folder and the key follow in argv (see daemon-control's daemonArgs). */
const marker = process.argv.indexOf(DAEMON_MARKER);

// ---- the log, rotated at a size cap ----

let log: WriteStream | undefined;
let logBytes = 0;

function logLine(line: string): void {
  if (!settings) return;
  const text = `${line}\n`;
  if (!log || logBytes + text.length > settings.logCapBytes) {
    log?.end();
    if (log) renameSync(settings.logFile, `${settings.logFile}.1`);
    log = createWriteStream(settings.logFile, { flags: 'a' });
    try { logBytes = statSync(settings.logFile).size; } catch { logBytes = 0; }
  }
  log.write(text);
  logBytes += Buffer.byteLength(text);
}

const note = (message: string) => logLine(`${new Date().toISOString()} deploy-model local daemon ${process.pid}: ${message}`);

// ---- the stable front: the current version answers, or the split of a traffic step ----

async function invokeCounted(running: Running, payload: Parameters<FunctionUrlTarget['invokeRaw']>[0], options: Parameters<FunctionUrlTarget['invokeRaw']>[1]) {
  running.inFlight++;
  running.frontRequests++;
  try {
    return await running.fn.invokeRaw(payload, options);
  } finally {
    running.inFlight--;
  }
}

/** Waits (up to the version's timeout and a second) for the requests the stable URL handed a version, before it stops. */
async function drained(running: Running): Promise<void> {
  const until = Date.now() + running.info.settings.timeoutSeconds * 1000 + 1000;
  while (running.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}

const router: FunctionUrlTarget = {
  get functionName() { return (current ?? candidate)?.fn.functionName ?? 'pending'; },
  get functionArn() { return (current ?? candidate)?.fn.functionArn ?? 'arn:aws:lambda:local:000000000000:function:pending'; },
  invokeRaw(payload, options) {
    if (!current) return Promise.reject(new Error('no version of this deployment has passed its smoke test yet'));
    const to = split && candidate && split.next() === 'candidate' ? candidate : current;
    return invokeCounted(to, payload, options);
  },
  configuration() {
    return current ? current.fn.configuration() : { FunctionName: this.functionName, State: 'Pending', StateReason: 'no version has passed its smoke test yet' };
  },
  localStats() {
    return current?.fn.localStats?.();
  },
};

/** A version's info with the emulator's figures as they are now. */
function withStats(running: Running): DaemonVersion {
  return { ...running.info, frontRequests: running.frontRequests, stats: running.fn.localStats?.() as Record<string, unknown> | undefined };
}

function state(): DaemonState {
  return {
    pid: process.pid, url: front!.url, port: front!.port, logFile: settings!.logFile,
    ...(current ? { current: withStats(current) } : {}),
    ...(candidate ? { candidate: withStats(candidate) } : {}),
    ...(split && candidate ? { split: { candidatePercent: split.candidatePercent } } : {}),
  };
}

async function stage(request: StageRequest): Promise<DaemonState> {
  await discard();
  note(`staging version ${request.version} of ${request.spec.functionName}`);
  const log = stampedFunctionLog(logLine, request.version);
  const { image, ...spec } = request.spec;
  const fn: ServedFunction = image
    ? await startImageFunction({
      image: image.id ?? image.ref, builder: image.builder, functionName: spec.functionName, version: request.version, ...(spec.env ? { env: spec.env } : {}),
      memoryMb: spec.memoryMb, timeoutSeconds: spec.timeoutSeconds, ...(spec.functionUrlAuthType ? { functionUrlAuthType: spec.functionUrlAuthType } : {}),
      ...(spec.region ? { region: spec.region } : {}), labels: imageLabels(process.argv[marker + 1]!, process.argv[marker + 2]!), log,
    })
    : await startLocalFunction({ ...spec, port: 0, log }) as LocalFunction & FunctionUrlTarget;
  if (image) note(`version ${request.version} runs the image ${image.ref}${image.id ? ` (${image.id.slice(0, 12)})` : ''} with ${image.builder}`);
  // The bootstrap is bundled; the esbuild service process need not idle beside the functions.
  await stopEsbuild().catch(() => undefined);
  const initError = fn.stats().initError;
  const { memoryMb, timeoutSeconds, env = {} } = request.spec;
  candidate = { fn, inFlight: 0, frontRequests: 0, info: { version: request.version, url: fn.url, since: new Date().toISOString(), ...(initError ? { initError } : {}), settings: { memoryMb, timeoutSeconds, env } } };
  return state();
}

let ownerWatch: NodeJS.Timeout | undefined;

/** While a share is split off, checks every second that the deploy that set it still runs; if it died, takes the share back. */
function watchOwner(pid: number | undefined): void {
  clearInterval(ownerWatch);
  ownerWatch = undefined;
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return;
  ownerWatch = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') return;
      clearInterval(ownerWatch);
      ownerWatch = undefined;
      if (!split) return;
      split = undefined;
      note(`the deploy (pid ${pid}) that split ${front!.url} stopped running: version ${current?.info.version} answers every request again; version ${candidate?.info.version} stays staged until the next deploy`);
    }
  }, 1000);
  ownerWatch.unref();
}

/** A traffic step: from the next request on, the stable URL sends `percent` % to the candidate (0: none). */
function shift(request: ShiftRequest): DaemonState {
  if (!candidate || !current) {
    throw Object.assign(new Error(`a traffic split needs a serving version and a staged one (serving: ${current?.info.version ?? 'none'}, staged: ${candidate?.info.version ?? 'none'})`), { status: 409, code: 'LOCAL_NO_CANDIDATE' });
  }
  const percent = request?.percent;
  if (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 99) {
    throw Object.assign(new Error(`a traffic step gives the staged version a whole percentage from 0 to 99 of the requests, not ${JSON.stringify(percent)}`), { status: 400 });
  }
  split = percent === 0 ? undefined : trafficSplit(percent);
  watchOwner(split ? request.ownerPid : undefined);
  note(percent === 0
    ? `version ${current.info.version} answers every request of ${front!.url} again`
    : `${front!.url} sends ${percent} % of its requests to version ${candidate.info.version}, the rest to version ${current.info.version}`);
  return state();
}

/** The swap: the front answers with the candidate from the next request on; the old version stops. */
async function promote(): Promise<DaemonState> {
  if (!candidate) throw Object.assign(new Error('there is no staged version to promote'), { status: 409, code: 'LOCAL_NO_CANDIDATE' });
  const previous = current;
  current = candidate;
  candidate = undefined;
  split = undefined;
  watchOwner(undefined);
  note(`version ${current.info.version} now serves ${front!.url}${previous ? `; stopping version ${previous.info.version}` : ''}`);
  if (previous) {
    // The requests it took before the swap still answer.
    await drained(previous);
    await previous.fn.stop().catch(() => undefined);
  }
  return state();
}

async function discard(): Promise<DaemonState> {
  const was = candidate;
  // The share of a traffic step goes back first: no request reaches it from here on.
  split = undefined;
  watchOwner(undefined);
  candidate = undefined;
  if (was) {
    note(`discarding version ${was.info.version}`);
    await drained(was);
    await was.fn.stop().catch(() => undefined);
  }
  return state();
}

async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  note(`${why}: stopping`);
  await Promise.allSettled([current?.fn.stop(), candidate?.fn.stop(), front?.close()]);
  control?.close();
  if (settings) await rm(settings.socket, { force: true });
  log?.end(() => process.exit(0));
  if (!log) process.exit(0);
}

// ---- the control server ----

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try { resolve(text ? JSON.parse(text) : undefined); } catch (e) { reject(e); }
    });
    req.on('error', reject);
  });
}

async function route(req: http.IncomingMessage): Promise<DaemonState | Record<string, never>> {
  const call = `${req.method} ${req.url}`;
  if (call === 'GET /state') return state();
  if (call === 'POST /stage') return stage((await readJson(req)) as StageRequest);
  if (call === 'POST /promote') return promote();
  if (call === 'POST /shift') return shift((await readJson(req)) as ShiftRequest);
  if (call === 'POST /discard') return discard();
  if (call === 'POST /stop') {
    setImmediate(() => void shutdown('stop requested'));
    return {};
  }
  throw Object.assign(new Error(`no control route ${call}`), { status: 404 });
}

function startControl(socket: string): Promise<void> {
  control = http.createServer((req, res) => {
    route(req).then(
      (body) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); },
      (e: unknown) => {
        const err = e as Error & { status?: number; code?: string };
        const body: ControlError = { error: err.message, ...(isDeployModelError(e) || err.code ? { code: err.code } : {}) };
        res.writeHead(err.status ?? 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
    );
  });
  return new Promise((resolve, reject) => {
    control!.once('error', reject);
    control!.listen(socket, () => resolve());
  });
}

function reply(message: DaemonStartReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// The parent went away before the start message: nothing to run.
process.once('disconnect', () => { if (!front && !stopping) process.exit(1); });

process.once('message', (message: DaemonStart) => {
  void (async () => {
    settings = message;
    try {
      await rm(message.socket, { force: true });
      front = await startFunctionUrlServer(router, { port: message.port });
      await startControl(message.socket);
      note(`serving ${front.url}; control on ${message.socket}`);
      await reply({ type: 'ready', url: front.url, port: front.port });
    } catch (error) {
      note(`failed: ${String((error as Error)?.stack ?? error)}`);
      await reply({ type: 'failed', error: { code: isDeployModelError(error) ? error.code : undefined, message: (error as Error)?.message ?? String(error) } });
      process.exit(1);
    }
  })();
});
