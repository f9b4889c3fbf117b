/** A CloudFormation template, as parsed JSON. */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters?: Record<string, TemplateParameter>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Rules?: Record<string, { RuleCondition?: unknown; Assertions?: Array<{ Assert: unknown; AssertDescription?: string }> }>;
  Resources?: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string; Condition?: string; Export?: { Name: unknown } }>;
  [key: string]: unknown;
}

export interface TemplateParameter {
  Type: string;
  Default?: string;
  Description?: string;
  NoEcho?: boolean | string;
  AllowedValues?: string[];
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: unknown;
}

export interface StackParameter {
  readonly ParameterKey: string;
  readonly ParameterValue: string;
  /** For SSM parameter types: the value read from SSM. */
  readonly ResolvedValue?: string;
}

export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  physicalId: string;
  status: string;
  statusReason?: string;
  /** Resolved properties the resource was last provisioned with. */
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
  deletionPolicy?: string;
  updateReplacePolicy?: string;
  updated: Date;
}

export interface StackEvent {
  readonly StackId: string;
  readonly EventId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Timestamp: Date;
  readonly ResourceStatus: string;
  readonly ResourceStatusReason?: string;
  readonly ResourceProperties?: string;
}

export interface ResourceChange {
  readonly Action: 'Add' | 'Modify' | 'Remove';
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType: string;
  readonly Replacement?: 'True' | 'False' | 'Conditional';
  readonly Scope: string[];
  readonly Details: ChangeDetail[];
}

/** One property change of a ResourceChange, as DescribeChangeSet answers it. */
export interface ChangeDetail {
  readonly Target: {
    readonly Attribute: string;
    readonly Name?: string;
    readonly RequiresRecreation: string;
    /** The value before and after, given only to `DescribeChangeSet` with `IncludePropertyValues` (strings; objects as JSON). */
    readonly BeforeValue?: string;
    readonly AfterValue?: string;
  };
  readonly Evaluation: 'Static' | 'Dynamic';
  readonly ChangeSource: string;
  /** The resource (`Id`) or attribute (`Id.Attr`) whose change causes this one. */
  readonly CausingEntity?: string;
}

export interface ChangeSet {
  readonly id: string;
  readonly name: string;
  readonly stackId: string;
  readonly stackName: string;
  readonly type: 'CREATE' | 'UPDATE';
  status: string;
  statusReason?: string;
  executionStatus: string;
  readonly created: Date;
  readonly description?: string;
  readonly template: Template;
  readonly templateBody: string;
  readonly parameters: StackParameter[];
  readonly tags: Array<{ Key: string; Value: string }>;
  readonly capabilities: string[];
  readonly changes: ResourceChange[];
  readonly roleArn?: string;
  readonly disableRollback?: boolean;
}

export interface StackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

export interface CfnStack {
  readonly stackId: string;
  readonly stackName: string;
  status: string;
  statusReason?: string;
  readonly created: Date;
  lastUpdated?: Date;
  deleted?: Date;
  description?: string;
  /** The template of the last successful operation (undefined while only in review). */
  template?: Template;
  templateBody?: string;
  parameters: StackParameter[];
  tags: Array<{ Key: string; Value: string }>;
  capabilities: string[];
  outputs: StackOutput[];
  readonly resources: Map<string, StackResource>;
  /** Newest first, like `DescribeStackEvents`. */
  readonly events: StackEvent[];
  readonly changeSets: Map<string, ChangeSet>;
  roleArn?: string;
  terminationProtection: boolean;
  /** Settles when the operation in progress (if any) ends. */
  operation?: Promise<void>;
  /** While a change set executes: CancelUpdateStack sets `requested` and wakes a held operation. */
  cancel?: { requested: boolean; wake: () => void };
  /** Set while the stack is `UPDATE_ROLLBACK_FAILED`: what ContinueUpdateRollback finishes. */
  pendingRollback?: unknown;
}

export const NO_CHANGES_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set.";
