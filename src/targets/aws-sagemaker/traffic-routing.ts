/** Maps a canary or linear `rollout` onto SageMaker's deployment guardrails (TrafficRoutingConfig), refusing steps SageMaker cannot take. */
import type { RolloutConfig } from '../../config/rollout-schema.js';
import { DEFAULT_TRAFFIC_STEPS } from '../../config/rollout-schema.js';
import { DeployModelError } from '../../errors.js';

/**
 * SageMaker's traffic routing for a blue/green update, resolved from the config. SageMaker
 * moves the traffic by itself: it turns traffic on for a share of the new fleet's capacity, waits
 * `waitIntervalSeconds` watching the rollback alarms, and goes on until the new fleet takes all.
 */
export interface SageMakerTrafficRouting {
  readonly type: 'CANARY' | 'LINEAR';
  /** CanarySize (CANARY) or LinearStepSize (LINEAR), `CAPACITY_PERCENT` of the new fleet. */
  readonly sizePercent: number;
  readonly waitIntervalSeconds: number;
  /** The shares of capacity SageMaker turns traffic on for, step by step; the last is 100. */
  readonly percents: readonly number[];
  /** The CloudWatch alarms that roll the update back. */
  readonly alarms: { readonly maxErrorRate: number; readonly maxP99LatencyMs?: number };
}

/*
 * SageMaker API reference, TrafficRoutingConfig
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html):
 *   CANARY "shifts to the new fleet in two steps": the canary, then the remainder; CanarySize
 *     "must be less than or equal to 50% of the variant's total instance count".
 *   LINEAR "shifts to the new fleet in n steps of a configurable size"; LinearStepSize "must be
 *     10-50% of the variant's total instance count".
 *   WaitIntervalInSeconds: 0-3600.
 */
const CANARY_MAX = 50;
const LINEAR_MIN = 10;
const LINEAR_MAX = 50;

function refuse(steps: readonly number[], rule: string, fix: string): never {
  throw new DeployModelError('SAGEMAKER_ROLLOUT_STEPS', `rollout.steps [${steps.join(', ')}] cannot be expressed on SageMaker: ${rule}. Fix: ${fix}`, { details: { steps } });
}

/** The traffic routing of a canary or linear rollout; undefined for all-at-once. Throws SAGEMAKER_ROLLOUT_STEPS for steps SageMaker cannot take. */
export function sageMakerTrafficRouting(rollout: RolloutConfig | undefined): SageMakerTrafficRouting | undefined {
  if (!rollout || rollout.strategy === 'all-at-once') return undefined;
  const steps = [...(rollout.steps ?? DEFAULT_TRAFFIC_STEPS[rollout.strategy])];
  const alarms = { maxErrorRate: rollout.alarms.maxErrorRate, ...(rollout.alarms.maxP99LatencyMs === undefined ? {} : { maxP99LatencyMs: rollout.alarms.maxP99LatencyMs }) };
  const waitIntervalSeconds = Math.round(rollout.intervalSeconds);
  if (rollout.strategy === 'canary') {
    if (steps.length !== 1) {
      refuse(steps, 'a CANARY traffic routing takes one canary size, then moves the remainder at once', `give one step, e.g. steps: [${steps[0]}], or use strategy 'linear' with equal steps`);
    }
    const size = steps[0]!;
    if (size > CANARY_MAX) refuse(steps, `CanarySize must be at most ${CANARY_MAX} % of the variant's capacity`, `use a canary of ${CANARY_MAX} % or less, e.g. steps: [10]`);
    return { type: 'CANARY', sizePercent: size, waitIntervalSeconds, percents: [size, 100], alarms };
  }
  const size = steps[0]!;
  const expected = Array.from({ length: Math.ceil(100 / size) - 1 }, (_, i) => (i + 1) * size);
  if (size < LINEAR_MIN || size > LINEAR_MAX) {
    refuse(steps, `a LINEAR traffic routing moves one LinearStepSize at a time, and LinearStepSize must be ${LINEAR_MIN}-${LINEAR_MAX} % of the variant's capacity`, `start with a step of ${LINEAR_MIN}-${LINEAR_MAX} %, e.g. steps: [25, 50, 75]`);
  }
  if (steps.length !== expected.length || steps.some((p, i) => p !== expected[i])) {
    refuse(steps, `a LINEAR traffic routing moves one step size (LinearStepSize) at a time until the new fleet takes all, so a first step of ${size} % goes ${[...expected, 100].join(', ')} %`, `give equal steps, steps: [${expected.join(', ')}], or another step size of ${LINEAR_MIN}-${LINEAR_MAX} % and its multiples below 100, e.g. steps: [25, 50, 75]`);
  }
  return { type: 'LINEAR', sizePercent: size, waitIntervalSeconds, percents: [...expected, 100], alarms };
}
