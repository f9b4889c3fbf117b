import { randomUUID } from 'node:crypto';
import type { FakeContext } from './_context.js';
import { parameterValues } from './_cfn-changeset.js';
import type { CfnStack, ChangeSet, StackOutput, StackResource, Template } from './_cfn-model.js';
import { canonical, evaluateConditions, references, resolve, type ResolveEnv } from './_cfn-template.js';
import { unmodelledProvisioner, type ExistingResource, type ProvisionRequest, type ResourceProvisioner } from './cfn-resources.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** `Retain` and `RetainExceptOnCreate` keep a removed or deleted resource. */
const retains = (policy: string | undefined): boolean => policy === 'Retain' || policy === 'RetainExceptOnCreate';

export function emitEvent(stack: CfnStack, e: { logicalId: string; physicalId?: string; type: string; status: string; reason?: string; properties?: unknown }): void {
  // Strictly increasing timestamps keep toolkit-lib's event ordering stable.
  const last = stack.events[0]?.Timestamp.getTime() ?? 0;
  stack.events.unshift({
    StackId: stack.stackId,
    EventId: randomUUID(),
    StackName: stack.stackName,
    LogicalResourceId: e.logicalId,
    PhysicalResourceId: e.physicalId ?? '',
    ResourceType: e.type,
    Timestamp: new Date(Math.max(Date.now(), last + 1)),
    ResourceStatus: e.status,
    ResourceStatusReason: e.reason,
    ResourceProperties: e.properties === undefined ? undefined : JSON.stringify(e.properties),
  });
}

function setStackStatus(stack: CfnStack, status: string, reason?: string): void {
  stack.status = status;
  stack.statusReason = reason;
  emitEvent(stack, { logicalId: stack.stackName, physicalId: stack.stackId, type: 'AWS::CloudFormation::Stack', status, reason });
}

function provisionerFor(ctx: FakeContext, type: string): ResourceProvisioner {
  return ctx.provisioners.get(type) ?? unmodelledProvisioner;
}

/** Resources in an order where each comes after what it refers to. */
export function creationOrder(template: Template): string[] {
  const resources = template.Resources ?? {};
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`Circular dependency between resources: [${path.join(', ')}]`);
    state.set(id, 'visiting');
    const r = resources[id]!;
    const deps = new Set([...references(r.Properties), ...[r.DependsOn ?? []].flat()]);
    for (const d of deps) if (d in resources) visit(d, [...path, d]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of Object.keys(resources)) visit(id, [id]);
  return order;
}

function resolveEnv(ctx: FakeContext, stack: CfnStack, template: Template, parameters: Record<string, string | string[]>): ResolveEnv {
  const base = {
    region: ctx.region, accountId: ctx.accountId, stackName: stack.stackName, stackId: stack.stackId, parameters,
    mappings: template.Mappings,
    resource: (id: string) => {
      const r = stack.resources.get(id);
      if (!r || !(id in (template.Resources ?? {}))) return undefined;
      const modelled = ctx.provisioners.has(r.type);
      return {
        physicalId: r.physicalId,
        getAtt: (name: string) => r.attributes[name] ?? (modelled ? undefined : `arn:aws:fake:${ctx.region}:${ctx.accountId}:${id}/${name}`),
      };
    },
    importValue: (name: string) => {
      for (const s of ctx.state.cloudformation.stacks.values()) {
        if (s.deleted) continue;
        const o = s.outputs.find((x) => x.ExportName === name);
        if (o) return o.OutputValue;
      }
      return undefined;
    },
  };
  return { ...base, conditions: evaluateConditions(template, base) };
}

function request(ctx: FakeContext, stack: CfnStack, r: StackResource, properties: Record<string, unknown>): ProvisionRequest {
  return { logicalId: r.logicalId, type: r.type, properties, stack: { name: stack.stackName, id: stack.stackId }, ctx };
}

function existing(r: StackResource): ExistingResource {
  return { physicalId: r.physicalId, properties: r.properties, attributes: r.attributes };
}

async function deleteResource(ctx: FakeContext, stack: CfnStack, r: StackResource, retain: boolean): Promise<void> {
  if (retain) {
    emitEvent(stack, { logicalId: r.logicalId, physicalId: r.physicalId, type: r.type, status: 'DELETE_SKIPPED' });
    return;
  }
  emitEvent(stack, { logicalId: r.logicalId, physicalId: r.physicalId, type: r.type, status: 'DELETE_IN_PROGRESS' });
  await provisionerFor(ctx, r.type).delete?.(request(ctx, stack, r, r.properties), existing(r));
  emitEvent(stack, { logicalId: r.logicalId, physicalId: r.physicalId, type: r.type, status: 'DELETE_COMPLETE' });
  await tick();
}

