/**
 * The local target's driver: one daemon per deployment keeps a stable Function URL on 127.0.0.1;
 * a deploy stages the new version beside the serving one, smoke-tests it on its own URL, and swaps
 * it in behind the stable URL only when it passed.
 */
import { createHash } from 'node:crypto';
import { DeployModelError } from '../../errors.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import { inferUrl } from '../../smoke/infer-url.js';
import type { BuildResult, Candidate, TargetDiff, TargetDriver, TargetStatus } from '../driver.js';
import { buildLocalArtifacts, localFunctionSpec, type LocalArtifacts, type LocalContext } from './build.js';
import {
  daemonState, discardCandidate, inspectDaemon, logTail, promoteCandidate, shiftTraffic, stageCandidate, startDaemon, stopDaemons, stopOrphans,
} from './daemon-control.js';
import type { DaemonFunctionSpec } from './daemon-protocol.js';
import { removeRecord, type DaemonRecord } from './daemon-records.js';
import { keepArtifacts, pruneKept, readKept, removeKept, writeKept } from './kept-versions.js';
import { restoreLocalPrevious } from './restore-previous.js';
import { planListContainers } from './image-labels.js';
import { exec } from '../../kits/container/exec.js';
import type { LocalPlan } from './plan.js';
import type { LocalTargetConfig } from './schema.js';

/** The endpoint as users see it: the Function URL's base, with its trailing slash. */
const endpointOf = (url: string): string => new URL(url).href;

/**
 * A version names what runs: the function zip and the settings it runs with (memory, timeout,
 * environment), so a settings change is a new version, staged and smoke-tested like new code.
 */
function versionOf(ctx: LocalContext, artifacts: LocalArtifacts): string {
  const { memoryMb, timeoutSeconds, env } = localFunctionSpec(ctx.plan, artifacts);
  // An image's tag is the hash of its content (code, layer, runtime, base): a new base is a new version.
  const fields = artifacts.image
    ? { image: artifacts.image.tag, memoryMb, timeoutSeconds, env, architecture: ctx.plan.architecture }
    : { code: artifacts.functionSha256, memoryMb, timeoutSeconds, env, layers: 1, architecture: ctx.plan.architecture };
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 12);
}

/** The record's name in the state folder: the plan's resource name. */
const keyOf = (ctx: LocalContext): string => ctx.plan.resourceName;

interface LocalCandidateState {
  record: DaemonRecord;
  /** The daemon was started for this deploy: a failed first version takes it down again. */
  fresh: boolean;
  /** The spec the candidate runs with, its zips kept in the state folder: promoted, it becomes the kept current version. */
  spec?: DaemonFunctionSpec;
  /** The share of the stable URL's requests a traffic step gave the candidate, which a rollback takes back. @default - none */
  shiftedPercent?: number;
}

/**
 * The running daemon of this deployment, after reporting (and clearing) a crashed one and
 * stopping daemons that run without a record. A daemon on another port than the config now asks
 * for is stopped: the endpoint moves (`diff` shows it as disruptive).
 */
async function liveDaemon(ctx: LocalContext): Promise<DaemonRecord | undefined> {
  const key = keyOf(ctx);
  const { record, alive, orphans } = await inspectDaemon(ctx.stateDir, key);
  if (orphans.length > 0) {
    ctx.io.warn('DM_LOCAL_ORPHANS', `Stopping ${orphans.length} daemon(s) of ${key} that ran without a record (pid ${orphans.join(', ')}), left by an interrupted deploy`, { pids: orphans });
    await stopOrphans(ctx.stateDir, key, orphans);
  }
  if (record && !alive) {
    ctx.io.warn('DM_LOCAL_CRASHED', `The local deployment ${key} (pid ${record.pid}) had stopped running; the end of its log:\n${await logTail(record.logFile)}`, { pid: record.pid, logFile: record.logFile });
    await removeRecord(ctx.stateDir, key);
    return undefined;
  }
  if (record && ctx.plan.port !== undefined && record.port !== ctx.plan.port) {
    ctx.io.warn('DM_LOCAL_PORT_MOVE', `The config moves ${key} from port ${record.port} to ${ctx.plan.port}: the old endpoint stops now`, { from: record.port, to: ctx.plan.port });
    await stopDaemons(ctx.stateDir, key);
    return undefined;
  }
  return record;
}

