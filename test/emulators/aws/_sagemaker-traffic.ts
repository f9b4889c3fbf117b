// The SageMaker fake's blue/green updates with CANARY or LINEAR traffic routing: steps, weighted routing, rollback alarms, baking.
import type { FakeAlarm, FakeSageMakerEndpoint, PendingDeployment, SageMakerFake, ServedConfig } from './_sagemaker-store.js';

/*
 * What SageMaker does, from its API reference and developer guide:
 * - TrafficRoutingConfig (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html):
 *   CANARY shifts "in two steps": the canary (CanarySize, <= 50 % of the variant's capacity), then
 *   the remainder; LINEAR "in n steps" of LinearStepSize (10-50 %); WaitIntervalInSeconds (0-3600)
 *   between steps.
 * - BlueGreenUpdatePolicy (API_BlueGreenUpdatePolicy.html): TerminationWaitInSeconds (0-3600) keeps
 *   the old fleet after all traffic moved ("baking"); MaximumExecutionTimeoutInSeconds 600-28800.
 * - AutoRollbackConfig (API_AutoRollbackConfig.html): at most 10 alarms; any of them in ALARM
 *   during the deployment rolls it back to the old fleet.
 * - DescribeEndpoint (API_DescribeEndpoint.html) shows an update in progress in
 *   PendingDeploymentSummary: the new config's variants with their VariantStatus
 *   (API_ProductionVariantStatus.html: Creating | Updating | Deleting | ActivatingTraffic | Baking,
 *   StatusMessage, StartTime); a rolled-back update leaves the endpoint InService on the old config
 *   with FailureReason set (the wording of that reason below is the fake's own).
 */

/** TrafficRoutingConfig of a BlueGreenUpdatePolicy, as sent on the wire. */
interface TrafficRoutingConfig {
  Type?: string;
  WaitIntervalInSeconds?: number;
  CanarySize?: { Type?: string; Value?: number };
  LinearStepSize?: { Type?: string; Value?: number };
}

interface DeploymentConfig {
  BlueGreenUpdatePolicy?: { TrafficRoutingConfiguration?: TrafficRoutingConfig; TerminationWaitInSeconds?: number; MaximumExecutionTimeoutInSeconds?: number };
  AutoRollbackConfiguration?: { Alarms?: Array<{ AlarmName?: string }> };
}

/** The steps of a CANARY or LINEAR update, in percent of the new fleet's capacity; undefined for ALL_AT_ONCE (or no config). */
export function trafficSteps(config: unknown, instanceCount: number): { percents: number[]; waitSeconds: number; terminationSeconds: number; alarms: string[] } | undefined {
  const policy = (config as DeploymentConfig | undefined)?.BlueGreenUpdatePolicy;
  const routing = policy?.TrafficRoutingConfiguration;
  if (!routing || (routing.Type !== 'CANARY' && routing.Type !== 'LINEAR')) return undefined;
  const size = routing.Type === 'CANARY' ? routing.CanarySize : routing.LinearStepSize;
  const value = Number(size?.Value ?? 0);
  // INSTANCE_COUNT sizes are turned into a share of the fleet.
  const percent = size?.Type === 'INSTANCE_COUNT' ? (100 * value) / instanceCount : value;
  const percents = routing.Type === 'CANARY'
    ? [percent, 100]
    : [...Array.from({ length: Math.ceil(100 / percent) - 1 }, (_, i) => Math.round((i + 1) * percent)), 100];
  const alarms = ((config as DeploymentConfig).AutoRollbackConfiguration?.Alarms ?? []).map((a) => String(a.AlarmName));
  return { percents, waitSeconds: Number(routing.WaitIntervalInSeconds ?? 0), terminationSeconds: Number(policy?.TerminationWaitInSeconds ?? 0), alarms };
}

