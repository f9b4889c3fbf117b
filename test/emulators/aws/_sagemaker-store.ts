import { sendContainerLogsToCloudWatch } from './_sagemaker-logs.js';
import type { FakeState } from './state.js';

/** SageMaker's `EndpointStatus` values the fake uses. */
export type EndpointStatus = 'Creating' | 'Updating' | 'RollingBack' | 'InService' | 'Deleting' | 'Failed';

/** PrimaryContainer.ModelDataSource.S3DataSource of a model. */
export interface FakeModelDataSource {
  readonly s3Uri: string;
  readonly s3DataType: 'S3Prefix' | 'S3Object';
  readonly compressionType: 'None' | 'Gzip';
}

export interface FakeSageMakerModel {
  readonly name: string;
  readonly arn: string;
  readonly image: string;
  readonly modelDataUrl: string;
  readonly modelDataSource?: FakeModelDataSource;
  readonly environment: Record<string, string>;
  readonly executionRoleArn: string;
  readonly networkIsolation: boolean;
  readonly vpcConfig?: unknown;
  readonly created: Date;
}

export interface FakeProductionVariant {
  readonly VariantName: string;
  readonly ModelName: string;
  readonly InstanceType: string;
  readonly InitialInstanceCount: number;
  readonly [key: string]: unknown;
}

export interface FakeSageMakerEndpointConfig {
  readonly name: string;
  readonly arn: string;
  readonly variants: readonly FakeProductionVariant[];
  readonly created: Date;
}

/**
 * A running "container": the project's HTTP server (standing in for Triton's SageMaker front end
 * on `/invocations`) serving the model of one endpoint config on 127.0.0.1.
 */
export interface ServedConfig {
  readonly configName: string;
  /** Triton's model name, read from config.pbtxt. */
  readonly modelName: string;
  readonly variantName: string;
  /** `http://127.0.0.1:<port>`: where InvokeEndpoint forwards the body and its content type. */
  readonly url: string;
  close(): Promise<void>;
  /** Set by `faults.breakNextConfig`: every invocation answers this model error. */
  readonly broken?: string;
}

export interface FakeSageMakerEndpoint {
  readonly name: string;
  readonly arn: string;
  /** The configuration in service (or being created). */
  configName: string;
  status: EndpointStatus;
  failureReason?: string;
  readonly created: Date;
  lastModified: Date;
  deploymentConfig?: unknown;
  /** What answers invocations: the configuration in service. */
  serving?: ServedConfig;
  /** Settles when the create, update or delete in progress ends. */
  operation?: Promise<void>;
  /** A blue/green update in progress (DescribeEndpoint's PendingDeploymentSummary). */
  pending?: PendingDeployment;
  /** The endpoint's tags (AddTags, ListTags, DeleteTags). */
  tags?: Map<string, string>;
}

/** A blue/green update in progress: the new config, its fleet once up, and the share of traffic it has. */
export interface PendingDeployment {
  readonly configName: string;
  readonly startTime: Date;
  /** The new fleet, once its instances passed their health check. */
  served?: ServedConfig;
  /** The traffic step in progress (1-based); 0 while the new fleet starts. */
  step: number;
  /** Percent of the new fleet's capacity with traffic turned on: the share of invocations it answers. */
  percent: number;
  /** Weighted round-robin credit (see pickFleet). */
  credit?: number;
  /** `sm.invocations.length` when the update began: the invocations its alarms' metrics count. */
  readonly invocationsFrom: number;
  variantStatus: { Status: string; StatusMessage?: string; StartTime: Date };
}

export interface FakeScalableTarget {
  readonly resourceId: string;
  readonly scalableDimension: string;
  minCapacity: number;
  maxCapacity: number;
}

/** An AWS::CloudWatch::Alarm as CloudFormation created it: a metric alarm, or a metric math one. */
export interface FakeAlarm {
  readonly name: string;
  readonly properties: Record<string, any>;
}

/** One InvokeEndpoint the fake answered. */
export interface FakeInvocation {
  readonly endpointName: string;
  /** The endpoint config that answered (undefined when none did). */
  readonly configName?: string;
  readonly status: number;
}

