/** What SageMaker says about an endpoint, and the updates deploy-model makes to it (switch config, retire old ones). */
import {
  DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, UpdateEndpointCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { accessDenied, awsReason, isAccessDenied, isCredentialsError, isThrottling, noCredentials, throttled } from '../../kits/aws/aws-errors.js';
import { endpointOverride } from '../../kits/aws/endpoint-override.js';

/** What DescribeEndpoint says about an endpoint, as deploy-model uses it. */
export interface EndpointSnapshot {
  readonly name: string;
  readonly arn?: string;
  /** SageMaker's EndpointStatus: Creating, Updating, SystemUpdating, RollingBack, InService, Deleting, Failed, ... */
  readonly status: string;
  /** The configuration in service (during an update, still the old one). */
  readonly configName: string;
  /** Set when the endpoint failed, or when it is InService but its last update failed. */
  readonly failureReason?: string;
  /** Instances serving now. */
  readonly instances?: number;
  /** When the endpoint last changed (a FailureReason older than a deploy is not that deploy's). */
  readonly lastModified?: Date;
  /** A blue/green update in progress (PendingDeploymentSummary): the new config and its fleet's VariantStatus. */
  readonly pending?: { readonly configName: string; readonly status?: string; readonly statusMessage?: string; readonly statusSince?: Date };
  /** The alarms of the endpoint's AutoRollbackConfiguration (LastDeploymentConfig). */
  readonly rollbackAlarms?: readonly string[];
}

/**
 * One traffic step of a canary or linear update, as DescribeEndpoint showed it: a VariantStatus
 * of the new fleet (ActivatingTraffic at each step, Baking at the end) with its StartTime.
 * SageMaker does not report the share of traffic, so `percent` is the plan's for that step.
 */
export interface SageMakerTrafficStep {
  readonly step: number;
  /** ActivatingTraffic or Baking. */
  readonly status: string;
  /** The share of the new fleet's capacity with traffic on, from the plan (100 while baking). */
  readonly percent?: number;
  readonly statusMessage?: string;
  /** Milliseconds from the start of the deploy to the step's StartTime. */
  readonly startedAtMs: number;
  /** Milliseconds until the next step began, or the update ended. */
  durationMs?: number;
}

/** States in which the endpoint answers invocations. */
export const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);
const SETTLING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; message?: string };
  return (err?.name === 'ValidationException' || err?.name === 'ValidationError') && /could not find/i.test(err.message ?? '');
}

function sageMakerError(e: unknown, region: string, what: string): DeployModelError {
  if (e instanceof DeployModelError) return e;
  if (isCredentialsError(e)) return noCredentials(region, what, e);
  if (isAccessDenied(e)) return accessDenied(region, what, e);
  // The SDK retried throttling with backoff before this.
  if (isThrottling(e)) return throttled('SageMaker', region, what, e);
  const override = endpointOverride('SageMaker');
  const check = override
    ? `SageMaker calls go to ${override.url} (${override.variable}), not to AWS: check that it is up and serves the SageMaker API, or unset ${override.variable}`
    : 'Check the network and that the credentials may call the SageMaker API (sagemaker:DescribeEndpoint, UpdateEndpoint, DeleteEndpointConfig, DeleteModel)';
  return new DeployModelError('SAGEMAKER_API_FAILED', `Could not ${what} in ${region}: ${awsReason(e)}. ${check}.`, { cause: e, details: { region, endpoint: override?.url } });
}

/** DescribeEndpoint; undefined when there is no such endpoint. */
export async function describeEndpoint(control: SageMakerClient, name: string, region: string): Promise<EndpointSnapshot | undefined> {
  try {
    const d = await control.send(new DescribeEndpointCommand({ EndpointName: name }));
    const variant = d.ProductionVariants?.[0];
    const pendingSummary = d.PendingDeploymentSummary;
    const pendingStatus = pendingSummary?.ProductionVariants?.[0]?.VariantStatus?.[0];
    const alarms = d.LastDeploymentConfig?.AutoRollbackConfiguration?.Alarms?.map((a) => a.AlarmName ?? '').filter(Boolean);
    return {
      name,
      ...(d.EndpointArn ? { arn: d.EndpointArn } : {}),
      status: d.EndpointStatus ?? 'Unknown',
      configName: d.EndpointConfigName ?? '',
      failureReason: d.FailureReason || undefined,
      instances: variant?.CurrentInstanceCount,
      lastModified: d.LastModifiedTime ? new Date(d.LastModifiedTime) : undefined,
      ...(pendingSummary?.EndpointConfigName ? {
        pending: {
          configName: pendingSummary.EndpointConfigName,
          ...(pendingStatus?.Status ? { status: pendingStatus.Status } : {}),
          ...(pendingStatus?.StatusMessage ? { statusMessage: pendingStatus.StatusMessage } : {}),
          ...(pendingStatus?.StartTime ? { statusSince: new Date(pendingStatus.StartTime) } : {}),
        },
      } : {}),
      ...(alarms?.length ? { rollbackAlarms: alarms } : {}),
    };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw sageMakerError(e, region, `describe SageMaker endpoint ${name}`);
  }
}