interface Journal {
  created: StackResource[];
  /** In-place updates: the record before the update. */
  updated: StackResource[];
  /** Replacements: the old record; the new one is in `stack.resources`. */
  replaced: Array<{ old: StackResource; replacement: StackResource }>;
}

/** Creates or updates one resource; returns false when it failed (events already emitted). */
async function applyResource(ctx: FakeContext, stack: CfnStack, id: string, template: Template, env: ResolveEnv, journal: Journal): Promise<string | undefined> {
  const def = template.Resources![id]!;
  const provisioner = provisionerFor(ctx, def.Type);
  const previous = stack.resources.get(id);
  let properties: Record<string, unknown>;
  try {
    properties = resolve(def.Properties ?? {}, env) as Record<string, unknown>;
  } catch (e) {
    return (e as Error).message;
  }
  const policies = { deletionPolicy: def.DeletionPolicy, updateReplacePolicy: def.UpdateReplacePolicy };
  if (previous && previous.type === def.Type && canonical(previous.properties) === canonical(properties)) {
    Object.assign(previous, policies);
    return undefined;
  }
  const changedKeys = previous ? Object.keys({ ...previous.properties, ...properties }).filter((k) => canonical(previous.properties[k]) !== canonical(properties[k])) : [];
  const replaceOn = provisioner.replaceOn ?? [];
  const replace = !!previous && (previous.type !== def.Type || replaceOn === '*' || changedKeys.some((k) => replaceOn.includes(k)));
  const record: StackResource = previous && !replace
    ? previous
    : { logicalId: id, type: def.Type, physicalId: '', status: '', properties, attributes: {}, updated: new Date(), ...policies };
  const inProgress = previous ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS';
  emitEvent(stack, {
    logicalId: id, physicalId: previous?.physicalId, type: def.Type, status: inProgress, properties,
    reason: replace ? 'Requested update requires the creation of a new physical resource; hence creating one.' : previous ? undefined : 'Resource creation Initiated',
  });
  await tick();
  const failed = previous ? 'UPDATE_FAILED' : 'CREATE_FAILED';
  const injected = ctx.faults.takeResourceFailure(id, def.Type);
  try {
    if (injected !== undefined) throw new Error(injected);
    const req = request(ctx, stack, record, properties);
    if (previous && !replace) {
      const before = { ...previous };
      const result = provisioner.update ? await provisioner.update(req, existing(previous)) : existing(previous);
      Object.assign(previous, { physicalId: result.physicalId, attributes: result.attributes ?? previous.attributes, properties, updated: new Date(), ...policies });
      journal.updated.push(before);
    } else {
      const result = await provisioner.create(req);
      Object.assign(record, { physicalId: result.physicalId, attributes: result.attributes ?? {} });
      stack.resources.set(id, record);
      if (previous) journal.replaced.push({ old: previous, replacement: record });
      else journal.created.push(record);
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (!previous) stack.resources.set(id, { ...record, status: failed, statusReason: reason });
    emitEvent(stack, { logicalId: id, physicalId: previous?.physicalId ?? '', type: def.Type, status: failed, reason });
    return reason;
  }
  const done = previous ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE';
  const current = stack.resources.get(id)!;
  current.status = done;
  emitEvent(stack, { logicalId: id, physicalId: current.physicalId, type: def.Type, status: done });
  await tick();
  return undefined;
}

function resolveOutputs(template: Template, env: ResolveEnv): StackOutput[] {
  return Object.entries(template.Outputs ?? {})
    .filter(([, o]) => !o.Condition || env.conditions[o.Condition])
    .map(([key, o]) => ({
      OutputKey: key,
      OutputValue: String(resolve(o.Value, env)),
      Description: o.Description,
      ExportName: o.Export ? String(resolve(o.Export.Name, env)) : undefined,
    }));
}

/** ExecuteChangeSet: runs asynchronously; the stack shows `*_IN_PROGRESS` until it settles. */
export interface ExecuteOptions {
  readonly disableRollback?: boolean;
  /** Resources created by this operation are deleted on rollback even with `DeletionPolicy: Retain`. */
  readonly retainExceptOnCreate?: boolean;
}

export async function executeChangeSet(ctx: FakeContext, stack: CfnStack, changeSet: ChangeSet, options: ExecuteOptions = {}): Promise<void> {
  const isCreate = changeSet.type === 'CREATE';
  // Copies: in-place updates mutate the live records, and a rollback restores these.
  const previousResources = new Map([...stack.resources].map(([id, r]) => [id, { ...r }]));
  changeSet.executionStatus = 'EXECUTE_IN_PROGRESS';
  setStackStatus(stack, isCreate ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS', 'User Initiated');
  // CancelUpdateStack (updates only) stops the operation before its next resource and rolls it back.
  const cancelled = new Promise<void>((wake) => { stack.cancel = { requested: false, wake }; });
  const held = ctx.faults.takeInterruption();
  if (held) await Promise.race([held, cancelled]);
  await tick();
  const template = changeSet.template;
  const env = resolveEnv(ctx, stack, template, parameterValues(template, changeSet.parameters));
  const journal: Journal = { created: [], updated: [], replaced: [] };
  let failure: Failure | undefined;
  try {
    for (const id of creationOrder(template)) {
      if (stack.cancel?.requested) {
        failure = { id: stack.stackName, reason: 'Resource update cancelled', cancelled: true };
        break;
      }
      const condition = template.Resources![id]!.Condition;
      if (condition && !env.conditions[condition]) continue;
      const reason = await applyResource(ctx, stack, id, template, env, journal);
      if (reason !== undefined) {
        failure = { id, reason };
        break;
      }
    }
  } catch (e) {
    failure = { id: stack.stackName, reason: (e as Error).message };
  }
  let outputs: StackOutput[] = [];
  if (!failure) {
    try {
      outputs = resolveOutputs(template, env);
    } catch (e) {
      failure = { id: stack.stackName, reason: (e as Error).message };
    }
  }
  if (!failure && stack.cancel?.requested) failure = { id: stack.stackName, reason: 'Resource update cancelled', cancelled: true };
  stack.cancel = undefined;
  if (failure) {
    changeSet.executionStatus = 'EXECUTE_FAILED';
    await rollBack(ctx, stack, journal, previousResources, isCreate, failure, options);
    return;
  }
  changeSet.executionStatus = 'EXECUTE_COMPLETE';
  const oldTemplate = stack.template;
  Object.assign(stack, {
    template, templateBody: changeSet.templateBody, parameters: changeSet.parameters, tags: changeSet.tags,
    capabilities: changeSet.capabilities, outputs, description: template.Description, roleArn: changeSet.roleArn,
    lastUpdated: isCreate ? undefined : new Date(),
  });
  if (!isCreate) {
    setStackStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const { old } of journal.replaced.reverse()) await deleteResource(ctx, stack, old, old.updateReplacePolicy === 'Retain');
    const kept = new Set(creationOrder(template).filter((id) => {
      const c = template.Resources![id]!.Condition;
      return !c || env.conditions[c];
    }));
    const removalOrder = [...(oldTemplate ? creationOrder(oldTemplate) : []), ...previousResources.keys()].reverse();
    for (const id of new Set(removalOrder)) {
      const r = stack.resources.get(id);
      if (!r || kept.has(id)) continue;
      stack.resources.delete(id);
      await deleteResource(ctx, stack, r, retains(r.deletionPolicy));
    }
  }
  setStackStatus(stack, isCreate ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE');
}

interface Failure { id: string; reason: string; cancelled?: boolean }

/** What a rollback still has to do once its failed restores are retried (or skipped). */
interface PendingRollback {
  journal: Journal;
  previousResources: Map<string, StackResource>;
  options: ExecuteOptions;
  /** Resources whose restore failed, with the record they are to get back. */
  failed: StackResource[];
}

async function rollBack(
  ctx: FakeContext, stack: CfnStack, journal: Journal, previousResources: Map<string, StackResource>,
  isCreate: boolean, failure: Failure, options: ExecuteOptions,
): Promise<void> {
  const verb = isCreate ? 'create' : 'update';
  const reason = failure.cancelled ? 'Stack update cancelled' : `The following resource(s) failed to ${verb}: [${failure.id}]. `;
  if (options.disableRollback) {
    setStackStatus(stack, isCreate ? 'CREATE_FAILED' : 'UPDATE_FAILED', reason);
    return;
  }
  setStackStatus(stack, isCreate ? 'ROLLBACK_IN_PROGRESS' : 'UPDATE_ROLLBACK_IN_PROGRESS', isCreate ? `${reason}Rollback requested by user.` : reason);
  // Undo in-place updates by updating back to the previous properties.
  const failed = await restore(ctx, stack, journal.updated.reverse());
  await finishRollback(ctx, stack, { journal, previousResources, options, failed }, isCreate);
}

/** Updates each resource back to its record before the update; returns those whose restore failed (events emitted). */
async function restore(ctx: FakeContext, stack: CfnStack, records: StackResource[], skip: ReadonlySet<string> = new Set()): Promise<StackResource[]> {
  const failed: StackResource[] = [];
  for (const before of records) {
    const current = stack.resources.get(before.logicalId)!;
    emitEvent(stack, { logicalId: before.logicalId, physicalId: before.physicalId, type: before.type, status: 'UPDATE_IN_PROGRESS' });
    if (skip.has(before.logicalId)) {
      // ContinueUpdateRollback's ResourcesToSkip: CloudFormation marks it rolled back without touching it.
      emitEvent(stack, { logicalId: before.logicalId, physicalId: before.physicalId, type: before.type, status: 'UPDATE_COMPLETE', reason: 'Resource skipped during rollback' });
      continue;
    }
    const injected = ctx.faults.takeRollbackFailure(before.logicalId, before.type);
    try {
      if (injected !== undefined) throw new Error(injected);
      await provisionerFor(ctx, before.type).update?.(request(ctx, stack, before, before.properties), existing(current));
    } catch (e) {
      if (injected !== undefined) {
        emitEvent(stack, { logicalId: before.logicalId, physicalId: before.physicalId, type: before.type, status: 'UPDATE_FAILED', reason: (e as Error).message });
        failed.push(before);
        continue;
      }
      // Any other error of a provisioner: the fake restores the record anyway.
    }
    emitEvent(stack, { logicalId: before.logicalId, physicalId: before.physicalId, type: before.type, status: 'UPDATE_COMPLETE' });
  }
  return failed;
}

/**
 * Ends a rollback: when a restore failed, the stack stays `UPDATE_ROLLBACK_FAILED` (nothing is
 * cleaned up yet, as on AWS) until ContinueUpdateRollback; otherwise what the operation created is
 * deleted and the records return to what they were.
 */
async function finishRollback(ctx: FakeContext, stack: CfnStack, pending: PendingRollback, isCreate: boolean): Promise<void> {
  const { journal, previousResources, options, failed } = pending;
  if (failed.length > 0) {
    stack.pendingRollback = pending;
    setStackStatus(stack, 'UPDATE_ROLLBACK_FAILED', `The following resource(s) failed to update: [${failed.map((r) => r.logicalId).join(', ')}]. `);
    return;
  }
  stack.pendingRollback = undefined;
  if (!isCreate) setStackStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
  const discard = [...journal.created, ...journal.replaced.map((r) => r.replacement)].reverse();
  // Rollback deletes what it created unless `DeletionPolicy: Retain` (and not RetainExceptOnCreate).
  for (const r of discard) await deleteResource(ctx, stack, r, r.deletionPolicy === 'Retain' && !options.retainExceptOnCreate);
  for (const id of [...stack.resources.keys()]) if (!previousResources.has(id)) stack.resources.delete(id);
  for (const [id, r] of previousResources) stack.resources.set(id, r);
  setStackStatus(stack, isCreate ? 'ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE');
}

/** ContinueUpdateRollback: retries the restores that failed (or skips `resourcesToSkip`), then cleans up. */
export async function continueUpdateRollback(ctx: FakeContext, stack: CfnStack, resourcesToSkip: readonly string[]): Promise<void> {
  const pending = stack.pendingRollback as PendingRollback;
  setStackStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated');
  await tick();
  const failed = await restore(ctx, stack, pending.failed, new Set(resourcesToSkip));
  await finishRollback(ctx, stack, { ...pending, failed }, false);
}

/** DeleteStack: deletes every resource (honouring `DeletionPolicy: Retain`), newest first. */
export async function deleteStack(ctx: FakeContext, stack: CfnStack): Promise<void> {
  setStackStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
  await ctx.faults.takeInterruption();
  await tick();
  const order = [...(stack.template ? creationOrder(stack.template) : []), ...stack.resources.keys()].reverse();
  for (const id of new Set(order)) {
    const r = stack.resources.get(id);
    if (!r) continue;
    try {
      await deleteResource(ctx, stack, r, retains(r.deletionPolicy) && !r.status.endsWith('FAILED'));
      stack.resources.delete(id);
    } catch (e) {
      emitEvent(stack, { logicalId: id, physicalId: r.physicalId, type: r.type, status: 'DELETE_FAILED', reason: (e as Error).message });
      setStackStatus(stack, 'DELETE_FAILED', `The following resource(s) failed to delete: [${id}]. `);
      return;
    }
  }
  stack.deleted = new Date();
  setStackStatus(stack, 'DELETE_COMPLETE');
}
