import type { FakeContext } from './_context.js';
import { createChangeSet, loadTemplate, newStack, type ChangeSetInput } from './_cfn-changeset.js';
import { continueUpdateRollback, deleteStack, executeChangeSet } from './_cfn-execute.js';
import { NO_CHANGES_REASON, type CfnStack, type ChangeSet, type ResourceChange } from './_cfn-model.js';
import { queryErrorReply, queryReply, type AwsServiceModule, type ParsedCall } from './_service.js';
import { AwsError, parseQueryForm, toXml, type WireRequest } from './_wire.js';

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

function findStack(ctx: FakeContext, nameOrId: string): CfnStack | undefined {
  const stacks = ctx.state.cloudformation.stacks;
  if (nameOrId.startsWith('arn:')) return stacks.get(nameOrId);
  return [...stacks.values()].reverse().find((s) => s.stackName === nameOrId && !s.deleted);
}

function requireStack(ctx: FakeContext, nameOrId: string | undefined): CfnStack {
  const stack = nameOrId ? findStack(ctx, nameOrId) : undefined;
  if (!stack) throw new AwsError('ValidationError', `Stack with id ${nameOrId} does not exist`);
  return stack;
}

function findChangeSet(ctx: FakeContext, nameOrId: string, stackName?: string): ChangeSet {
  if (nameOrId.startsWith('arn:')) {
    for (const s of ctx.state.cloudformation.stacks.values()) {
      const cs = s.changeSets.get(nameOrId);
      if (cs) return cs;
    }
  } else {
    const stack = stackName ? findStack(ctx, stackName) : undefined;
    const cs = stack && [...stack.changeSets.values()].reverse().find((c) => c.name === nameOrId);
    if (cs) return cs;
  }
  throw new AwsError('ChangeSetNotFound', `ChangeSet [${nameOrId}] does not exist`, 404);
}

function executeOptions(p: Record<string, unknown>): { disableRollback: boolean; retainExceptOnCreate: boolean } {
  return { disableRollback: String(p.DisableRollback) === 'true', retainExceptOnCreate: String(p.RetainExceptOnCreate) === 'true' };
}

const isInProgress = (s: CfnStack): boolean => s.status.endsWith('_IN_PROGRESS') && s.status !== 'REVIEW_IN_PROGRESS';

function startOperation(stack: CfnStack, work: Promise<void>): void {
  stack.operation = work.catch(() => undefined);
}