/** Reports every status change of an endpoint while something else (CloudFormation) works on it. */
export interface EndpointWatch {
  /** Stops polling; resolves with the last snapshot seen (undefined if the endpoint never existed). */
  stop(): Promise<EndpointSnapshot | undefined>;
  /** The last FailureReason of this deploy seen, even when the endpoint is gone since. */
  readonly failureReason: string | undefined;
  /** The traffic steps of a canary or linear update seen so far (each step's VariantStatus change). */
  readonly steps: readonly SageMakerTrafficStep[];
  /** The config the update was moving to, as PendingDeploymentSummary named it. */
  readonly pendingConfig: string | undefined;
}

/** The endpoint's FailureReason when it was set after `since` (by this deploy), else undefined. */
export function failureSince(s: EndpointSnapshot | undefined, since: Date): string | undefined {
  if (!s?.failureReason) return undefined;
  return !s.lastModified || s.lastModified.getTime() >= since.getTime() - 1000 ? s.failureReason : undefined;
}

export function watchEndpoint(control: SageMakerClient, name: string, region: string, io: IoHelper, pollMs: number, percents: readonly number[] = []): EndpointWatch {
  const since = new Date();
  const steps: SageMakerTrafficStep[] = [];
  let pendingConfig: string | undefined;
  let stepKey = '';
  /** A new VariantStatus of the new fleet (ActivatingTraffic, Baking) is a new traffic step. */
  const follow = (s: EndpointSnapshot) => {
    const p = s.pending;
    if (p) pendingConfig = p.configName;
    const last = steps[steps.length - 1];
    if (!p?.status || (p.status !== 'ActivatingTraffic' && p.status !== 'Baking')) {
      if (last && last.durationMs === undefined && !p) last.durationMs = Date.now() - since.getTime() - last.startedAtMs;
      return;
    }
    const key = `${p.configName}|${p.status}|${p.statusSince?.getTime() ?? ''}|${p.statusMessage ?? ''}`;
    if (key === stepKey) return;
    stepKey = key;
    const startedAtMs = Math.max(0, (p.statusSince?.getTime() ?? Date.now()) - since.getTime());
    if (last && last.durationMs === undefined) last.durationMs = startedAtMs - last.startedAtMs;
    const activating = steps.filter((x) => x.status === 'ActivatingTraffic').length;
    const percent = p.status === 'Baking' ? 100 : percents[activating];
    const step: SageMakerTrafficStep = { step: steps.length + 1, status: p.status, ...(percent === undefined ? {} : { percent }), ...(p.statusMessage ? { statusMessage: p.statusMessage } : {}), startedAtMs };
    steps.push(step);
    io.info('DM_SAGEMAKER_TRAFFIC_STEP', `Endpoint ${name}: ${p.status === 'Baking' ? 'all traffic on the new fleet; baking while the rollback alarms watch' : `traffic step ${activating + 1}${percent === undefined ? '' : ` (${percent} % of the new fleet's capacity)`}`}${p.statusMessage ? `: ${p.statusMessage}` : ''}`,
      { endpointName: name, step: step.step, percent, status: p.status, statusMessage: p.statusMessage });
  };
  let stopped = false;
  let last: EndpointSnapshot | undefined;
  let failureReason: string | undefined;
  let wake: (() => void) | undefined;
  const announce = (s: EndpointSnapshot) => {
    if (last && last.status === s.status && last.configName === s.configName && last.failureReason === s.failureReason) return;
    io.info('DM_SAGEMAKER_ENDPOINT_STATUS', `Endpoint ${name}: ${s.status} (endpoint config ${s.configName})${s.failureReason ? `: ${s.failureReason}` : ''}`,
      { endpointName: name, status: s.status, endpointConfigName: s.configName, failureReason: s.failureReason });
  };
  const loop = (async () => {
    last = await describeEndpoint(control, name, region).catch(() => undefined);
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => { clearTimeout(timer); resolve(); };
      });
      if (stopped) break;
      try {
        const now = await describeEndpoint(control, name, region);
        if (now) {
          announce(now);
          follow(now);
          failureReason = failureSince(now, since) ?? failureReason;
        }
        last = now ?? last;
      } catch (e) {
        io.debug('DM_SAGEMAKER_DESCRIBE_FAILED', `DescribeEndpoint ${name} failed while waiting: ${awsReason(e)}`);
      }
    }
  })();
  return {
    get failureReason() { return failureReason; },
    get steps() { return steps; },
    get pendingConfig() { return pendingConfig; },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      const open = steps[steps.length - 1];
      if (open && open.durationMs === undefined) open.durationMs = Date.now() - since.getTime() - open.startedAtMs;
      return last;
    },
  };
}

