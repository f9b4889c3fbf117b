/** What a target type is: its config schema, its checks and planner (no I/O), and its driver, loaded on first use. */
import type { z } from 'zod';
import type { ConfigProblem } from '../config/format-issues.js';
import type { ProjectConfig } from '../config/schema.js';
import type { ModelSignature } from '../model/types.js';
import type { TargetDriver } from './driver.js';
import type { TrafficPlan } from '../config/rollout-schema.js';

/** Everything a planner reads: the config, the model's signature, and where the config lives. */
export interface PlanInput<T> {
  readonly config: ProjectConfig;
  readonly stage: string;
  readonly targetName: string;
  /** This target's entry of `config.targets`, defaults applied. */
  readonly target: T;
  readonly signature: ModelSignature;
  /** The config file's folder, where the config's relative paths start. */
  readonly rootDir: string;
}

/** One step of a rollout, as `deploy-model plan` shows it. */
export interface RolloutStep {
  /** `stage`, `smoke`, `promote` or `rollback`: which hook of the rollout core runs it. */
  readonly phase: 'stage' | 'smoke' | 'promote' | 'rollback';
  readonly action: string;
}

export interface RolloutPlan {
  readonly strategy: 'all-at-once' | 'canary' | 'linear';
  readonly steps: readonly RolloutStep[];
  /** The traffic steps of a canary or linear rollout, which the rollout core runs through the `shift` hook. @default - all at once */
  readonly traffic?: TrafficPlan;
}

/**
 * The part every target's plan has. A plan is plain, serialisable data that build, synth and
 * deploy consume without deriving anything again; two plans of the same input are equal.
 */
export interface TargetPlanBase {
  readonly type: string;
  readonly targetName: string;
  readonly stage: string;
  /** `<name>-<stage>-<target>`: the base of the target's resource names. */
  readonly resourceName: string;
  /** The model the plan serves. */
  readonly model: { readonly file: string; readonly sha256: string; readonly bytes: number };
  readonly rollout: RolloutPlan;
}

/** A target type. Register it in `registry.ts`; `src/targets/README.md` is the checklist. */
export interface TargetModule<Type extends string = string, Schema extends z.ZodType<{ type: Type }> = z.ZodType<{ type: Type }>, Plan extends TargetPlanBase = TargetPlanBase> {
  readonly type: Type;
  /** The zod schema of the target's config entry (`type: z.literal(Type)`, `.strict()`). */
  readonly schema: Schema;
  /**
   * Checks that need no cloud: sizes and limits, what the serving runtime would refuse. Reads
   * local files at most (e.g. the layer's size). Every problem is reported, none thrown.
   * @default - none
   */
  validate?(input: PlanInput<z.output<Schema>>): Promise<ConfigProblem[]>;
  /** Resolves every value once (names, sizes, environment, generated configs, rollout steps); no I/O. */
  plan(input: PlanInput<z.output<Schema>>): Plan;
  /** The half that touches the world; imported on first use, since it loads cloud SDKs. */
  driver(): Promise<TargetDriver<z.output<Schema>, Plan>>;
}

/** Identity with inference: `export const localTarget = defineTarget({ type: 'local', ... })`. */
export function defineTarget<Type extends string, Schema extends z.ZodType<{ type: Type }>, Plan extends TargetPlanBase>(
  module: TargetModule<Type, Schema, Plan>,
): TargetModule<Type, Schema, Plan> {
  return module;
}
