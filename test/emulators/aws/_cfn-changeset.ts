import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FakeContext } from './_context.js';
import {
  NO_CHANGES_REASON, type CfnStack, type ChangeDetail, type ChangeSet, type ResourceChange, type StackParameter, type Template,
} from './_cfn-model.js';
import { canonical, checkRules, evaluateConditions, references, resolve, TemplateError, type ResolveEnv } from './_cfn-template.js';
import { AwsError } from './_wire.js';

export interface ChangeSetInput {
  readonly StackName: string;
  readonly ChangeSetName: string;
  readonly ChangeSetType?: 'CREATE' | 'UPDATE' | 'IMPORT';
  readonly TemplateURL?: string;
  readonly TemplateBody?: string;
  readonly UsePreviousTemplate?: string;
  readonly Parameters?: Array<{ ParameterKey: string; ParameterValue?: string; UsePreviousValue?: string }>;
  readonly Tags?: Array<{ Key: string; Value: string }>;
  readonly Capabilities?: string[];
  readonly Description?: string;
  readonly RoleARN?: string;
}

const PSEUDO_PARAMETERS = new Set(['AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue', 'AWS::NotificationARNs']);
const IAM_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::AccessKey', 'AWS::IAM::InstanceProfile', 'AWS::IAM::UserToGroupAddition']);
const NAMED_IAM_PROPS = ['RoleName', 'ManagedPolicyName', 'UserName', 'GroupName', 'InstanceProfileName'];

export function newStack(ctx: FakeContext, name: string): CfnStack {
  return {
    stackId: `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${name}/${randomUUID()}`,
    stackName: name,
    status: 'REVIEW_IN_PROGRESS',
    created: new Date(),
    parameters: [],
    tags: [],
    capabilities: [],
    outputs: [],
    resources: new Map(),
    events: [],
    changeSets: new Map(),
    terminationProtection: false,
  };
}

/** Reads the template of a CreateChangeSet/CreateStack call from its body or the fake's S3. */
export function loadTemplate(ctx: FakeContext, input: { TemplateURL?: string; TemplateBody?: string }, previous?: CfnStack): { template: Template; body: string } {
  let body: string | undefined = input.TemplateBody;
  if (body === undefined && input.TemplateURL) body = readTemplateUrl(ctx, input.TemplateURL);
  if (body === undefined && previous?.templateBody) body = previous.templateBody;
  if (body === undefined) throw new AwsError('ValidationError', 'Either Template URL or Template Body must be specified.');
  return { template: parseTemplateBody(body), body };
}