function describeStack(s: CfnStack): Record<string, unknown> {
  return {
    StackId: s.stackId,
    StackName: s.stackName,
    Description: s.description,
    Parameters: s.parameters,
    CreationTime: s.created,
    LastUpdatedTime: s.lastUpdated,
    DeletionTime: s.deleted,
    StackStatus: s.status,
    StackStatusReason: s.statusReason,
    DisableRollback: false,
    Capabilities: s.capabilities,
    Outputs: s.outputs,
    RoleARN: s.roleArn,
    Tags: s.tags,
    EnableTerminationProtection: s.terminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

/** A change without the property values, which DescribeChangeSet gives only with `IncludePropertyValues`. */
function withoutValues(change: ResourceChange): ResourceChange {
  return { ...change, Details: change.Details.map(({ Target: { BeforeValue: _before, AfterValue: _after, ...target }, ...detail }) => ({ ...detail, Target: target })) };
}

function describeChangeSet(cs: ChangeSet, includePropertyValues: boolean): Record<string, unknown> {
  return {
    ChangeSetName: cs.name,
    ChangeSetId: cs.id,
    StackId: cs.stackId,
    StackName: cs.stackName,
    Description: cs.description,
    Parameters: cs.parameters,
    CreationTime: cs.created,
    ExecutionStatus: cs.executionStatus,
    Status: cs.status,
    StatusReason: cs.statusReason,
    Capabilities: cs.capabilities,
    Tags: cs.tags,
    Changes: cs.changes.map((c) => ({ Type: 'Resource', ResourceChange: includePropertyValues ? c : withoutValues(c) })),
    IncludeNestedStacks: false,
  };
}

function resourceSummary(s: CfnStack): Array<Record<string, unknown>> {
  return [...s.resources.values()].map((r) => ({
    StackName: s.stackName, StackId: s.stackId, LogicalResourceId: r.logicalId, PhysicalResourceId: r.physicalId,
    ResourceType: r.type, Timestamp: r.updated, LastUpdatedTimestamp: r.updated, ResourceStatus: r.status,
    ResourceStatusReason: r.statusReason,
  }));
}

type Params = Record<string, any>;

const LIST_PARAMS = ['Parameters', 'Tags', 'Capabilities', 'NotificationARNs', 'StackStatusFilter', 'ResourceTypes', 'RetainResources', 'ResourcesToSkip'];
type Handler = (p: Params, ctx: FakeContext) => Record<string, unknown>;

const ACTIONS: Record<string, Handler> = {
  CreateChangeSet(p, ctx) {
    const input = p as ChangeSetInput;
    let stack = findStack(ctx, input.StackName);
    const type = input.ChangeSetType ?? 'UPDATE';
    const reviewing = stack?.status === 'REVIEW_IN_PROGRESS';
    if (type === 'CREATE' && stack && !reviewing) {
      throw new AwsError('AlreadyExistsException', `Stack [${input.StackName}] already exists and cannot be created again with the changeSet [${input.ChangeSetName}].`);
    }
    if (type === 'UPDATE' && (!stack || reviewing)) throw new AwsError('ValidationError', `Stack [${input.StackName}] does not exist`);
    if (stack && isInProgress(stack)) {
      throw new AwsError('ValidationError', `Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    }
    const isNew = !stack;
    stack ??= newStack(ctx, input.StackName);
    const changeSet = createChangeSet(ctx, stack, input, isNew || reviewing);
    if (isNew) {
      ctx.state.cloudformation.stacks.set(stack.stackId, stack);
      stack.events.unshift({
        StackId: stack.stackId, EventId: changeSet.id, StackName: stack.stackName, LogicalResourceId: stack.stackName,
        PhysicalResourceId: stack.stackId, ResourceType: 'AWS::CloudFormation::Stack', Timestamp: new Date(),
        ResourceStatus: 'REVIEW_IN_PROGRESS', ResourceStatusReason: 'User Initiated',
      });
    }
    return { Id: changeSet.id, StackId: stack.stackId };
  },
  DescribeChangeSet(p, ctx) {
    return describeChangeSet(findChangeSet(ctx, p.ChangeSetName, p.StackName), String(p.IncludePropertyValues) === 'true');
  },
  ListChangeSets(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    return {
      Summaries: [...stack.changeSets.values()].map((cs) => ({
        StackId: cs.stackId, StackName: cs.stackName, ChangeSetId: cs.id, ChangeSetName: cs.name,
        ExecutionStatus: cs.executionStatus, Status: cs.status, StatusReason: cs.statusReason, CreationTime: cs.created,
      })),
    };
  },
  DeleteChangeSet(p, ctx) {
    // Succeeds whenever the stack exists, even for a change set that does not (toolkit-lib relies on it).
    if (p.StackName) requireStack(ctx, p.StackName);
    let cs: ChangeSet | undefined;
    try {
      cs = findChangeSet(ctx, p.ChangeSetName, p.StackName);
    } catch {
      return {};
    }
    findStack(ctx, cs.stackId)?.changeSets.delete(cs.id);
    return {};
  },
  ExecuteChangeSet(p, ctx) {
    const cs = findChangeSet(ctx, p.ChangeSetName, p.StackName);
    const stack = requireStack(ctx, cs.stackId);
    if (cs.status !== 'CREATE_COMPLETE' || cs.executionStatus !== 'AVAILABLE') {
      throw new AwsError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`);
    }
    // A failed rollback must be continued (ContinueUpdateRollback) before the stack takes another update.
    if (isInProgress(stack) || stack.status === 'UPDATE_ROLLBACK_FAILED') throw new AwsError('ValidationError', `Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    for (const other of stack.changeSets.values()) if (other !== cs) other.executionStatus = 'OBSOLETE';
    startOperation(stack, executeChangeSet(ctx, stack, cs, executeOptions(p)));
    return {};
  },
  CreateStack(p, ctx) {
    if (findStack(ctx, p.StackName)) throw new AwsError('AlreadyExistsException', `Stack [${p.StackName}] already exists`);
    const stack = newStack(ctx, p.StackName);
    const cs = createChangeSet(ctx, stack, { ...p, ChangeSetName: `direct-${Date.now()}`, ChangeSetType: 'CREATE' } as ChangeSetInput, true);
    ctx.state.cloudformation.stacks.set(stack.stackId, stack);
    startOperation(stack, executeChangeSet(ctx, stack, cs, executeOptions(p)));
    return { StackId: stack.stackId };
  },
  UpdateStack(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    if (isInProgress(stack)) throw new AwsError('ValidationError', `Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    const cs = createChangeSet(ctx, stack, { ...p, ChangeSetName: `direct-${Date.now()}`, ChangeSetType: 'UPDATE' } as ChangeSetInput, false);
    if (cs.statusReason === NO_CHANGES_REASON) throw new AwsError('ValidationError', 'No updates are to be performed.');
    if (cs.status === 'FAILED') throw new AwsError('ValidationError', cs.statusReason ?? 'Update failed');
    startOperation(stack, executeChangeSet(ctx, stack, cs, executeOptions(p)));
    return { StackId: stack.stackId };
  },
  CancelUpdateStack(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    if (stack.status !== 'UPDATE_IN_PROGRESS' || !stack.cancel) throw new AwsError('ValidationError', 'CancelUpdateStack cannot be called from current stack status');
    stack.cancel.requested = true;
    stack.cancel.wake();
    return {};
  },
  ContinueUpdateRollback(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    if (stack.status !== 'UPDATE_ROLLBACK_FAILED' || !stack.pendingRollback) {
      throw new AwsError('ValidationError', `Stack ${stack.stackId} is in ${stack.status} state and can not continue update rollback.`);
    }
    const skip = Array.isArray(p.ResourcesToSkip) ? p.ResourcesToSkip.map(String) : [];
    startOperation(stack, continueUpdateRollback(ctx, stack, skip));
    return {};
  },
  DeleteStack(p, ctx) {
    const stack = findStack(ctx, p.StackName);
    if (!stack || stack.deleted) return {};
    if (stack.terminationProtection) {
      throw new AwsError('ValidationError', `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`);
    }
    if (stack.status === 'DELETE_IN_PROGRESS') return {};
    if (isInProgress(stack)) throw new AwsError('ValidationError', `Stack [${stack.stackId}] cannot be deleted while in status ${stack.status}`);
    startOperation(stack, deleteStack(ctx, stack));
    return {};
  },
  DescribeStacks(p, ctx) {
    if (p.StackName) return { Stacks: [describeStack(requireStack(ctx, p.StackName))] };
    return { Stacks: [...ctx.state.cloudformation.stacks.values()].filter((s) => !s.deleted).map(describeStack) };
  },
  ListStacks(p, ctx) {
    const filter: string[] | undefined = p.StackStatusFilter;
    return {
      StackSummaries: [...ctx.state.cloudformation.stacks.values()]
        .filter((s) => !filter || filter.includes(s.status))
        .map((s) => ({
          StackId: s.stackId, StackName: s.stackName, TemplateDescription: s.description, CreationTime: s.created,
          LastUpdatedTime: s.lastUpdated, DeletionTime: s.deleted, StackStatus: s.status, StackStatusReason: s.statusReason,
        })),
    };
  },
  DescribeStackEvents(p, ctx) {
    return { StackEvents: requireStack(ctx, p.StackName).events };
  },
  DescribeStackResources(p, ctx) {
    const rows = resourceSummary(requireStack(ctx, p.StackName));
    return { StackResources: p.LogicalResourceId ? rows.filter((r) => r.LogicalResourceId === p.LogicalResourceId) : rows };
  },
  DescribeStackResource(p, ctx) {
    const row = resourceSummary(requireStack(ctx, p.StackName)).find((r) => r.LogicalResourceId === p.LogicalResourceId);
    if (!row) throw new AwsError('ValidationError', `Resource ${p.LogicalResourceId} does not exist for stack ${p.StackName}`);
    return { StackResourceDetail: row };
  },
  ListStackResources(p, ctx) {
    return { StackResourceSummaries: resourceSummary(requireStack(ctx, p.StackName)) };
  },
  GetTemplate(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    const body = p.ChangeSetName ? findChangeSet(ctx, p.ChangeSetName, stack.stackId).templateBody : stack.templateBody;
    return { TemplateBody: body, StagesAvailable: ['Original', 'Processed'] };
  },
  GetTemplateSummary(p, ctx) {
    const stack = p.StackName ? requireStack(ctx, p.StackName) : undefined;
    const { template } = stack ? { template: stack.template ?? {} } : loadTemplate(ctx, p);
    const resources = Object.values(template.Resources ?? {});
    return {
      Parameters: Object.entries(template.Parameters ?? {}).map(([key, def]) => ({
        ParameterKey: key, DefaultValue: def.Default, ParameterType: def.Type, NoEcho: String(def.NoEcho) === 'true', Description: def.Description,
      })),
      Description: template.Description,
      Capabilities: resources.some((r) => r.Type.startsWith('AWS::IAM::')) ? ['CAPABILITY_IAM'] : [],
      ResourceTypes: [...new Set(resources.map((r) => r.Type))],
      Version: template.AWSTemplateFormatVersion ?? '2010-09-09',
    };
  },
  ListExports(_p, ctx) {
    const exports = [...ctx.state.cloudformation.stacks.values()].filter((s) => !s.deleted)
      .flatMap((s) => s.outputs.filter((o) => o.ExportName).map((o) => ({ ExportingStackId: s.stackId, Name: o.ExportName, Value: o.OutputValue })));
    return { Exports: exports };
  },
  UpdateTerminationProtection(p, ctx) {
    const stack = requireStack(ctx, p.StackName);
    stack.terminationProtection = String(p.EnableTerminationProtection) === 'true';
    return { StackId: stack.stackId };
  },
  // Diagnosis helpers toolkit-lib calls after a failure; the fake has nothing more to tell.
  DescribeEvents: () => ({ OperationEvents: [] }),
  ListHookResults: () => ({ HookResults: [] }),
};

export const cloudformation: AwsServiceModule = {
  name: 'cloudformation',
  signingNames: ['cloudformation'],
  parse(req: WireRequest): ParsedCall {
    const { Action, Version: _version, ...params } = parseQueryForm(req.body.toString('utf8'));
    // An empty list arrives as `Parameters=`; hand handlers a list either way.
    for (const key of LIST_PARAMS) if (key in params && !Array.isArray(params[key])) params[key] = [];
    return { action: String(Action), params };
  },
  async handle(call, req, ctx) {
    const handler = ACTIONS[call.action];
    if (!handler) throw new AwsError('InvalidAction', `The action ${call.action} is not valid for this web service.`);
    const result = handler(call.params, ctx);
    return queryReply(call.action, NAMESPACE, Object.entries(result).map(([k, v]) => toXml(k, v)).join(''), req);
  },
  errorReply: queryErrorReply,
  throttlingError: () => new AwsError('Throttling', 'Rate exceeded'),
};

/** Waits until no stack operation is in progress (tests use it before asserting state). */
export async function cloudFormationIdle(ctx: FakeContext): Promise<void> {
  for (const stack of ctx.state.cloudformation.stacks.values()) await stack.operation;
}