/**
 * What the emulator measured of a version during its smoke test, for the report: the peak memory
 * against the configured memory (Lambda's `Max Memory Used`), how it was held, init time, the
 * Node it ran on, and its warnings (a slow init, a fallback Node).
 */
function runDetails(stats: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!stats) return {};
  const keys = ['maxMemoryUsedMb', 'memoryMb', 'memoryEnforcement', 'maxInitDurationMs', 'runtimeNode', 'warnings'];
  return Object.fromEntries(keys.filter((k) => stats[k] !== undefined).map((k) => [k, stats[k]]));
}

/**
 * After a promotion: the promoted version is the kept current one, and the version it replaced
 * (when its files are kept) the one `rollback` restores; the files of every other version go.
 */
async function keepPromoted(ctx: LocalContext, version: string, spec: DaemonFunctionSpec, replaced: string | undefined): Promise<void> {
  const key = keyOf(ctx);
  const kept = await readKept(ctx.stateDir, key).catch(() => ({}) as Awaited<ReturnType<typeof readKept>>);
  const previous = [kept.current, kept.previous].find((k) => k !== undefined && k.version === replaced && k.version !== version);
  await writeKept(ctx.stateDir, key, { current: { version, spec, since: new Date().toISOString() }, ...(previous ? { previous } : {}) });
}

/** Removes the kept files of a candidate that was taken back; with an unreadable record of kept versions, removes nothing. */
async function pruneQuietly(ctx: LocalContext): Promise<void> {
  const kept = await readKept(ctx.stateDir, keyOf(ctx)).catch(() => undefined);
  if (kept) await pruneKept(ctx.stateDir, keyOf(ctx), kept).catch(() => undefined);
}

/** Removes this deployment's containers that outlived their daemon; returns how many. */
async function removeLabelledContainers(builder: string, stateDir: string, key: string): Promise<number> {
  const list = await exec(planListContainers(builder, stateDir, key), { timeoutMs: 30_000 });
  const ids = list.code === 0 ? list.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
  if (ids.length > 0) await exec([builder, 'rm', '--force', ...ids], { timeoutMs: 60_000 });
  return ids.length;
}

