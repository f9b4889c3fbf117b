import type { Template } from './_cfn-model.js';

/** A template that CloudFormation would reject: the message follows CloudFormation's wording. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** `Ref: AWS::NoValue` (also from `Fn::If`): the property or list item disappears. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export interface ResolvedResource {
  readonly physicalId: string;
  getAtt(attribute: string): unknown;
}

/** Everything intrinsic functions can see while a template is evaluated. */
export interface ResolveEnv {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly stackId: string;
  /** Parameter values after defaults and SSM resolution; list types as arrays. */
  readonly parameters: Readonly<Record<string, string | string[]>>;
  readonly conditions: Readonly<Record<string, boolean>>;
  readonly mappings?: Template['Mappings'];
  /** A resource already provisioned in this operation, or undefined. */
  resource(logicalId: string): ResolvedResource | undefined;
  importValue?(exportName: string): string | undefined;
}

const PSEUDO = ['AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue', 'AWS::NotificationARNs'];

function pseudo(name: string, env: ResolveEnv): unknown {
  switch (name) {
    case 'AWS::Region': return env.region;
    case 'AWS::AccountId': return env.accountId;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return env.stackName;
    case 'AWS::StackId': return env.stackId;
    case 'AWS::NoValue': return NO_VALUE;
    case 'AWS::NotificationARNs': return [];
    default: return undefined;
  }
}

function ref(name: string, env: ResolveEnv): unknown {
  if (PSEUDO.includes(name)) return pseudo(name, env);
  if (name in env.parameters) return env.parameters[name];
  const resource = env.resource(name);
  if (!resource) throw new TemplateError(`Template format error: Unresolved resource dependencies [${name}] in the Resources block of the template`);
  return resource.physicalId;
}

function getAtt(target: unknown, env: ResolveEnv): unknown {
  const [logicalId, ...rest] = typeof target === 'string' ? target.split('.') : (resolve(target, env) as string[]);
  const attribute = rest.join('.');
  const resource = env.resource(logicalId!);
  if (!resource) throw new TemplateError(`Template format error: Unresolved resource dependencies [${logicalId}] in the Resources block of the template`);
  const value = resource.getAtt(attribute);
  if (value === undefined) {
    throw new TemplateError(`Template error: resource ${logicalId} does not support attribute type ${attribute} in Fn::GetAtt`);
  }
  return value;
}

function sub(args: unknown, env: ResolveEnv): string {
  const [text, vars] = Array.isArray(args) ? [args[0] as string, (resolve(args[1], env) ?? {}) as Record<string, unknown>] : [args as string, {}];
  return text.replace(/\$\{([^}]+)\}/g, (_, expr: string) => {
    if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
    if (expr in vars) return String(vars[expr]);
    if (expr.includes('.') && !PSEUDO.includes(expr)) return String(getAtt(expr, env));
    return String(ref(expr, env));
  });
}

function condition(value: unknown, env: ResolveEnv): boolean {
  return resolve(value, env) === true;
}