/** Polls until the endpoint leaves the transitional states (or is gone), up to `timeoutMs`. */
export async function waitForEndpoint(control: SageMakerClient, name: string, region: string, io: IoHelper, pollMs: number, timeoutMs: number): Promise<EndpointSnapshot | undefined> {
  const deadline = Date.now() + timeoutMs;
  let reported = '';
  for (;;) {
    const s = await describeEndpoint(control, name, region);
    if (!s || !SETTLING.has(s.status)) return s;
    if (s.status !== reported) {
      reported = s.status;
      io.info('DM_SAGEMAKER_ENDPOINT_STATUS', `Endpoint ${name}: ${s.status} (endpoint config ${s.configName})`, { endpointName: name, status: s.status, endpointConfigName: s.configName });
    }
    if (Date.now() > deadline) {
      throw new DeployModelError('SAGEMAKER_ENDPOINT_TIMEOUT', `Endpoint ${name} is still ${s.status} after ${Math.round(timeoutMs / 60_000)} minutes. See it in the SageMaker console, then run \`deploy-model status\`.`, { details: { endpointName: name, status: s.status } });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Puts the endpoint on `configName` with UpdateEndpoint (keeping its blue/green deployment
 * config) and waits until it settles; returns what it settled on.
 */
export async function switchEndpointConfig(control: SageMakerClient, name: string, configName: string, region: string, io: IoHelper, pollMs: number, timeoutMs: number): Promise<EndpointSnapshot | undefined> {
  try {
    await control.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: configName, RetainDeploymentConfig: true }));
  } catch (e) {
    throw sageMakerError(e, region, `update SageMaker endpoint ${name} to endpoint config ${configName}`);
  }
  return waitForEndpoint(control, name, region, io, pollMs, timeoutMs);
}

/** The models an endpoint config serves; empty when the config is gone. */
export async function modelsOf(control: SageMakerClient, configName: string, region: string): Promise<string[]> {
  try {
    const d = await control.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }));
    return (d.ProductionVariants ?? []).map((v) => v.ModelName).filter((m): m is string => !!m);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw sageMakerError(e, region, `describe SageMaker endpoint config ${configName}`);
  }
}

/**
 * Deletes endpoint configs that no longer serve, with their models unless a config of `keep` (the serving
 * config, and the previous one kept for rollback) uses them. Best effort: a failure is reported, not thrown, since the deploy itself
 * succeeded; the names go into the message so they can be deleted by hand.
 */
export async function retireConfigs(control: SageMakerClient, configs: string[], keep: string | readonly string[], region: string, io: IoHelper): Promise<string[]> {
  const retired: string[] = [];
  const keeping = typeof keep === 'string' ? [keep] : keep;
  const kept = new Set((await Promise.all(keeping.map((k) => modelsOf(control, k, region).catch(() => [])))).flat());
  for (const configName of new Set(configs)) {
    if (!configName || keeping.includes(configName)) continue;
    try {
      const models = await modelsOf(control, configName, region);
      await control.send(new DeleteEndpointConfigCommand({ EndpointConfigName: configName })).catch((e) => { if (!isNotFound(e)) throw e; });
      for (const model of models.filter((m) => !kept.has(m))) {
        await control.send(new DeleteModelCommand({ ModelName: model })).catch((e) => { if (!isNotFound(e)) throw e; });
      }
      io.info('DM_SAGEMAKER_RETIRED', `Deleted endpoint config ${configName}${models.length ? ` and model ${models.filter((m) => !kept.has(m)).join(', ')}` : ''}, which no longer serve`, { endpointConfigName: configName, models });
      retired.push(configName);
    } catch (e) {
      io.warn('DM_SAGEMAKER_CLEANUP_FAILED', `Could not delete the old endpoint config ${configName} (or its model): ${awsReason(e)}. It costs nothing; delete it in the SageMaker console when convenient.`, { endpointConfigName: configName });
    }
  }
  return retired;
}