export const localDriver: TargetDriver<LocalTargetConfig, LocalPlan> = {
  build: buildLocalArtifacts,

  rollout: {
    async stage(ctx: LocalContext, build: BuildResult) {
      const artifacts = build.outputs as LocalArtifacts;
      const version = versionOf(ctx, artifacts);
      const key = keyOf(ctx);
      let record = await liveDaemon(ctx);
      const fresh = record === undefined;
      if (!record) {
        ctx.io.info('DM_LOCAL_DAEMON_START', `Starting the local deployment ${key} on 127.0.0.1${ctx.plan.port ? `:${ctx.plan.port}` : ''}`);
        record = await startDaemon(ctx.stateDir, key, { ...(ctx.plan.port === undefined ? {} : { port: ctx.plan.port }) });
      }
      const before = fresh ? undefined : await daemonState(record);
      const previous = before?.current?.version;
      const base = { endpoint: endpointOf(record.url), version, ...(previous ? { previous, previousEndpoint: endpointOf(record.url) } : {}) };
      if (previous === version) {
        // What serves already is this build: smoke-test it where users reach it.
        return { ...base, unchanged: true, client: httpInferenceClient(inferUrl(record.url, ctx.config.name)), state: { record, fresh } satisfies LocalCandidateState };
      }
      ctx.io.info('DM_LOCAL_START', `Starting version ${version} beside ${previous ? `version ${previous}` : 'nothing'} under the local Lambda runtime`);
      let spec: DaemonFunctionSpec | undefined;
      const staged = await (async () => {
        // It runs from copies the next build cannot overwrite, so a rollback can start it again.
        spec = await keepArtifacts(ctx.stateDir, key, version, localFunctionSpec(ctx.plan, artifacts));
        return stageCandidate(record, { spec, version });
      })().catch(async (e: unknown) => {
        if (fresh) await stopDaemons(ctx.stateDir, key);
        await pruneQuietly(ctx);
        throw e;
      });
      return {
        ...base,
        client: httpInferenceClient(inferUrl(staged.candidate!.url, ctx.config.name)),
        // The stable URL: during a traffic step it splits the requests between the two versions.
        liveClient: httpInferenceClient(inferUrl(record.url, ctx.config.name)),
        state: { record, fresh, spec } satisfies LocalCandidateState,
        details: { pid: record.pid, logFile: record.logFile, functionBytes: artifacts.functionBytes, layerBytes: artifacts.layerBytes, ...(artifacts.image ? { image: artifacts.image.ref, imageBytes: artifacts.image.bytes } : {}) },
      };
    },

    async promote(ctx: LocalContext, candidate: Candidate<LocalCandidateState>) {
      const { record, spec } = candidate.state;
      const measured = runDetails((await daemonState(record)).candidate?.stats);
      await promoteCandidate(record);
      if (spec) await keepPromoted(ctx, candidate.version, spec, candidate.previous);
      return measured;
    },

    /** A traffic step: the daemon's stable URL sends `percent` % of its requests to the candidate, the rest to the version serving. */
    async shift(ctx: LocalContext, candidate: Candidate<LocalCandidateState>, percent: number) {
      ctx.io.info('DM_LOCAL_SHIFT', `Sending ${percent} % of the requests of ${candidate.endpoint} to version ${candidate.version}, the rest to version ${candidate.previous}`, { version: candidate.version, live: candidate.previous ?? '', percent });
      await shiftTraffic(candidate.state.record, percent);
      candidate.state.shiftedPercent = percent;
    },

    async rollback(ctx: LocalContext, candidate: Candidate<LocalCandidateState>) {
      const { record, fresh, shiftedPercent } = candidate.state;
      const details = runDetails((await daemonState(record).catch(() => undefined))?.candidate?.stats);
      if (shiftedPercent !== undefined && candidate.previous) {
        ctx.io.warn('DM_LOCAL_SHIFT_BACK', `Version ${candidate.version} failed at ${shiftedPercent} % of the traffic: version ${candidate.previous} answers every request of ${candidate.endpoint} again`, { newVersion: candidate.version, liveVersion: candidate.previous, percent: shiftedPercent });
      }
      // A first version that failed leaves nothing serving: its daemon goes too. Otherwise the
      // daemon takes the traffic step's share back before it stops the candidate.
      if (fresh) {
        await stopDaemons(ctx.stateDir, keyOf(ctx));
        await removeKept(ctx.stateDir, keyOf(ctx));
      } else {
        await discardCandidate(record);
        await pruneQuietly(ctx);
      }
      candidate.state.shiftedPercent = undefined;
      return { outcome: 'removed', details };
    },
  },

  /** `deploy-model rollback`: starts the version kept from before the last promotion beside the serving one, and swaps it in. */
  restorePrevious: (ctx: LocalContext) => restoreLocalPrevious(ctx),

  async connect(ctx: LocalContext) {
    const { record, alive } = await inspectDaemon(ctx.stateDir, keyOf(ctx));
    const state = record && alive ? await daemonState(record) : undefined;
    if (!record || !state?.current) {
      const why = record && !alive ? `its daemon (pid ${record.pid}) stopped running; see ${record.logFile}` : 'nothing is serving';
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not running: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\`.`, { details: { target: ctx.targetName } });
    }
    return { endpoint: endpointOf(record.url), version: state.current.version, client: httpInferenceClient(inferUrl(record.url, ctx.config.name)) };
  },

  /** Read from the daemon itself; a record whose daemon died is reported as failed with its log, not hidden. */
  async status(ctx: LocalContext): Promise<TargetStatus> {
    const key = keyOf(ctx);
    const { record, alive, orphans } = await inspectDaemon(ctx.stateDir, key);
    const orphanDetails = orphans.length > 0 ? { orphans, problem: `daemon(s) ${orphans.join(', ')} of this deployment run without a record: \`deploy-model destroy\` stops them` } : {};
    if (!record) return orphans.length > 0 ? { state: 'stale', details: orphanDetails } : { state: 'not-deployed' };
    if (!alive) {
      return { state: 'failed', endpoint: endpointOf(record.url), details: { crashed: true, pid: record.pid, logFile: record.logFile, logTail: await logTail(record.logFile), ...orphanDetails } };
    }
    const state = await daemonState(record);
    const previous = (await readKept(ctx.stateDir, key).catch(() => undefined))?.previous;
    return {
      state: state.current ? 'running' : 'creating',
      endpoint: endpointOf(record.url),
      ...(state.current ? { version: state.current.version } : {}),
      details: {
        pid: record.pid, port: record.port, logFile: record.logFile, startedAt: record.startedAt,
        ...(state.candidate ? { candidate: state.candidate.version } : {}),
        ...(state.split ? { candidatePercent: state.split.candidatePercent } : {}),
        ...(previous && previous.version !== state.current?.version ? { previousVersion: previous.version } : {}),
        ...orphanDetails,
      },
    };
  },

  /** Stops the daemon (and with it every container it ran), then removes the kept versions and the images they ran. */
  async destroy(ctx: LocalContext) {
    const key = keyOf(ctx);
    const kept = await readKept(ctx.stateDir, key).catch(() => ({}) as Awaited<ReturnType<typeof readKept>>);
    const removed = await stopDaemons(ctx.stateDir, key);
    // A daemon killed with SIGKILL cannot stop its containers: they are found by their label.
    const builders = [...new Set([kept.current?.spec.image?.builder, kept.previous?.spec.image?.builder].filter((b): b is string => b !== undefined))];
    const leftovers = (await Promise.all(builders.map((b) => removeLabelledContainers(b, ctx.stateDir, key)))).reduce((a, b) => a + b, 0);
    if (leftovers > 0) ctx.io.warn('DM_LOCAL_ORPHAN_CONTAINERS', `Removed ${leftovers} container(s) of ${key} left running by a daemon that was killed`, { count: leftovers });
    const left = await removeKept(ctx.stateDir, key);
    return {
      removed: removed || leftovers > 0,
      ...(left.length > 0 ? {
        retained: left.map((l) => ({ type: 'container image', logicalId: `version ${l.version}`, physicalId: l.image.ref, deleteWith: `${l.image.builder} rmi ${l.image.ref}  # kept: ${l.problem}` })),
      } : {}),
    };
  },

  async *logs(ctx: LocalContext, options) { yield* (await import('./logs.js')).localLogs(ctx, options); },

  /** The serving version and settings against this build and plan. */
  async diff(ctx: LocalContext, build: BuildResult): Promise<TargetDiff> {
    const artifacts = build.outputs as LocalArtifacts;
    const version = versionOf(ctx, artifacts);
    const { record, alive } = await inspectDaemon(ctx.stateDir, keyOf(ctx));
    const current = record && alive ? (await daemonState(record)).current : undefined;
    const resource = ctx.plan.functionName;
    if (!record || !current) {
      return { unchanged: false, changes: [{ resource, action: 'create', detail: `start version ${version} on 127.0.0.1${ctx.plan.port ? `:${ctx.plan.port}` : ''}` }] };
    }
    const wanted = localFunctionSpec(ctx.plan, artifacts);
    const changed: string[] = [];
    if (current.version !== version) changed.push(`version ${current.version} → ${version}`);
    if (current.settings.memoryMb !== wanted.memoryMb) changed.push(`memory ${current.settings.memoryMb} → ${wanted.memoryMb} MB`);
    if (current.settings.timeoutSeconds !== wanted.timeoutSeconds) changed.push(`timeout ${current.settings.timeoutSeconds} → ${wanted.timeoutSeconds} s`);
    if (JSON.stringify(current.settings.env) !== JSON.stringify(wanted.env)) changed.push('environment');
    const moves = ctx.plan.port !== undefined && ctx.plan.port !== record.port;
    if (changed.length === 0 && !moves) return { unchanged: true, changes: [] };
    const changes: TargetDiff['changes'] = [];
    if (changed.length > 0) changes.push({ resource, action: 'update', detail: `${changed.join('; ')} (swapped in behind ${endpointOf(record.url)} after its smoke test)` });
    // Another port is another endpoint: the running one stops before the new one starts.
    if (moves) changes.push({ resource: `${resource} Function URL`, action: 'replace', detail: `port ${record.port} → ${ctx.plan.port}`, disruptive: true });
    return { unchanged: false, changes };
  },
};