/** The ping health check failure SageMaker reports for a container that never became healthy. */
export const PING_HEALTH_CHECK_FAILURE = (variant = 'AllTraffic') =>
  `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;

/** Faults of the SageMaker fake; each is consumed as it fires. */
export class SageMakerFaults {
  private readonly failures: Array<{ endpoint?: string; configName?: string; reason?: string }> = [];
  private readonly limits: Array<{ endpoint?: string; quota?: string }> = [];
  private readonly holds: Array<{ endpoint?: string; released: Promise<void> }> = [];
  private readonly breaks: string[] = [];
  private readonly stepAlarms: Array<{ endpoint?: string; step: number; alarm?: string }> = [];

  /**
   * The next create or update (of `endpoint`, or of any endpoint) fails: a create ends `Failed`, an
   * update rolls back to the configuration in service; both set `FailureReason`.
   * @default reason - the ping health check failure
   */
  failNextEndpoint(options: { endpoint?: string; configName?: string; reason?: string } = {}): void {
    this.failures.push(options);
  }

  /**
   * The next CreateEndpoint or UpdateEndpoint (of `endpoint`, or of any) is refused at once with
   * SageMaker's ResourceLimitExceeded: the account's instance quota for endpoints is used up.
   * @default quota - '<instance type of the config> for endpoint usage'
   */
  quotaExceeded(options: { endpoint?: string; quota?: string } = {}): void {
    this.limits.push(options);
  }

  /** The next create or update stays `Creating`/`Updating` until `release()`. */
  holdNextEndpoint(endpoint?: string): { release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ endpoint, released });
    return { release };
  }

  /**
   * The next configuration to go into service answers every invocation with a model error
   * carrying `message` (as Triton would for a model that loads but cannot run).
   */
  breakNextConfig(message = 'onnxruntime: failed to run the model'): void {
    this.breaks.push(message);
  }

  /**
   * During the next CANARY or LINEAR update (of `endpoint`, or of any), `alarm` goes into ALARM when
   * traffic step `step` begins, as a rollback alarm watching the new fleet would.
   * @default alarm - the first alarm of the endpoint's AutoRollbackConfiguration
   */
  alarmAtStep(options: { step: number; endpoint?: string; alarm?: string }): void {
    this.stepAlarms.push(options);
  }

  reset(): void {
    this.stepAlarms.length = 0;
    this.failures.length = 0;
    this.limits.length = 0;
    this.holds.length = 0;
    this.breaks.length = 0;
  }

  /** @internal */
  takeFailure(endpoint: string, configName: string): { reason?: string } | undefined {
    const i = this.failures.findIndex((f) => (f.endpoint === undefined || f.endpoint === endpoint) && (f.configName === undefined || f.configName === configName));
    return i < 0 ? undefined : this.failures.splice(i, 1)[0];
  }

  /** @internal */
  takeLimit(endpoint: string): { quota?: string } | undefined {
    const i = this.limits.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
    return i < 0 ? undefined : this.limits.splice(i, 1)[0];
  }

  /** @internal */
  takeHold(endpoint: string): Promise<void> | undefined {
    const i = this.holds.findIndex((h) => h.endpoint === undefined || h.endpoint === endpoint);
    return i < 0 ? undefined : this.holds.splice(i, 1)[0]!.released;
  }

  /** @internal */
  fireAlarmAtStep(sm: SageMakerFake, endpoint: string, step: number, alarms: string[]): void {
    const i = this.stepAlarms.findIndex((f) => (f.endpoint === undefined || f.endpoint === endpoint) && f.step === step);
    if (i < 0) return;
    const fault = this.stepAlarms.splice(i, 1)[0]!;
    const alarm = fault.alarm ?? alarms[0];
    if (alarm) sm.setAlarmState(alarm, 'ALARM');
  }

  /** @internal */
  takeBreak(): string | undefined {
    return this.breaks.shift();
  }
}

/** Everything the SageMaker fake holds for one AWS fake. Tests read it and inject faults through it. */
export class SageMakerFake {
  readonly models = new Map<string, FakeSageMakerModel>();
  readonly endpointConfigs = new Map<string, FakeSageMakerEndpointConfig>();
  readonly endpoints = new Map<string, FakeSageMakerEndpoint>();
  readonly scalableTargets = new Map<string, FakeScalableTarget>();
  readonly scalingPolicies = new Map<string, { name: string; resourceId: string; configuration: unknown }>();
  readonly invocations: FakeInvocation[] = [];
  /** What each endpoint's container "logged", as CloudWatch would show under /aws/sagemaker/Endpoints/<name>. */
  readonly logs = new Map<string, string[]>();
  readonly faults = new SageMakerFaults();
  /**
   * How long a create, update or delete takes before it settles, in milliseconds; SageMaker takes
   * minutes, tests want the "Creating" state to be observable but short.
   */
  transitionMs = 30;
  /**
   * How many milliseconds one second of a DeploymentConfig (WaitIntervalInSeconds,
   * TerminationWaitInSeconds) lasts in the fake, so that tests can run canary and linear updates
   * scaled down.
   * @default 1000, or DEPLOY_MODEL_FAKE_SAGEMAKER_SECOND_MS
   */
  deploymentSecondMs = Number(process.env.DEPLOY_MODEL_FAKE_SAGEMAKER_SECOND_MS ?? 1000);
  /** CloudWatch alarm states the rollback configuration reads; an alarm the test never set is OK. */
  readonly alarmStates = new Map<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>();
  /** The CloudWatch alarms stacks created (AWS::CloudWatch::Alarm), by name, which updates evaluate from the invocations. */
  readonly alarms = new Map<string, FakeAlarm>();

  /** Sets a CloudWatch alarm's state, as CloudWatch would once its metric crossed the threshold (SetAlarmState). */
  setAlarmState(alarmName: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void {
    this.alarmStates.set(alarmName, state);
  }

  log(endpoint: string, line: string): void {
    const lines = this.logs.get(endpoint) ?? [];
    lines.push(line);
    this.logs.set(endpoint, lines);
  }

  /** Waits for every operation in progress, then releases every model session. */
  async close(): Promise<void> {
    this.faults.reset();
    await Promise.allSettled([...this.endpoints.values()].map((e) => e.operation));
    await Promise.allSettled([...this.endpoints.values()].map((e) => e.serving?.close()));
  }
}

const fakes = new WeakMap<FakeState, SageMakerFake>();

/** The SageMaker part of one AWS fake: `sageMakerFake(fake.state)`. */
export function sageMakerFake(state: FakeState): SageMakerFake {
  let fake = fakes.get(state);
  if (!fake) {
    fake = new SageMakerFake();
    sendContainerLogsToCloudWatch(state, fake);
    fakes.set(state, fake);
  }
  return fake;
}
