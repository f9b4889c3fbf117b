/** The local target's driver: detached functions under the Lambda emulator, recorded in the state folder. */
import { DeployModelError } from '../../errors.js';
import { findDeployment, renameDeployment, startDetached, stopDeployment } from '../../lambda-emulator/deployments.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import type { BuildResult, TargetDriver } from '../driver.js';
import { inferUrl } from '../../smoke/infer-url.js';
import { buildLocalArtifacts, localFunctionSpec, type LocalArtifacts, type LocalContext } from './build.js';
import type { LocalPlan } from './plan.js';
import type { LocalTargetConfig } from './schema.js';

/** The endpoint as users see it: the Function URL's base, with its trailing slash. */
const endpointOf = (url: string): string => new URL(url).href;

/** The record's name in the state folder: the plan's resource name. */
const keyOf = (ctx: LocalContext): string => ctx.plan.resourceName;

interface LocalCandidateState {
  /** The candidate's record, renamed to the deployment's on promote. */
  candidateKey: string;
  /** The deployment that served before, when there was one still running. */
  previousUrl?: string;
  /** The previous deployment held the configured port, so it was stopped before the candidate started. */
  replacedOnPort: boolean;
}

export const localDriver: TargetDriver<LocalTargetConfig, LocalPlan> = {
  build: buildLocalArtifacts,

  rollout: {
    async stage(ctx: LocalContext, build: BuildResult) {
      const artifacts = build.outputs as LocalArtifacts;
      const key = keyOf(ctx);
      const previous = await findDeployment(ctx.stateDir, key);
      const replacedOnPort = ctx.plan.port !== undefined && previous?.port === ctx.plan.port;
      if (replacedOnPort) {
        // Both cannot listen on the configured port at once: the old one goes first.
        ctx.io.info('DM_LOCAL_REPLACE', `Stopping the running deployment on port ${ctx.plan.port} to replace it`);
        await stopDeployment(ctx.stateDir, key);
      }
      const candidateKey = `${key}.next`;
      ctx.io.info('DM_LOCAL_START', 'Starting the function under the local Lambda runtime');
      const version = artifacts.functionSha256.slice(0, 12);
      const record = await startDetached(localFunctionSpec(ctx.plan, artifacts), ctx.stateDir, candidateKey, { version });
      return {
        endpoint: endpointOf(record.url),
        ...(previous && !replacedOnPort ? { previousEndpoint: endpointOf(previous.url) } : {}),
        version,
        client: httpInferenceClient(inferUrl(record.url, ctx.config.name)),
        ...(previous ? { previous: previous.version ?? 'unknown' } : {}),
        state: { candidateKey, replacedOnPort, ...(previous && !replacedOnPort ? { previousUrl: previous.url } : {}) } satisfies LocalCandidateState,
        details: { pid: record.pid, logFile: record.logFile, functionBytes: artifacts.functionBytes, layerBytes: artifacts.layerBytes },
      };
    },

    async promote(ctx: LocalContext, candidate) {
      const state = candidate.state as LocalCandidateState;
      const key = keyOf(ctx);
      if (state.previousUrl) await stopDeployment(ctx.stateDir, key);
      await renameDeployment(ctx.stateDir, state.candidateKey, key);
    },

    async rollback(ctx: LocalContext, candidate) {
      await stopDeployment(ctx.stateDir, (candidate.state as LocalCandidateState).candidateKey);
      return 'removed';
    },
  },

  async connect(ctx: LocalContext) {
    const record = await findDeployment(ctx.stateDir, keyOf(ctx));
    if (!record) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not running. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
    }
    return { endpoint: endpointOf(record.url), ...(record.version ? { version: record.version } : {}), client: httpInferenceClient(inferUrl(record.url, ctx.config.name)) };
  },

  async status(ctx: LocalContext) {
    const record = await findDeployment(ctx.stateDir, keyOf(ctx));
    return record
      ? { state: 'running', endpoint: endpointOf(record.url), ...(record.version ? { version: record.version } : {}), details: { pid: record.pid, startedAt: record.startedAt } }
      : { state: 'not-deployed' };
  },

  async destroy(ctx: LocalContext) {
    return { removed: await stopDeployment(ctx.stateDir, keyOf(ctx)) };
  },

  /** The running function's recorded version and settings against this build and plan. */
  async diff(ctx: LocalContext, build: BuildResult) {
    const artifacts = build.outputs as LocalArtifacts;
    const version = artifacts.functionSha256.slice(0, 12);
    const record = await findDeployment(ctx.stateDir, keyOf(ctx));
    if (!record) {
      return { unchanged: false, changes: [{ resource: ctx.plan.functionName, action: 'create' as const, detail: `start version ${version} on 127.0.0.1${ctx.plan.port ? `:${ctx.plan.port}` : ''}` }] };
    }
    const wanted = localFunctionSpec(ctx.plan, artifacts);
    const changed: string[] = [];
    if (record.version !== version) changed.push(`version ${record.version ?? 'unknown'} → ${version}`);
    if (record.spec.memoryMb !== wanted.memoryMb) changed.push(`memory ${record.spec.memoryMb} → ${wanted.memoryMb} MB`);
    if (record.spec.timeoutSeconds !== wanted.timeoutSeconds) changed.push(`timeout ${record.spec.timeoutSeconds} → ${wanted.timeoutSeconds} s`);
    if (JSON.stringify(record.spec.env) !== JSON.stringify(wanted.env)) changed.push('environment');
    if (changed.length === 0) return { unchanged: true, changes: [] };
    // On a fixed port the running function stops before the new one can listen: a gap in service.
    const samePort = ctx.plan.port !== undefined && record.port === ctx.plan.port;
    return {
      unchanged: false,
      changes: [{
        resource: ctx.plan.functionName, action: 'replace' as const, detail: changed.join('; '),
        ...(samePort ? { disruptive: true } : {}),
      }],
    };
  },
};
