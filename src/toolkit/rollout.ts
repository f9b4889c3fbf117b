/**
 * The one rollout core: stage the built version, smoke-test it, then promote it or roll it back.
 * Each platform supplies the hooks; what is tested, when traffic moves and what a failure leaves
 * serving is decided here, once, for every target.
 */
import { DeployModelError } from '../errors.js';
import type { InferenceClient, SmokeReference, SmokeResult } from '../smoke/run-smoke.js';
import type { V2Request } from '../smoke/smoke-input.js';
import type { BuildResult, Candidate, DeployResult, TargetContext, TargetDriver } from '../targets/driver.js';
import { runTrafficSteps } from './traffic-steps.js';

export type Smoke = (client: InferenceClient, reference?: SmokeReference) => Promise<SmokeResult>;

export async function runRollout(ctx: TargetContext, driver: TargetDriver, build: BuildResult, smoke: Smoke, signal?: AbortSignal, request?: V2Request): Promise<DeployResult> {
  const hooks = driver.rollout;
  ctx.io.info('DM_ROLLOUT_STAGE', `${ctx.targetName}: staging the new version`, { steps: ctx.plan.rollout.steps });
  const candidate: Candidate = await hooks.stage(ctx, build);
  // Interrupted after staging or during the smoke test: the candidate goes, what served stays.
  const interrupted = async () => {
    if (!signal?.aborted) return;
    if (!candidate.unchanged) await rollbackQuietly(ctx, driver, candidate);
    throw new DeployModelError('DEPLOY_INTERRUPTED', `The deploy of ${ctx.targetName} was interrupted before version ${candidate.version} took traffic; it was taken back${candidate.previous ? `, and version ${candidate.previous} keeps serving` : ''}.`, { details: { target: ctx.targetName, version: candidate.version, previous: candidate.previous } });
  };
  await interrupted();
  const base = { version: candidate.version, ...(candidate.previous ? { previousVersion: candidate.previous } : {}), ...(candidate.details ? { details: candidate.details } : {}) };

  // The platform ran the traffic steps itself and its alarm stopped them: it already moved the traffic back.
  const platformFailure = candidate.platformRollout?.failure;
  if (platformFailure) {
    ctx.io.warn('DM_ROLLOUT_STEP_FAILED', `${ctx.targetName}: ${platformFailure.name} failed: ${platformFailure.message}; version ${candidate.previous} serves all the traffic again`, { ...platformFailure, version: candidate.version, previous: candidate.previous });
    await releaseQuietly(ctx, driver, candidate);
    const steps = candidate.platformRollout!.steps;
    const smoke: SmokeResult = { status: 'failed', latencyMs: { p50: 0, max: 0 }, checks: [platformFailure] };
    const endpoint = candidate.previousEndpoint ?? candidate.endpoint;
    return { ...base, endpoint, smoke, promoted: false, details: { ...candidate.details, rollout: { strategy: ctx.plan.rollout.strategy, steps, failedStep: steps.length } } };
  }

  let result: SmokeResult;
  try {
    result = await smoke(candidate.client, candidate.reference);
  } catch (e) {
    // The smoke test itself broke (not a failed check): the candidate must not stay in the way.
    if (candidate.unchanged) await releaseQuietly(ctx, driver, candidate);
    else await rollbackQuietly(ctx, driver, candidate);
    throw e;
  }

  await interrupted();
  if (candidate.unchanged) {
    ctx.io.info('DM_ROLLOUT_UNCHANGED', `${ctx.targetName}: version ${candidate.version} already serves; nothing to promote`, { version: candidate.version });
    await releaseQuietly(ctx, driver, candidate);
    // It served before and serves still, whatever its smoke test said: there was nothing to move.
    return { ...base, endpoint: candidate.endpoint, smoke: result, promoted: true, details: { ...candidate.details, unchanged: true } };
  }
  const traffic = ctx.plan.rollout.traffic;
  // A first deploy has no version to split with: the new one takes all the traffic once it passed.
  if (result.status === 'passed' && traffic && candidate.previous) {
    if (!hooks.shift || !candidate.liveClient || !request) {
      await rollbackQuietly(ctx, driver, candidate);
      throw new DeployModelError('ROLLOUT_STRATEGY_UNSUPPORTED', `${ctx.targetName}: the ${ctx.target.type} target cannot split traffic between two versions, so rollout.strategy '${ctx.plan.rollout.strategy}' cannot run; version ${candidate.version} was taken back${candidate.previous ? ` and version ${candidate.previous} keeps serving` : ''}. Remove the rollout option (all at once, after the smoke test).`, { details: { target: ctx.targetName, type: ctx.target.type, strategy: ctx.plan.rollout.strategy } });
    }
    const stepped = await runTrafficSteps({ ctx, driver, candidate, traffic, smoke, request, ...(signal ? { signal } : {}) });
    const rollout = { strategy: ctx.plan.rollout.strategy, steps: stepped.steps };
    if (stepped.failure) {
      ctx.io.warn('DM_ROLLOUT_STEP_FAILED', `${ctx.targetName}: ${stepped.failure.name} failed: ${stepped.failure.message}; moving all traffic back to version ${candidate.previous}`, { ...stepped.failure, version: candidate.version, previous: candidate.previous });
      const rolledBack = await hooks.rollback(ctx, candidate);
      const details = { ...candidate.details, ...(typeof rolledBack === 'string' ? {} : rolledBack.details), rollout: { ...rollout, failedStep: stepped.steps.length } };
      const checks = [...(stepped.smoke ?? result).checks, stepped.failure];
      return { ...base, ...(candidate.previousEndpoint ?? candidate.endpoint ? { endpoint: candidate.previousEndpoint ?? candidate.endpoint } : {}), smoke: { ...(stepped.smoke ?? result), status: 'failed', checks }, promoted: false, details };
    }
    ctx.io.info('DM_ROLLOUT_PROMOTE', `${ctx.targetName}: version ${candidate.version} passed every traffic step; giving it all the traffic`, { version: candidate.version, previous: candidate.previous, steps: stepped.steps });
    const promoted = await hooks.promote(ctx, candidate);
    return { ...base, endpoint: candidate.endpoint, smoke: result, promoted: true, details: { ...candidate.details, ...promoted, rollout } };
  }
  if (result.status === 'passed') {
    ctx.io.info('DM_ROLLOUT_PROMOTE', `${ctx.targetName}: version ${candidate.version} passed its smoke test; giving it the traffic`, { version: candidate.version, previous: candidate.previous });
    const promoted = await hooks.promote(ctx, candidate);
    return { ...base, endpoint: candidate.endpoint, smoke: result, promoted: true, ...(promoted || candidate.details ? { details: { ...candidate.details, ...promoted } } : {}) };
  }

  ctx.io.warn('DM_ROLLOUT_ROLLBACK', `${ctx.targetName}: version ${candidate.version} failed its smoke test; ${candidate.previous ? `version ${candidate.previous} keeps serving` : 'there was no previous version to keep'}`, { version: candidate.version, previous: candidate.previous });
  const rolledBack = await hooks.rollback(ctx, candidate);
  const outcome = typeof rolledBack === 'string' ? rolledBack : rolledBack.outcome;
  const details = { ...candidate.details, ...(typeof rolledBack === 'string' ? {} : rolledBack.details) };
  if (outcome === 'kept') {
    return { ...base, endpoint: candidate.endpoint, smoke: result, promoted: true, details: { ...details, failedVersionServes: true } };
  }
  const endpoint = candidate.previous ? candidate.previousEndpoint ?? candidate.endpoint : undefined;
  return { ...base, ...(endpoint ? { endpoint } : {}), smoke: result, promoted: false, ...(Object.keys(details).length ? { details } : {}) };
}

/** Releases what staging an unchanged candidate opened; a failure is reported, not thrown over the smoke test's answer. */
async function releaseQuietly(ctx: TargetContext, driver: TargetDriver, candidate: Candidate): Promise<void> {
  try {
    await driver.rollout.release?.(ctx, candidate);
  } catch (e) {
    ctx.io.warn('DM_ROLLOUT_RELEASE_FAILED', `${ctx.targetName}: releasing version ${candidate.version} after its smoke test did not complete: ${(e as Error).message}`, { version: candidate.version });
  }
}

/** A rollback after an error: its own failure is reported, never thrown over the first. */
async function rollbackQuietly(ctx: TargetContext, driver: TargetDriver, candidate: Candidate): Promise<void> {
  try {
    await driver.rollout.rollback(ctx, candidate);
  } catch (e) {
    ctx.io.warn('DM_ROLLOUT_ROLLBACK_FAILED', `${ctx.targetName}: taking back version ${candidate.version} after the error did not complete: ${(e as Error).message}`, { version: candidate.version });
  }
}
