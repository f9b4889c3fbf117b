/** What deploying a synthesised stack would change: CloudFormation's diff through toolkit-lib, as TargetChanges. */
import { BaseCredentials, DiffMethod, StackSelectionStrategy, Toolkit, ToolkitError } from '@aws-cdk/toolkit-lib';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason, isCredentialsError, noCredentials, notBootstrapped } from './aws-errors.js';
import { overrideNote } from './endpoint-override.js';
import { ToolkitIoBridge } from './_toolkit-io-host.js';

/** One change as a target reports it (the shape of the targets' `TargetChange`). */
export interface StackChange {
  /** The resource's logical id. */
  resource: string;
  action: 'create' | 'update' | 'replace' | 'delete';
  /** Its type and what happens to it. */
  detail: string;
  /** Replacing or deleting it takes down something that serves. */
  disruptive?: boolean;
}

/** The stack's diff as a target reports it (the shape of the targets' `TargetDiff`). */
export interface StackDiff {
  unchanged: boolean;
  changes: StackChange[];
  /** toolkit-lib's rendering. */
  text?: string;
}

export interface DiffStackOptions {
  /** The cloud assembly folder holding the stack. */
  readonly assemblyDir: string;
  readonly stackName: string;
  readonly region: string;
  readonly io: IoHelper;
  /**
   * Whether the stack exists. With a stack, CloudFormation computes a change set (created, read
   * and deleted, never executed), which says which updates replace a resource; without one, the
   * template alone is compared, so a diff leaves no empty stack behind.
   */
  readonly deployed: boolean;
}

/** One resource a deploy would change, in CloudFormation's terms. */
export interface StackResourceChange {
  readonly logicalId: string;
  readonly type: string;
  readonly action: StackChange['action'];
  /** The properties that change; for a replacement, those that cause it (when CloudFormation says). */
  readonly properties: string[];
  /**
   * The physical resource stays in the account: a removal under `DeletionPolicy: Retain`, or a
   * replacement under `UpdateReplacePolicy: Retain`.
   */
  readonly retained: boolean;
  /** CloudFormation may replace it, depending on values it learns during the deploy (`Replacement: Conditional`). */
  readonly conditional: boolean;
}

export interface DiffStackResult {
  /** Nothing in the template would change (resources, outputs, parameters). */
  readonly unchanged: boolean;
  readonly changes: StackResourceChange[];
  /** toolkit-lib's rendering, as `cdk diff` prints it. */
  readonly text: string;
}

/** What toolkit-lib's TemplateDiff gives per resource (structural: @aws-cdk/cloudformation-diff is its dependency, not ours). */
interface ResourceDifferenceLike {
  readonly changeImpact: string;
  readonly resourceType?: string;
  readonly newResourceType?: string;
  readonly oldResourceType?: string;
  readonly oldValue?: { DeletionPolicy?: string; UpdateReplacePolicy?: string };
  readonly newValue?: { DeletionPolicy?: string; UpdateReplacePolicy?: string };
  readonly propertyUpdates: Record<string, { changeImpact?: string }>;
}

interface TemplateDiffLike {
  readonly isEmpty: boolean;
  readonly resources: { forEachDifference(cb: (logicalId: string, change: ResourceDifferenceLike) => void): void };
}

const KEEPS = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);
const REPLACING = new Set(['WILL_REPLACE', 'MAY_REPLACE']);

/**
 * Diffs the stack in `assemblyDir` against the deployed one with toolkit-lib (`cdk diff`): a
 * change set where the stack exists (falling back to the template when CloudFormation refuses
 * one), the template otherwise. Needs credentials; changes nothing.
 */
export async function diffStack(options: DiffStackOptions): Promise<DiffStackResult> {
  const { assemblyDir, stackName, region, io, deployed } = options;
  const bridge = new ToolkitIoBridge(io, stackName, true);
  const toolkit = new Toolkit({
    ioHost: bridge,
    color: false,
    emojis: false,
    sdkConfig: { baseCredentials: BaseCredentials.awsCliCompatible({ defaultRegion: region }) },
  });
  io.info('DM_AWS_STACK_DIFF', deployed
    ? `Comparing stack ${stackName} in ${region} with this build (a CloudFormation change set, not executed)`
    : `Stack ${stackName} does not exist in ${region}: a deploy creates every resource`, { stackName, region, deployed });
  let diffs: Record<string, TemplateDiffLike>;
  try {
    const cx = await toolkit.fromAssemblyDirectory(assemblyDir);
    diffs = await toolkit.diff(cx, {
      stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
      method: deployed ? DiffMethod.ChangeSet({ fallbackToTemplate: true }) : DiffMethod.TemplateOnly(),
    }) as unknown as Record<string, TemplateDiffLike>;
  } catch (e) {
    throw diffError(e, stackName, region);
  }
  const diff = diffs[stackName] ?? Object.values(diffs)[0];
  const changes: StackResourceChange[] = [];
  diff?.resources.forEachDifference((logicalId, change) => {
    const c = resourceChange(logicalId, change);
    if (c) changes.push(c);
  });
  return { unchanged: diff?.isEmpty ?? true, changes, text: bridge.diffText ?? '' };
}

