/** The `rollout` option of the targets whose platform can split traffic: the strategy, its steps, and the alarms that stop it. */
import { z } from 'zod';

/** Traffic steps by strategy, in percent of requests on the new version, when `steps` is not given. */
export const DEFAULT_TRAFFIC_STEPS = { canary: [10], linear: [25, 50, 75] } as const;

export const rolloutSchema = z
  .object({
    /**
     * `all-at-once` moves every request to the new version once it passed its smoke test;
     * `canary` sends it one share of the traffic first, `linear` several growing shares, each
     * checked before the next.
     * @default 'all-at-once'
     */
    strategy: z.enum(['all-at-once', 'canary', 'linear']).default('all-at-once')
      .describe("'all-at-once' moves all traffic after the smoke test; 'canary' one share first; 'linear' growing shares, each checked before the next. Default: 'all-at-once'."),
    /**
     * The share of requests the new version gets at each step, in percent, increasing; after the
     * last step it gets all of them.
     * @default - [10] for canary, [25, 50, 75] for linear
     */
    steps: z.array(z.number().int().min(1).max(99)).min(1).max(20).optional()
      .refine((s) => !s || s.every((p, i) => i === 0 || p > s[i - 1]!), 'must increase step by step, e.g. [10, 50]')
      .describe('Percent of requests on the new version at each step, increasing (1-99). Default: [10] for canary, [25, 50, 75] for linear.'),
    /**
     * How long each step serves before its checks decide.
     * @default 60
     */
    intervalSeconds: z.number().min(0).max(3600).default(60).describe('Seconds each step serves before its checks decide. Default: 60.'),
    /**
     * What stops a rollout: at each step the golden smoke test runs against the new version, and
     * `probeRequests` requests go to the endpoint users reach (both versions, as split); an error
     * rate or a p99 latency over these moves all traffic back.
     * @default - error rate 0 (any error stops it), no latency alarm, 20 probe requests
     */
    alarms: z.object({
      /** @default 0 */
      maxErrorRate: z.number().min(0).max(1).default(0).describe('Largest share of probe requests that may fail (0-1). Default: 0.'),
      /** @default - no latency alarm */
      maxP99LatencyMs: z.number().positive().optional().describe('Largest p99 latency of the probe requests, in ms. Default: none.'),
      /** @default 20 */
      probeRequests: z.number().int().min(1).max(10_000).default(20).describe('Requests sent to the split endpoint at each step. Default: 20.'),
    }).strict().default({ maxErrorRate: 0, probeRequests: 20 })
      .describe('What stops the rollout at a step: the error rate and p99 latency of probe requests through the split endpoint. Default: any error stops it.'),
  })
  .strict()
  .describe("How traffic moves to a new version. Default: all at once, after the smoke test.");

export type RolloutConfig = z.output<typeof rolloutSchema>;

/** The traffic steps a rollout config resolves to: none for all-at-once. */
export function trafficPlan(rollout: RolloutConfig | undefined): TrafficPlan | undefined {
  if (!rollout || rollout.strategy === 'all-at-once') return undefined;
  return { percents: [...(rollout.steps ?? DEFAULT_TRAFFIC_STEPS[rollout.strategy])], intervalSeconds: rollout.intervalSeconds, alarms: { ...rollout.alarms } };
}

/** Resolved traffic steps, in the target's plan. */
export interface TrafficPlan {
  readonly percents: readonly number[];
  readonly intervalSeconds: number;
  readonly alarms: { readonly maxErrorRate: number; readonly maxP99LatencyMs?: number; readonly probeRequests: number };
}
