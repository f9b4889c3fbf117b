import type { ResourceProvisioner } from './cfn-resources.js';
import type { Faults } from './faults.js';
import type { LambdaRuntime } from './_lambda-runtime.js';
import type { FakeState } from './state.js';

/** What every service module and resource provisioner of one fake shares. */
export interface FakeContext {
  readonly region: string;
  readonly accountId: string;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly endpoint: string;
  readonly state: FakeState;
  readonly faults: Faults;
  /** Keyed by CloudFormation resource type. */
  readonly provisioners: ReadonlyMap<string, ResourceProvisioner>;
  readonly lambdaRuntime: LambdaRuntime;
  /** A scratch folder removed on stop (function zips for the runner live here). */
  readonly workDir: string;
}