/** What the DeploymentConfig refuses, as SageMaker's ValidationException message; undefined when valid. */
export function trafficRoutingProblem(config: unknown, instanceCount: number): string | undefined {
  const policy = (config as DeploymentConfig | undefined)?.BlueGreenUpdatePolicy;
  const routing = policy?.TrafficRoutingConfiguration;
  if (!routing) return undefined;
  const wait = Number(routing.WaitIntervalInSeconds ?? 0);
  if (!(wait >= 0 && wait <= 3600)) return `Value '${wait}' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600`;
  const term = Number(policy?.TerminationWaitInSeconds ?? 0);
  if (!(term >= 0 && term <= 3600)) return `Value '${term}' at 'deploymentConfig.blueGreenUpdatePolicy.terminationWaitInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600`;
  const max = policy?.MaximumExecutionTimeoutInSeconds;
  if (max !== undefined && !(max >= 600 && max <= 28_800)) return `Value '${max}' at 'deploymentConfig.blueGreenUpdatePolicy.maximumExecutionTimeoutInSeconds' failed to satisfy constraint: Member must have value between 600 and 28800`;
  const alarms = (config as DeploymentConfig).AutoRollbackConfiguration?.Alarms ?? [];
  if (alarms.length > 10) return `Value at 'deploymentConfig.autoRollbackConfiguration.alarms' failed to satisfy constraint: Member must have length less than or equal to 10`;
  if (routing.Type === 'CANARY' || routing.Type === 'LINEAR') {
    const field = routing.Type === 'CANARY' ? 'CanarySize' : 'LinearStepSize';
    const size = routing.Type === 'CANARY' ? routing.CanarySize : routing.LinearStepSize;
    if (!size) return `${field} is required for traffic routing type ${routing.Type}.`;
    const percent = size.Type === 'INSTANCE_COUNT' ? (100 * Number(size.Value)) / instanceCount : Number(size.Value);
    if (routing.Type === 'CANARY' && !(percent > 0 && percent <= 50)) return `CanarySize must be less than or equal to 50% of the variant's total instance count.`;
    if (routing.Type === 'LINEAR' && !(percent >= 10 && percent <= 50)) return `LinearStepSize must be 10-50% of the variant's total instance count.`;
  }
  return undefined;
}

/** Why an update rolled back: the alarms in ALARM, named. */
export function alarmFailureReason(alarms: string[]): string {
  return `Endpoint update was rolled back because the following CloudWatch alarm(s) went into ALARM state during the deployment: ${alarms.join(', ')}.`;
}

/**
 * Runs the traffic steps of an update whose new fleet is up: turns traffic on for each share,
 * waiting `WaitIntervalInSeconds` (scaled by `sm.deploymentSecondMs`) between steps while
 * watching the rollback alarms, then bakes for `TerminationWaitInSeconds`. Returns the alarms in
 * ALARM when one fired (the caller rolls back), else an empty list.
 */
export async function runTrafficSteps(sm: SageMakerFake, endpoint: FakeSageMakerEndpoint, pending: PendingDeployment, next: ServedConfig, steps: NonNullable<ReturnType<typeof trafficSteps>>): Promise<string[]> {
  pending.served = next;
  for (const [i, percent] of steps.percents.entries()) {
    pending.step = i + 1;
    pending.percent = percent;
    pending.variantStatus = { Status: 'ActivatingTraffic', StatusMessage: `Turning on traffic for ${percent}% of the new fleet's capacity (step ${i + 1} of ${steps.percents.length})`, StartTime: new Date() };
    // Turning traffic on takes a moment (`transitionMs`), even for the last step; a fault's alarm
    // goes into ALARM once the step's traffic reached the new fleet.
    const turning = await watchAlarms(sm, endpoint, steps.alarms, sm.transitionMs / sm.deploymentSecondMs);
    if (turning.length) return turning;
    sm.faults.fireAlarmAtStep(sm, endpoint.name, i + 1, steps.alarms);
    const last = i === steps.percents.length - 1;
    const fired = await watchAlarms(sm, endpoint, steps.alarms, last ? 0 : steps.waitSeconds);
    if (fired.length) return fired;
  }
  pending.variantStatus = { Status: 'Baking', StatusMessage: `Waiting ${steps.terminationSeconds} seconds to monitor the CloudWatch alarms before terminating the old fleet`, StartTime: new Date() };
  return watchAlarms(sm, endpoint, steps.alarms, steps.terminationSeconds);
}

