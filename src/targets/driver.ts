import type { LoadedConfig } from '../config/load-config.js';
import type { Config, TargetConfig } from '../config/schema.js';
import type { ConfigProblem } from '../config/format-issues.js';
import type { IoHelper } from '../io/io-host.js';
import type { ModelSignature } from '../model/types.js';
import type { InferenceClient, SmokeResult } from '../smoke/run-smoke.js';

/** Everything a target driver gets: the loaded config, the model's signature, where to write. */
export interface TargetContext<T extends TargetConfig = TargetConfig> {
  loaded: LoadedConfig;
  config: Config;
  signature: ModelSignature;
  targetName: string;
  target: T;
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

export interface BuildResult {
  artifacts: Artifact[];
}

export interface Deployment {
  endpoint: string;
  /** A version, an image tag, a deployment name: what is now live. */
  version?: string;
  /** Calls the deployed thing for smoke tests and `invoke`. */
  client: InferenceClient;
  details?: Record<string, unknown>;
}

export interface DeployResult {
  endpoint: string;
  version?: string;
  smoke: SmokeResult;
  /** Whether the new version took traffic (false when the smoke test failed and it was rolled back). */
  promoted: boolean;
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

export interface TargetStatus {
  state: 'running' | 'stopped' | 'stale' | 'creating' | 'failed' | 'not-deployed' | 'unknown';
  endpoint?: string;
  version?: string;
  details?: Record<string, unknown>;
}

/**
 * One driver per target type. Plan/build/synth are pure or local; deploy, status, connect and
 * destroy touch the world. `deploy` smoke-tests the new version before it takes traffic.
 */
export interface TargetDriver<T extends TargetConfig = TargetConfig> {
  readonly type: T['type'];
  /** Checks that need no cloud (sizes, limits). */
  validate(ctx: TargetContext<T>): Promise<ConfigProblem[]>;
  build(ctx: TargetContext<T>): Promise<BuildResult>;
  synth?(ctx: TargetContext<T>): Promise<BuildResult>;
  deploy(ctx: TargetContext<T>, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<DeployResult>;
  /** The live deployment, for `smoke` and `invoke`; throws NOT_DEPLOYED when there is none. */
  connect(ctx: TargetContext<T>): Promise<Deployment>;
  status(ctx: TargetContext<T>): Promise<TargetStatus>;
  destroy(ctx: TargetContext<T>): Promise<DestroyResult>;
}
