/** The deployment's probes and request settings, derived from the Triton options. */
import type { AzureMlTargetConfig } from './schema.js';

/**
 * The probes and request settings of an Azure ML deployment, derived from the Triton options so
 * that a TensorRT engine build at start-up is not taken for a dead container, as plain data in the
 * shape of the ARM API (api-version 2022-10-01: `ProbeSettings` and `OnlineRequestSettings`,
 * durations in ISO 8601). The config overrides any field (`livenessProbe`, `readinessProbe`,
 * `requestSettings`).
 *
 * Why these numbers: Triton loads every model, and runs the warmup, before it opens its HTTP port
 * (`main` in triton-inference-server/server src/main.cc creates the server, then starts the
 * endpoints), so both probes get no answer until the load is over. A failed liveness probe
 * restarts the container, and the restart builds the engine again; so the liveness probe waits
 * for the whole start-up budget, while the readiness probe starts early and keeps trying for that
 * long, so a deployment is ready as soon as Triton is.
 */

/** Azure's own defaults (ARM spec ProbeSettings / OnlineRequestSettings; the CLI's initial_delay is 10 s). */
export const AZURE_DEFAULT_PROBE = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 30, successThreshold: 1 } as const;

/**
 * How long a replica may take from start to ready, in seconds. ONNX Runtime's CUDA provider only
 * loads the model; with `warmup` the TensorRT provider builds its engines during the load (FP16
 * and INT8 time more kernels than FP32; INT8 also calibrates). Without warmup the build moves to
 * the first request, so start-up is as short as ONNX Runtime's.
 */
export const STARTUP_BUDGET_SECONDS = { onnxruntime: 600, tensorrt: { fp32: 900, fp16: 1200, int8: 1800 } } as const;

/** Between probes: Azure's default. */
export const PROBE_PERIOD_SECONDS = 10;
/** Triton answers its health routes from memory: Azure's default 2 s is ample. */
export const PROBE_TIMEOUT_SECONDS = 2;
/** Missed liveness probes, once started, before a restart: one minute, not one slow moment. */
export const LIVENESS_FAILURE_THRESHOLD = 6;
/** A request's limit once engines are built: large batches included, a hung request not forever. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Managed online endpoints allow at most 180 s; a first request that builds a TensorRT engine gets all of it. */
export const MAX_REQUEST_TIMEOUT_MS = 180_000;
/** Azure's default: a request that finds the instance full waits this long, then gets 429 and can be retried. */
export const MAX_QUEUE_WAIT_MS = 500;

export interface AzureProbeSettings {
  initialDelay: string;
  period: string;
  timeout: string;
  failureThreshold: number;
  successThreshold: number;
}

export interface AzureRequestSettings {
  requestTimeout: string;
  maxConcurrentRequestsPerInstance: number;
  maxQueueWait: string;
}

export interface AzureRuntimeSettings {
  livenessProbe: AzureProbeSettings;
  readinessProbe: AzureProbeSettings;
  requestSettings: AzureRequestSettings;
}

/** An ISO 8601 duration in seconds, as the ARM API takes it: 600 → `PT600S`, 0.5 → `PT0.5S`. */
export function isoSeconds(seconds: number): string {
  return `PT${seconds}S`;
}

export type RuntimeSettingsTarget = Pick<AzureMlTargetConfig, 'engine' | 'precision' | 'warmup' | 'instancesPerGpu' | 'livenessProbe' | 'readinessProbe' | 'requestSettings'>;

export function startupBudgetSeconds(target: Pick<AzureMlTargetConfig, 'engine' | 'precision' | 'warmup'>): number {
  return target.engine === 'tensorrt' && target.warmup ? STARTUP_BUDGET_SECONDS.tensorrt[target.precision] : STARTUP_BUDGET_SECONDS.onnxruntime;
}

type ProbeOverrides = NonNullable<AzureMlTargetConfig['readinessProbe']>;

/** The fields the config sets (a field written as `undefined` is not set). */
function given<T extends object>(fields: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(fields ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * One probe: the config's fields, else `initialDelay` and the failures allowed once probing has
 * started (`failuresAfter`, from the effective initial delay and period), else Azure's period,
 * timeout and success threshold.
 */
function probe(config: ProbeOverrides | undefined, initialDelay: number, failuresAfter: (initialDelay: number, period: number) => number): AzureProbeSettings {
  const set = given(config);
  const p = { initialDelaySeconds: initialDelay, periodSeconds: PROBE_PERIOD_SECONDS, timeoutSeconds: PROBE_TIMEOUT_SECONDS, successThreshold: 1, ...set };
  return {
    initialDelay: isoSeconds(p.initialDelaySeconds), period: isoSeconds(p.periodSeconds), timeout: isoSeconds(p.timeoutSeconds),
    failureThreshold: set.failureThreshold ?? failuresAfter(p.initialDelaySeconds, p.periodSeconds), successThreshold: p.successThreshold,
  };
}

/**
 * The deployment's probes and request settings. `maxBatchSize` is `model.batching.maxBatchSize`
 * when the model batches dynamically: an instance then takes a whole batch's worth of requests at
 * once, so that Triton can merge them.
 */
export function planRuntimeSettings(target: RuntimeSettingsTarget, maxBatchSize?: number): AzureRuntimeSettings {
  // A liveness delay from the config is the budget the user allows; readiness keeps trying that long.
  const budget = given(target.livenessProbe).initialDelaySeconds ?? startupBudgetSeconds(target);
  const buildsOnFirstRequest = target.engine === 'tensorrt' && !target.warmup;
  // Each model instance runs one request while the next waits in Triton's queue, so the GPU never idles between requests.
  const perInstance = maxBatchSize !== undefined ? Math.max(2, maxBatchSize) : 2;
  const request = {
    requestTimeoutMs: buildsOnFirstRequest ? MAX_REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
    maxConcurrentRequestsPerInstance: target.instancesPerGpu * perInstance,
    maxQueueWaitMs: MAX_QUEUE_WAIT_MS,
    ...given(target.requestSettings),
  };
  return {
    livenessProbe: probe(target.livenessProbe, budget, () => LIVENESS_FAILURE_THRESHOLD),
    // Enough failures to keep trying until the budget is spent, however the period is set.
    readinessProbe: probe(target.readinessProbe, AZURE_DEFAULT_PROBE.initialDelaySeconds, (delay, period) => Math.max(1, Math.ceil((budget - delay) / period))),
    requestSettings: {
      requestTimeout: isoSeconds(request.requestTimeoutMs / 1000),
      maxConcurrentRequestsPerInstance: request.maxConcurrentRequestsPerInstance,
      maxQueueWait: isoSeconds(request.maxQueueWaitMs / 1000),
    },
  };
}