/** Waits `seconds` (scaled), evaluating and checking the alarms every few milliseconds; the alarms in ALARM, if any. */
async function watchAlarms(sm: SageMakerFake, endpoint: FakeSageMakerEndpoint, alarms: string[], seconds: number): Promise<string[]> {
  const until = Date.now() + seconds * sm.deploymentSecondMs;
  for (;;) {
    evaluateAlarms(sm, endpoint, alarms);
    const firing = alarms.filter((a) => sm.alarmStates.get(a) === 'ALARM');
    if (firing.length) return firing;
    const left = until - Date.now();
    if (left <= 0) return [];
    await new Promise((r) => setTimeout(r, Math.min(5, left)));
  }
}

const BREACHES: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/**
 * Puts into ALARM the stack's alarms on this endpoint's Invocation5XXErrors (a Sum) or on
 * Invocation5XXErrors / Invocations (metric math) that the update's invocations breach. CloudWatch
 * evaluates per period (a minute here); the fake evaluates the invocations since the update began,
 * both fleets counted as the variant's metrics count them. Other metrics (ModelLatency) are set by
 * tests with `setAlarmState`.
 */
function evaluateAlarms(sm: SageMakerFake, endpoint: FakeSageMakerEndpoint, names: string[]): void {
  const since = sm.invocations.slice(endpoint.pending?.invocationsFrom ?? sm.invocations.length).filter((i) => i.endpointName === endpoint.name);
  const errors = since.filter((i) => i.status >= 500).length;
  for (const name of names) {
    const alarm = sm.alarms.get(name);
    if (!alarm || sm.alarmStates.get(name) === 'ALARM') continue;
    const value = metricValue(alarm, endpoint.name, errors, since.length);
    const breaches = BREACHES[String(alarm.properties.ComparisonOperator)];
    if (value !== undefined && breaches?.(value, Number(alarm.properties.Threshold))) sm.setAlarmState(name, 'ALARM');
  }
}

function onEndpoint(metric: Record<string, any> | undefined, endpointName: string): boolean {
  return metric?.Namespace === 'AWS/SageMaker' && ((metric.Dimensions ?? []) as Array<{ Name: string; Value: string }>).some((d) => d.Name === 'EndpointName' && d.Value === endpointName);
}

/** The alarm's value from the counts; undefined for a metric the fake does not compute. */
function metricValue(alarm: FakeAlarm, endpointName: string, errors: number, invocations: number): number | undefined {
  const p = alarm.properties;
  if (p.MetricName === 'Invocation5XXErrors' && onEndpoint(p, endpointName)) return errors;
  const metrics = (p.Metrics ?? []) as Array<{ Id: string; Expression?: string; MetricStat?: { Metric: Record<string, any> } }>;
  const stat = (metricName: string) => metrics.some((m) => m.MetricStat?.Metric.MetricName === metricName && onEndpoint(m.MetricStat.Metric, endpointName));
  if (stat('Invocation5XXErrors') && stat('Invocations')) return invocations ? errors / invocations : 0;
  return undefined;
}

/**
 * Which fleet answers the next invocation during a traffic step: a weighted round robin, so that
 * `percent` % of the invocations go to the new fleet, exactly and deterministically.
 */
export function pickFleet(endpoint: FakeSageMakerEndpoint): ServedConfig | undefined {
  const pending = endpoint.pending;
  if (!pending?.served || !pending.percent) return endpoint.serving;
  pending.credit = (pending.credit ?? 0) + pending.percent;
  if (pending.credit >= 100) {
    pending.credit -= 100;
    return pending.served;
  }
  return endpoint.serving;
}
