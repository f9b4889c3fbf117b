/** The I/O half of a target: build, synth, the rollout hooks, connect, status, destroy, diff. */
import type { ConfigSource } from '../config/load-config.js';
import type { ProjectConfig } from '../config/schema.js';
import type { IoHelper } from '../io/io-host.js';
import type { ModelSignature } from '../model/types.js';
import type { InferenceClient, SmokeCheck, SmokeReference, SmokeResult } from '../smoke/run-smoke.js';
import type { TargetPlanBase } from './target-module.js';
import type { LogLine, LogsOptions } from '../kits/logs/log-line.js';

export type { LogLine, LogsOptions } from '../kits/logs/log-line.js';

/** Everything a driver gets: the loaded config, the model's signature, the plan, where to write. */
export interface TargetContext<T extends { type: string } = { type: string }, P extends TargetPlanBase = TargetPlanBase> {
  /** Where the config came from: its file, folder and stage. */
  loaded: ConfigSource;
  config: ProjectConfig;
  signature: ModelSignature;
  targetName: string;
  target: T;
  /** The target's plan: drivers read resolved values from here and derive nothing again. */
  plan: P;
  io: IoHelper;
  /** `<config dir>/.deploy-model/<stage>/<target>`: build outputs. */
  workDir: string;
  /** `<config dir>/.deploy-model/state`: records of local deployments. */
  stateDir: string;
  /** Cache shared by all targets and configs (layers, base images). */
  cacheDir: string;
}

export interface Artifact {
  kind: string;
  file: string;
  bytes: number;
  sha256?: string;
}

/**
 * What a build produced: the artifacts to show, and `outputs`, the driver's own serialisable
 * record of them (paths, digests) that synth and the rollout hooks read instead of building again.
 */
export interface BuildResult<O = unknown> {
  artifacts: Artifact[];
  outputs?: O;
  /** True when the toolkit reused an earlier build of the same plan and model. */
  cached?: boolean;
}

export interface Deployment {
  endpoint: string;
  /** A version, an image tag, a deployment name: what is now live. */
  version?: string;
  /** Calls the deployed thing for smoke tests and `invoke`. */
  client: InferenceClient;
  /** Outputs the smoke test must match, where the target computed them at build. @default - none */
  reference?: SmokeReference;
  /** Releases what `connect` opened (a browser); the toolkit calls it when done. @default - nothing to release */
  close?(): Promise<void>;
  details?: Record<string, unknown>;
}

export interface DeployResult {
  /** Where the target serves after the deploy; undefined when nothing does (a first deploy rolled back). */
  endpoint?: string;
  version?: string;
  smoke: SmokeResult;
  /** Whether the new version serves after the deploy (false when the smoke test failed and it was removed). */
  promoted: boolean;
  /** The version that served before; undefined on a first deploy. */
  previousVersion?: string;
  details?: Record<string, unknown>;
}

/**
 * A new version, staged by `RolloutHooks.stage` where it can be called but (where the platform
 * allows) takes no traffic yet.
 */
export interface Candidate<S = unknown> {
  /** Where users reach the target once the candidate is promoted. */
  endpoint: string;
  /** Where users reach what serves now, when that differs from `endpoint` (a local function on another port). */
  previousEndpoint?: string;
  /** The candidate's version: a version number, a spec hash, an image tag. */
  version: string;
  /** Calls the candidate itself, for the smoke test. */
  client: InferenceClient;
  /** Outputs the smoke test must match, where the target computed them at build. @default - none */
  reference?: SmokeReference;
  /** The version serving before, which a failed smoke test leaves serving; undefined on a first deploy. */
  previous?: string;
  /** The candidate already is what serves: nothing to promote or roll back. */
  unchanged?: boolean;
  /**
   * Calls the endpoint users reach (the traffic split between the versions), for the probe
   * requests of a canary or linear rollout's steps.
   * @default - the target cannot split traffic
   */
  liveClient?: InferenceClient;
  /**
   * The traffic steps the platform ran by itself while `stage` deployed (SageMaker's deployment
   * guardrails) and, when one of its alarms stopped them, the failed check: the platform already
   * moved all traffic back, so the core reports the deploy as not promoted, with no smoke test
   * and no rollback of its own.
   * @default - the platform ran no traffic steps
   */
  platformRollout?: { steps: readonly object[]; failure?: SmokeCheck };
  /** The driver's own state for promote and rollback. */
  state: S;
  details?: Record<string, unknown>;
}

/** What became of a candidate that failed its smoke test: the outcome, or the outcome and details for the report. */
export type RollbackResult = RollbackOutcome | { outcome: RollbackOutcome; details: Record<string, unknown> };

/** What became of a candidate that failed its smoke test. */
export type RollbackOutcome =
  /** Removed: the previous version serves, or nothing does on a first deploy. */
  | 'removed'
  /** It could not be taken back (a first Lambda version, a SageMaker endpoint with no older config): it serves. */
  | 'kept';

/**
 * The platform's part of a rollout; the toolkit's rollout core runs
 * build → stage → smoke → promote, or rollback, and reports.
 */
