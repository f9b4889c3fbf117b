/**
 * What Azure ML accepts in a managed online deployment's probes and request settings, and what
 * the liveness probe does to a slow container. Sources:
 * - the ARM spec, Azure/azure-rest-api-specs specification/machinelearningservices/resource-manager/
 *   Microsoft.MachineLearningServices/stable/2022-10-01/mfe.json, definitions `ProbeSettings` and
 *   `OnlineRequestSettings`: thresholds and the concurrency are int32, the others `format: duration`
 *   (ISO 8601), and the defaults used when a field is absent;
 * - the CLI (v2) managed online deployment YAML schema (MicrosoftDocs/azure-ai-docs
 *   articles/machine-learning/reference-yaml-deployment-managed-online.md), ProbeSettings:
 *   initial_delay and timeout at least 1 s, thresholds at least 1, the liveness probe's
 *   success_threshold fixed at 1; RequestSettings: request_timeout_ms at most 180000;
 * - the online endpoint limits (articles/machine-learning/how-to-manage-quotas.md): a managed
 *   online endpoint's request time-out is at most 180 seconds;
 * - Kubernetes' probe rules, which these probes are: periodSeconds at least 1.
 */

const INT32_MAX = 2 ** 31 - 1;

/** Azure's values for an absent field (ARM spec defaults; the CLI documents initial_delay as 10). */
export const PROBE_DEFAULTS = { initialDelay: 10, period: 10, timeout: 2, failureThreshold: 30, successThreshold: 1 } as const;

/** Seconds of an ISO 8601 duration of days, hours, minutes and seconds (`PT10S`, `PT0.5S`, `P1DT2H`); undefined if it is not one. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

function checkInt(at: string, value: unknown, min: number, max = INT32_MAX): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value > INT32_MAX || value < -INT32_MAX - 1) return `${at} must be a 32-bit integer, got ${JSON.stringify(value)}.`;
  if (value < min || value > max) return min === max ? `${at} must be ${min}, got ${value}.` : `${at} must be at least ${min}, got ${value}.`;
  return undefined;
}

function checkDuration(at: string, value: unknown, min: number, max = Infinity): string | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = durationSeconds(value);
  if (seconds === undefined) return `${at} must be an ISO 8601 duration such as PT10S, got ${JSON.stringify(value)}.`;
  if (seconds < min) return `${at} must be at least ${min} second(s), got ${value}.`;
  if (seconds > max) return `${at} must be at most ${max} seconds, got ${value}.`;
  return undefined;
}

function probeProblem(kind: 'livenessProbe' | 'readinessProbe', p: Record<string, unknown> | undefined): string | undefined {
  if (p === undefined || p === null) return undefined;
  return checkDuration(`${kind}.initialDelay`, p.initialDelay, 1)
    ?? checkDuration(`${kind}.period`, p.period, 1)
    ?? checkDuration(`${kind}.timeout`, p.timeout, 1)
    ?? checkInt(`${kind}.failureThreshold`, p.failureThreshold, 1)
    ?? checkInt(`${kind}.successThreshold`, p.successThreshold, 1, kind === 'livenessProbe' ? 1 : INT32_MAX);
}

/** The first rule a deployment's `properties` break, as Azure would say it; undefined when they pass. */
export function deploymentSettingsProblem(props: Record<string, any>): string | undefined {
  const request = props.requestSettings as Record<string, unknown> | undefined;
  return probeProblem('livenessProbe', props.livenessProbe)
    ?? probeProblem('readinessProbe', props.readinessProbe)
    ?? (request ? checkDuration('requestSettings.requestTimeout', request.requestTimeout, 0, 180)
      ?? checkDuration('requestSettings.maxQueueWait', request.maxQueueWait, 0)
      ?? checkInt('requestSettings.maxConcurrentRequestsPerInstance', request.maxConcurrentRequestsPerInstance, -INT32_MAX - 1) : undefined);
}

/**
 * How long a container may stay silent after it starts before the liveness probe has failed
 * `failureThreshold` times in a row and the container is restarted: initialDelay + period x
 * failureThreshold. A container that needs longer to start (Triton answers nothing until its
 * models are loaded) is restarted forever.
 */
export function livenessAllowanceSeconds(probe: Record<string, unknown> | undefined): number {
  const p = probe ?? {};
  const initialDelay = durationSeconds(p.initialDelay) ?? PROBE_DEFAULTS.initialDelay;
  const period = durationSeconds(p.period) ?? PROBE_DEFAULTS.period;
  const failures = typeof p.failureThreshold === 'number' ? p.failureThreshold : PROBE_DEFAULTS.failureThreshold;
  return initialDelay + period * failures;
}