function readTemplateUrl(ctx: FakeContext, url: string): string {
  let bucket: string;
  let key: string;
  try {
    const u = new URL(url);
    const virtualHosted = /^(.+)\.s3[.-]/.exec(u.hostname);
    const segments = decodeURIComponent(u.pathname).replace(/^\//, '').split('/');
    [bucket, key] = virtualHosted ? [virtualHosted[1]!, segments.join('/')] : [segments[0]!, segments.slice(1).join('/')];
  } catch {
    throw new AwsError('ValidationError', 'TemplateURL must be a supported URL.');
  }
  const object = ctx.state.s3.get(bucket)?.get(key);
  if (!object) {
    throw new AwsError('ValidationError', 'S3 error: Access Denied For more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html');
  }
  return object.body.toString('utf8');
}

/** JSON, or the YAML toolkit-lib writes for inline templates (parsed with the same library). */
export function parseTemplateBody(body: string): Template {
  try {
    return JSON.parse(body) as Template;
  } catch {
    // toolkit-lib writes inline templates as YAML; parse them with the YAML library it uses.
    const toolkitRequire = createRequire(createRequire(import.meta.url).resolve('@aws-cdk/toolkit-lib'));
    try {
      const yaml = toolkitRequire('yaml') as { parse(text: string): unknown };
      return yaml.parse(body) as Template;
    } catch (e) {
      throw new AwsError('ValidationError', `Template format error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Parameters after previous values, defaults and SSM resolution, validated like CloudFormation. */
export function resolveParameters(ctx: FakeContext, template: Template, given: ChangeSetInput['Parameters'] = [], previous: StackParameter[] = []): StackParameter[] {
  const declared = template.Parameters ?? {};
  const unknown = given.filter((g) => !(g.ParameterKey in declared)).map((g) => g.ParameterKey);
  if (unknown.length > 0) throw new AwsError('ValidationError', `Parameters: [${unknown.join(', ')}] do not exist in the template`);
  const out: StackParameter[] = [];
  const missing: string[] = [];
  const unreadable: string[] = [];
  for (const [key, def] of Object.entries(declared)) {
    const g = given.find((p) => p.ParameterKey === key);
    const value = String(g?.UsePreviousValue) === 'true'
      ? previous.find((p) => p.ParameterKey === key)?.ParameterValue
      : g?.ParameterValue ?? def.Default;
    if (value === undefined) {
      missing.push(key);
      continue;
    }
    if (def.AllowedValues && !def.AllowedValues.map(String).includes(value)) {
      throw new AwsError('ValidationError', `Parameter '${key}' must be one of AllowedValues`);
    }
    if (def.Type.startsWith('AWS::SSM::Parameter::Value<')) {
      const parameter = ctx.state.ssm.get(value);
      if (!parameter) unreadable.push(value);
      out.push({ ParameterKey: key, ParameterValue: value, ResolvedValue: parameter?.value });
    } else {
      out.push({ ParameterKey: key, ParameterValue: value });
    }
  }
  if (missing.length > 0) throw new AwsError('ValidationError', `Parameters: [${missing.join(', ')}] must have values`);
  if (unreadable.length > 0) {
    throw new AwsError('ValidationError', `Unable to fetch parameters [${unreadable.join(',')}] from parameter store for this account.`);
  }
  return out;
}

/** Parameter values as intrinsic functions see them (list types as arrays). */
export function parameterValues(template: Template, parameters: StackParameter[]): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const p of parameters) {
    const type = template.Parameters?.[p.ParameterKey]?.Type ?? 'String';
    const value = p.ResolvedValue ?? p.ParameterValue;
    values[p.ParameterKey] = /List<|CommaDelimitedList/.test(type) ? value.split(',') : value;
  }
  return values;
}

/** Static checks CloudFormation makes before it accepts a template. */
function validateTemplate(template: Template, env: Omit<ResolveEnv, 'conditions'>, capabilities: string[]): Record<string, boolean> {
  const resources = template.Resources ?? {};
  if (Object.keys(resources).length === 0) throw new AwsError('ValidationError', 'Template format error: At least one Resources member must be defined.');
  let conditions: Record<string, boolean>;
  try {
    conditions = evaluateConditions(template, env);
    checkRules(template, { ...env, conditions });
  } catch (e) {
    throw new AwsError('ValidationError', (e as Error).message);
  }
  const known = new Set([...Object.keys(template.Parameters ?? {}), ...Object.keys(resources), ...PSEUDO_PARAMETERS]);
  const unresolved = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (!resource?.Type) throw new AwsError('ValidationError', `Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`);
    for (const r of references(resource.Properties)) if (!known.has(r)) unresolved.add(r);
    for (const d of [resource.DependsOn ?? []].flat()) if (!(d in resources)) unresolved.add(d);
  }
  for (const output of Object.values(template.Outputs ?? {})) for (const r of references(output.Value)) if (!known.has(r)) unresolved.add(r);
  if (unresolved.size > 0) {
    throw new AwsError('ValidationError', `Template format error: Unresolved resource dependencies [${[...unresolved].join(', ')}] in the Resources block of the template`);
  }
  const iam = Object.values(resources).filter((r) => IAM_TYPES.has(r.Type));
  const named = iam.some((r) => NAMED_IAM_PROPS.some((p) => r.Properties?.[p] !== undefined));
  if (named && !capabilities.includes('CAPABILITY_NAMED_IAM')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_NAMED_IAM]');
  }
  if (iam.length > 0 && !capabilities.includes('CAPABILITY_IAM') && !capabilities.includes('CAPABILITY_NAMED_IAM')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]');
  }
  return conditions;
}

/**
 * Properties as the change set compares them: parameters and pseudo parameters resolved,
 * references to resources left symbolic (`<Id>`, `<Id.Attr>`), raw when they do not resolve.
 */
function comparable(ctx: FakeContext, stack: CfnStack, template: Template, parameters: StackParameter[]): (props: unknown) => string {
  const base = {
    region: ctx.region, accountId: ctx.accountId, stackName: stack.stackName, stackId: stack.stackId,
    parameters: parameterValues(template, parameters), mappings: template.Mappings,
    resource: (id: string) => ({ physicalId: `<${id}>`, getAtt: (a: string) => `<${id}.${a}>` }),
  };
  let env: ResolveEnv | undefined;
  try {
    env = { ...base, conditions: evaluateConditions(template, base) };
  } catch {
    env = undefined;
  }
  return (props) => {
    try {
      return canonical(env ? resolve(props ?? {}, env) : props);
    } catch {
      return canonical(props);
    }
  };
}

/** What CloudFormation writes for a value it learns only during the update (a new resource's id or attribute). */
export const KNOWN_AFTER_APPLY = '{{changeSet:KNOWN_AFTER_APPLY}}';

/** A property value as change set details carry it: strings as they are, anything else as JSON. */
const detailValue = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/**
 * New properties resolved as CloudFormation shows them in a change set: references to resources
 * that stay resolve to their physical ids and attributes, those to new or replaced resources to
 * KNOWN_AFTER_APPLY.
 */
function afterValues(ctx: FakeContext, stack: CfnStack, template: Template, parameters: StackParameter[], pending: Set<string>): (props: unknown) => unknown {
  const base = {
    region: ctx.region, accountId: ctx.accountId, stackName: stack.stackName, stackId: stack.stackId,
    parameters: parameterValues(template, parameters), mappings: template.Mappings,
    resource: (id: string) => {
      const known = pending.has(id) ? undefined : stack.resources.get(id);
      return known
        ? { physicalId: known.physicalId, getAtt: (a: string) => known.attributes[a] ?? KNOWN_AFTER_APPLY }
        : { physicalId: KNOWN_AFTER_APPLY, getAtt: () => KNOWN_AFTER_APPLY };
    },
  };
  let env: ResolveEnv | undefined;
  try {
    env = { ...base, conditions: evaluateConditions(template, base) };
  } catch {
    env = undefined;
  }
  return (props) => {
    try {
      return env ? resolve(props ?? {}, env) : props;
    } catch {
      return props;
    }
  };
}

/**
 * The `Changes` CloudFormation would report (informational; execution decides on resolved values).
 * Each Modify names its changed properties, with the values before and after (which
 * DescribeChangeSet returns only with `IncludePropertyValues`); a resource whose property points
 * at a new or replaced resource changes too, with `Evaluation: Dynamic`.
 */
function computeChanges(ctx: FakeContext, stack: CfnStack, template: Template, parameters: StackParameter[], conditions: Record<string, boolean>): ResourceChange[] {
  const before = stack.template?.Resources ?? {};
  const after = Object.fromEntries(Object.entries(template.Resources ?? {}).filter(([, r]) => !r.Condition || conditions[r.Condition]));
  const oldView = stack.template ? comparable(ctx, stack, stack.template, stack.parameters) : canonical;
  const newView = comparable(ctx, stack, template, parameters);
  const changes: ResourceChange[] = [];
  const replaced = new Set<string>();
  const modified: Array<{ id: string; type: string; changed: string[]; replacement: boolean }> = [];
  for (const [id, resource] of Object.entries(after)) {
    const old = before[id];
    if (!old || !stack.resources.has(id)) {
      changes.push({ Action: 'Add', LogicalResourceId: id, ResourceType: resource.Type, Scope: [], Details: [] });
      replaced.add(id);
      continue;
    }
    const changed = Object.keys({ ...old.Properties, ...resource.Properties })
      .filter((k) => oldView(old.Properties?.[k]) !== newView(resource.Properties?.[k]));
    if (old.Type === resource.Type && changed.length === 0) continue;
    const replaceOn = ctx.provisioners.get(resource.Type)?.replaceOn ?? [];
    const replacement = old.Type !== resource.Type || replaceOn === '*' || changed.some((k) => replaceOn.includes(k));
    if (replacement) replaced.add(id);
    modified.push({ id, type: resource.Type, changed, replacement });
  }
  const afterView = afterValues(ctx, stack, template, parameters, replaced);
  const values = (id: string, k: string) => ({
    BeforeValue: detailValue(stack.resources.get(id)?.properties[k]),
    AfterValue: detailValue(afterView(after[id]?.Properties?.[k])),
  });
  for (const m of modified) {
    changes.push({
      Action: 'Modify', LogicalResourceId: m.id, PhysicalResourceId: stack.resources.get(m.id)?.physicalId, ResourceType: m.type,
      Replacement: m.replacement ? 'True' : 'False', Scope: ['Properties'],
      Details: m.changed.map((k): ChangeDetail => ({
        Target: { Attribute: 'Properties', Name: k, RequiresRecreation: m.replacement ? 'Always' : 'Never', ...values(m.id, k) },
        Evaluation: 'Static', ChangeSource: 'DirectModification',
      })),
    });
  }
  // Resources whose properties point at something new or replaced change too, property by property;
  // one that may be replaced itself (Conditional) passes the change on to what points at it.
  for (let found = true; found;) {
    found = false;
    for (const [id, resource] of Object.entries(after)) {
      if (changes.some((c) => c.LogicalResourceId === id)) continue;
      const replaceOn = ctx.provisioners.get(resource.Type)?.replaceOn ?? [];
      const recreates = (k: string) => replaceOn === '*' || replaceOn.includes(k);
      const details = Object.entries(resource.Properties ?? {}).flatMap(([k, v]): ChangeDetail[] => {
        const causes = [...references(v)].filter((r) => replaced.has(r));
        return causes.length === 0 ? [] : [{
          Target: { Attribute: 'Properties', Name: k, RequiresRecreation: recreates(k) ? 'Always' : 'Never', ...values(id, k) },
          Evaluation: 'Dynamic', ChangeSource: 'ResourceReference', CausingEntity: causes[0]!,
        }];
      });
      if (details.length === 0) continue;
      const conditional = details.some((d) => d.Target.RequiresRecreation === 'Always');
      if (conditional) replaced.add(id);
      found = true;
      changes.push({
        Action: 'Modify', LogicalResourceId: id, PhysicalResourceId: stack.resources.get(id)?.physicalId, ResourceType: resource.Type,
        Replacement: conditional ? 'Conditional' : 'False', Scope: ['Properties'], Details: details,
      });
    }
  }
  for (const [id, resource] of stack.resources) {
    if (!(id in after)) changes.push({ Action: 'Remove', LogicalResourceId: id, PhysicalResourceId: resource.physicalId, ResourceType: resource.type, Scope: [], Details: [] });
  }
  return changes;
}

/** CreateChangeSet: validates synchronously like CloudFormation, then settles at once. */
export function createChangeSet(ctx: FakeContext, stack: CfnStack, input: ChangeSetInput, isNewStack: boolean): ChangeSet {
  const type = input.ChangeSetType ?? 'UPDATE';
  if (type === 'IMPORT') throw new AwsError('ValidationError', 'The fake does not support resource import change sets.');
  const { template, body } = loadTemplate(ctx, String(input.UsePreviousTemplate) === 'true' ? {} : input, stack);
  const parameters = resolveParameters(ctx, template, input.Parameters, stack.parameters);
  const capabilities = input.Capabilities ?? [];
  const env = {
    region: ctx.region, accountId: ctx.accountId, stackName: stack.stackName, stackId: stack.stackId,
    parameters: parameterValues(template, parameters), mappings: template.Mappings, resource: () => undefined,
  };
  let conditions: Record<string, boolean>;
  try {
    conditions = validateTemplate(template, env, capabilities);
  } catch (e) {
    if (e instanceof TemplateError) throw new AwsError('ValidationError', e.message);
    throw e;
  }
  if (input.RoleARN && !ctx.state.iam.roles.has(input.RoleARN.split('/').pop()!)) {
    throw new AwsError('ValidationError', `Role ${input.RoleARN} is invalid or cannot be assumed`);
  }
  const changeSet: ChangeSet = {
    id: `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:changeSet/${input.ChangeSetName}/${randomUUID()}`,
    name: input.ChangeSetName,
    stackId: stack.stackId,
    stackName: stack.stackName,
    type,
    status: 'CREATE_COMPLETE',
    executionStatus: 'AVAILABLE',
    created: new Date(),
    description: input.Description,
    template,
    templateBody: body,
    parameters,
    tags: input.Tags ?? [],
    capabilities,
    changes: computeChanges(ctx, isNewStack ? { ...stack, template: undefined, resources: new Map() } : stack, template, parameters, conditions),
    roleArn: input.RoleARN,
  };
  const injected = ctx.faults.takeChangeSetFailure();
  const unchanged = !isNewStack && stack.template !== undefined &&
    canonical(stack.template) === canonical(template) &&
    canonical(stack.parameters) === canonical(parameters) &&
    canonical(stack.tags) === canonical(changeSet.tags);
  if (injected !== undefined || unchanged) {
    changeSet.status = 'FAILED';
    changeSet.executionStatus = 'UNAVAILABLE';
    changeSet.statusReason = injected ?? NO_CHANGES_REASON;
  }
  stack.changeSets.set(changeSet.id, changeSet);
  return changeSet;
}