export interface RolloutHooks<T extends { type: string } = { type: string }, P extends TargetPlanBase = TargetPlanBase, S = unknown> {
  /** Puts the built version where it can be smoke-tested, keeping what serves where the platform allows. */
  stage(ctx: TargetContext<T, P>, build: BuildResult): Promise<Candidate<S>>;
  /** Gives the candidate the traffic and retires what served before; may return details for the report. */
  promote(ctx: TargetContext<T, P>, candidate: Candidate<S>): Promise<void | Record<string, unknown>>;
  /**
   * Gives the candidate `percent` of the requests, the previous version the rest (a canary or
   * linear rollout's step). `rollback` must then also move that share back.
   * @default - the platform cannot split traffic: a canary or linear rollout is refused
   */
  shift?(ctx: TargetContext<T, P>, candidate: Candidate<S>, percent: number): Promise<void>;
  /** Takes a failed candidate back, so the previous version serves. */
  rollback(ctx: TargetContext<T, P>, candidate: Candidate<S>): Promise<RollbackResult>;
  /** Releases what `stage` opened (clients, channels) for an unchanged candidate, which is neither promoted nor rolled back. @default - nothing to release */
  release?(ctx: TargetContext<T, P>, candidate: Candidate<S>): Promise<void>;
}

/** What `rollback` did: the version it took away, and the version that serves again. */
export interface RestoreResult {
  /** The version that served before the rollback. */
  from: string;
  /** The version that serves now: the one that served before the last deploy. */
  to: string;
  endpoint?: string;
  details?: Record<string, unknown>;
}

export interface TargetStatus {
  state: 'running' | 'stopped' | 'stale' | 'creating' | 'failed' | 'not-deployed' | 'unknown';
  endpoint?: string;
  version?: string;
  details?: Record<string, unknown>;
}

/** A resource a destroy left in the account on purpose (a retained log group), and how to remove it. */
export interface RetainedResource {
  type: string;
  logicalId: string;
  physicalId: string;
  /** A command that deletes it, where there is one. */
  deleteWith?: string;
}

export interface DestroyResult {
  /** False when nothing was deployed. */
  removed: boolean;
  /** @default - nothing kept */
  retained?: RetainedResource[];
}

/** One difference between the plan and what is deployed. */
export interface TargetChange {
  /** The resource, in the platform's words (a logical id, a deployment name, a file). */
  resource: string;
  action: 'create' | 'update' | 'replace' | 'delete';
  /** What changes, one line. */
  detail: string;
  /** Replacing or deleting it takes down something that serves. */
  disruptive?: boolean;
}

export interface TargetDiff {
  /** Nothing would change. */
  unchanged: boolean;
  changes: TargetChange[];
  /** The platform's own rendering, when it has one (CloudFormation's diff). */
  text?: string;
}

/**
 * One driver per target type, loaded by its module's `driver()`. The toolkit calls `build`
 * (cached by the plan and the model's content), `synth`, and the rollout hooks; `connect`,
 * `status` and `destroy` read and change the deployment itself, with no local state for clouds.
 */
export interface TargetDriver<T extends { type: string } = { type: string }, P extends TargetPlanBase = TargetPlanBase> {
  build(ctx: TargetContext<T, P>): Promise<BuildResult>;
  /** Writes the infrastructure with no credentials and no network. @default - the build's artifacts */
  synth?(ctx: TargetContext<T, P>, build: BuildResult): Promise<BuildResult>;
  rollout: RolloutHooks<T, P, any>;
  /** The live deployment, for `smoke` and `invoke`; throws NOT_DEPLOYED when there is none. */
  connect(ctx: TargetContext<T, P>): Promise<Deployment>;
  status(ctx: TargetContext<T, P>): Promise<TargetStatus>;
  destroy(ctx: TargetContext<T, P>): Promise<DestroyResult>;
  /**
   * Puts back the version that served before the last deploy, where the platform keeps it. Throws
   * NOT_DEPLOYED when nothing serves, ROLLBACK_NO_PREVIOUS when no earlier version is kept (a first
   * deploy, or a rollback already made).
   * @default - unavailable: the toolkit says so (TARGET_ACTION_UNAVAILABLE)
   */
  restorePrevious?(ctx: TargetContext<T, P>, build: BuildResult): Promise<RestoreResult>;
  /** What a deploy of this plan would change. @default - not supported: the toolkit says so */
  diff?(ctx: TargetContext<T, P>, build: BuildResult): Promise<TargetDiff>;
  /**
   * The deployment's logs from `options.since` on (the toolkit always passes it), oldest first;
   * with `follow`, new lines until `signal` aborts. Throws NOT_DEPLOYED when there is nothing to
   * read, TARGET_ACTION_UNAVAILABLE (saying where the logs are) when deploy-model cannot read them.
   * @default - unavailable: the toolkit says so
   */
  logs?(ctx: TargetContext<T, P>, options: LogsOptions): AsyncIterable<LogLine>;
}