/** Evaluates intrinsic functions in `value`; `NO_VALUE` marks what must disappear. */
export function resolve(value: unknown, env: ResolveEnv): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, env)).filter((v) => v !== NO_VALUE);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [fn, args] = entries[0]!;
    const r = (v: unknown): unknown => resolve(v, env);
    const list = (v: unknown): unknown[] => r(v) as unknown[];
    switch (fn) {
      case 'Ref': return ref(args as string, env);
      case 'Fn::GetAtt': return getAtt(args, env);
      case 'Fn::Join': return list((args as unknown[])[1]).map(String).join((args as string[])[0]);
      case 'Fn::Sub': return sub(args, env);
      case 'Fn::Select': {
        const [index, from] = args as [unknown, unknown];
        const items = list(from);
        const i = Number(r(index));
        if (!(i >= 0 && i < items.length)) throw new TemplateError(`Template error: Fn::Select cannot select nonexistent value at index ${i}`);
        return items[i];
      }
      case 'Fn::Split': return String(r((args as unknown[])[1])).split((args as string[])[0]!);
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = args as [string, unknown, unknown];
        if (!(name in env.conditions)) throw new TemplateError(`Template error: unresolved condition dependency ${name} in Fn::If`);
        return r(env.conditions[name] ? whenTrue : whenFalse);
      }
      case 'Condition': return env.conditions[args as string] === true;
      case 'Fn::Equals': { const [a, b] = list(args); return String(a) === String(b); }
      case 'Fn::Not': return !condition((args as unknown[])[0], env);
      case 'Fn::And': return (args as unknown[]).every((c) => condition(c, env));
      case 'Fn::Or': return (args as unknown[]).some((c) => condition(c, env));
      case 'Fn::Contains': { const [items, item] = list(args); return (items as unknown[]).map(String).includes(String(item)); }
      case 'Fn::EachMemberEquals': { const [items, item] = list(args); return (items as unknown[]).every((x) => String(x) === String(item)); }
      case 'Fn::EachMemberIn': { const [items, allowed] = list(args); return (items as unknown[]).every((x) => (allowed as unknown[]).map(String).includes(String(x))); }
      case 'Fn::GetAZs': return ['a', 'b', 'c'].map((z) => `${(r(args) as string) || env.region}${z}`);
      case 'Fn::Base64': return Buffer.from(String(r(args))).toString('base64');
      case 'Fn::FindInMap': {
        const [map, top, second] = list(args) as string[];
        const found = env.mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined) throw new TemplateError(`Template error: Unable to get mapping for ${map}::${top}::${second}`);
        return found;
      }
      case 'Fn::ImportValue': {
        const name = String(r(args));
        const found = env.importValue?.(name);
        if (found === undefined) throw new TemplateError(`No export named ${name} found.`);
        return found;
      }
      case 'Fn::ToJsonString': return JSON.stringify(r(args));
      case 'Fn::Length': return list(args).length;
      default:
        if (fn.startsWith('Fn::')) throw new TemplateError(`Template format error: Unsupported function ${fn} in the fake`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const resolved = resolve(v, env);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

/** Logical ids `value` refers to through Ref, Fn::GetAtt and Fn::Sub (parameters included). */
export function references(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') into.add(v);
      else if (k === 'Fn::GetAtt') into.add(typeof v === 'string' ? v.split('.')[0]! : String((v as unknown[])[0]));
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? String(v[0]) : String(v);
        const vars = Array.isArray(v) && v[1] && typeof v[1] === 'object' ? (v[1] as Record<string, unknown>) : {};
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          if (!(m[1]! in vars)) into.add(m[1]!.split('.')[0]!);
        }
        references(vars, into);
      } else references(v, into);
    }
  }
  return into;
}

/** Evaluates the Conditions section; conditions may refer to each other. */
export function evaluateConditions(template: Template, env: Omit<ResolveEnv, 'conditions'>): Record<string, boolean> {
  const defs = template.Conditions ?? {};
  const done: Record<string, boolean> = {};
  const visiting = new Set<string>();
  const conditions = new Proxy(done, {
    get: (_, name: string) => evaluate(name),
    has: (_, name: string) => name in defs,
  });
  const scoped: ResolveEnv = { ...env, conditions, resource: env.resource };
  function evaluate(name: string): boolean | undefined {
    if (name in done) return done[name];
    if (!(name in defs)) return undefined;
    if (visiting.has(name)) throw new TemplateError(`Template error: circular condition dependency ${name}`);
    visiting.add(name);
    done[name] = resolve(defs[name], scoped) === true;
    return done[name];
  }
  for (const name of Object.keys(defs)) evaluate(name);
  return { ...done };
}

/** Checks the Rules section the way CloudFormation does before it accepts a change set. */
export function checkRules(template: Template, env: ResolveEnv): void {
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && resolve(rule.RuleCondition, env) !== true) continue;
    for (const assertion of rule.Assertions ?? []) {
      if (resolve(assertion.Assert, env) !== true) {
        throw new TemplateError(assertion.AssertDescription ?? `Template rule ${name} failed.`);
      }
    }
  }
}

/** Canonical JSON (sorted keys), to compare templates and properties by content. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