/** One resource's difference in our terms; undefined when nothing changes. */
function resourceChange(logicalId: string, d: ResourceDifferenceLike): StackResourceChange | undefined {
  const type = d.resourceType ?? d.newResourceType ?? d.oldResourceType ?? 'unknown';
  const changed = Object.keys(d.propertyUpdates ?? {});
  const causing = changed.filter((p) => REPLACING.has(d.propertyUpdates[p]?.changeImpact ?? ''));
  const base = { logicalId, type, conditional: false, retained: false, properties: changed };
  switch (d.changeImpact) {
    case 'WILL_CREATE':
    case 'WILL_IMPORT':
      return { ...base, action: 'create', properties: [] };
    case 'WILL_UPDATE':
      return { ...base, action: 'update' };
    case 'WILL_REPLACE':
    case 'MAY_REPLACE':
      return {
        ...base, action: 'replace', properties: causing.length > 0 ? causing : changed,
        conditional: d.changeImpact === 'MAY_REPLACE', retained: KEEPS.has(d.newValue?.UpdateReplacePolicy ?? d.oldValue?.UpdateReplacePolicy ?? ''),
      };
    case 'WILL_DESTROY':
      return { ...base, action: 'delete', properties: [] };
    case 'WILL_ORPHAN':
      return { ...base, action: 'delete', properties: [], retained: true };
    default:
      return undefined;
  }
}

/**
 * The stack's diff as a target's: each change names the resource's logical id and says, with its
 * type, what happens; `disruptive` marks a replacement or deletion of a type in `serving` whose
 * physical resource goes away (one a retain policy keeps keeps serving until traffic left it).
 */
export function stackTargetDiff(result: DiffStackResult, serving: ReadonlySet<string>): StackDiff {
  const changes = result.changes.map((c): StackChange => {
    const disruptive = (c.action === 'replace' || c.action === 'delete') && serving.has(c.type) && !c.retained;
    return { resource: c.logicalId, action: c.action, detail: changeDetail(c), ...(disruptive ? { disruptive: true } : {}) };
  });
  return { unchanged: result.unchanged, changes, ...(result.text ? { text: result.text } : {}) };
}

function changeDetail(c: StackResourceChange): string {
  const props = c.properties.length > 0 ? c.properties.join(', ') : undefined;
  switch (c.action) {
    case 'create':
      return `${c.type}: created`;
    case 'update':
      return `${c.type}: updated in place${props ? ` (${props})` : ''}`;
    case 'replace':
      return `${c.type}: ${c.conditional ? 'may be replaced (CloudFormation decides during the deploy)' : 'replaced'}${props ? ` because ${props} change${c.properties.length === 1 ? 's' : ''}` : ''}${c.retained ? '; the old one is kept (UpdateReplacePolicy: Retain)' : ''}`;
    case 'delete':
      return c.retained ? `${c.type}: removed from the stack and kept in the account (DeletionPolicy: Retain)` : `${c.type}: deleted`;
  }
}

function diffError(e: unknown, stackName: string, region: string): DeployModelError {
  if (e instanceof DeployModelError) return e;
  if (ToolkitError.isBootstrapError(e)) return notBootstrapped(e.environment.account, e.environment.region, e);
  if (ToolkitError.isAuthenticationError(e) || isCredentialsError(e)) return noCredentials(region, `diff stack ${stackName}`, e);
  const reason = awsReason(e);
  const env = /aws:\/\/(\d{12})\/([a-z0-9-]+)/.exec(reason);
  if (env && /bootstrap/i.test(reason)) return notBootstrapped(env[1]!, env[2]!, e);
  return new DeployModelError('AWS_DIFF_FAILED',
    `Comparing stack ${stackName} in ${region} with the deployed one failed: ${reason}. Check that the credentials may call cloudformation:GetTemplate, CreateChangeSet, DescribeChangeSet and DeleteChangeSet.${overrideNote('CloudFormation')}`,
    { cause: e, details: { stackName, region } });
}
