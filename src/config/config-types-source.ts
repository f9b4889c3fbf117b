/**
 * Writes the config's TypeScript types from its JSON Schema (which comes from the zod schema), with
 * each field's description and default as a doc comment, so an editor shows them on hover.
 * `npm run docs:config` writes src/config/config-types.ts; a test keeps it in sync.
 */
import { configJsonSchema } from './json-schema.js';

interface JsonSchema {
  type?: string | string[]; description?: string; default?: unknown; enum?: unknown[]; const?: unknown;
  properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: JsonSchema | boolean;
  oneOf?: JsonSchema[]; anyOf?: JsonSchema[]; items?: JsonSchema; $ref?: string;
}

const pascal = (s: string): string => s.split(/[^a-zA-Z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

/** Whether a schema needs the zod type itself (recursion through `$ref`, or `{}`). */
function opaque(s: JsonSchema): boolean {
  if (s.$ref) return true;
  if (Object.keys(s).filter((k) => k !== 'description' && k !== 'default').length === 0) return true;
  // An object with properties is spelt field by field; only its opaque fields fall back.
  if (s.properties) return false;
  return [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.items ? [s.items] : []), ...(typeof s.additionalProperties === 'object' ? [s.additionalProperties] : [])].some(opaque);
}

function doc(s: JsonSchema, indent: string): string {
  if (!s.description && s.default === undefined) return '';
  const text = (s.description ?? '').replace(/\*\//g, '* /');
  const lines = [...(text ? text.split('\n') : []), ...(s.default !== undefined ? [`@default ${JSON.stringify(s.default)}`] : [])];
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

/**
 * The schema's own input type at a path of config keys, for the few fields plain types cannot spell
 * (`*` a record's value, `*<type>` the target entry of that type, `0` an array's item).
 */
function inputAt(path: string[]): string {
  return path.reduce((t, key) => {
    if (key.startsWith('*') && key.length > 1) return `Extract<NonNullable<${t}>[string], { type: ${JSON.stringify(key.slice(1))} }>`;
    return `NonNullable<${t}>${key === '*' ? '[string]' : key === '0' ? '[number]' : `[${JSON.stringify(key)}]`}`;
  }, 'z.input<typeof configSchema>');
}

class Emitter {
  readonly declarations: string[] = [];

  /** The type of `s`, found at `path` (config keys, for the zod fallback). */
  type(s: JsonSchema, path: string[], indent: string): string {
    if (opaque(s)) return inputAt(path);
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    const union = s.anyOf ?? s.oneOf;
    if (union) return union.map((u) => this.type(u, path, indent)).join(' | ');
    const t = Array.isArray(s.type) ? s.type : [s.type ?? 'unknown'];
    const parts = t.map((one) => {
      switch (one) {
        case 'string': return 'string';
        case 'number': case 'integer': return 'number';
        case 'boolean': return 'boolean';
        case 'null': return 'null';
        case 'array': return `Array<${s.items ? this.type(s.items, [...path, '0'], indent) : 'unknown'}>`;
        case 'object':
          if (s.properties) return this.object(s, path, indent);
          return `Record<string, ${typeof s.additionalProperties === 'object' ? this.type(s.additionalProperties, [...path, '*'], indent) : 'unknown'}>`;
        default: return 'unknown';
      }
    });
    return parts.join(' | ');
  }

  object(s: JsonSchema, path: string[], indent: string): string {
    const inner = `${indent}  `;
    const fields = Object.entries(s.properties ?? {}).map(([key, prop]) => {
      const optional = !(s.required ?? []).includes(key) || prop.default !== undefined;
      return `${doc(prop, inner)}${inner}${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}${optional ? '?' : ''}: ${this.type(prop, [...path, key], inner)};`;
    });
    return `{\n${fields.join('\n')}\n${indent}}`;
  }
}

export function configTypesSource(): string {
  const schema = configJsonSchema() as JsonSchema;
  const e = new Emitter();
  const { targets, ...rest } = schema.properties ?? {};
  const targetSchemas = ((targets?.additionalProperties as JsonSchema | undefined)?.oneOf ?? []);
  const targetTypes = targetSchemas.map((t) => {
    const type = String(t.properties?.type?.const);
    const name = `${pascal(type).replace('Sagemaker', 'SageMaker')}TargetInput`;
    e.declarations.push(`${doc(t, '')}export interface ${name} ${e.object(t, ['targets', `*${type}`], '')}`);
    return name;
  });
  const body = e.object({ properties: rest, required: schema.required }, [], '');
  const targetsField = `${doc(targets ?? {}, '  ')}  targets: Record<string, TargetInput>;\n`;
  // `targets` goes after `runtime`, where the schema has it.
  const top = body.replace(/\n(  \/\*\*\n(?:  .*\n)*?  \*\/\n)?  smoke\?:/, (m) => `\n${targetsField}${m.slice(1)}`);
  return `// Generated by \`npm run docs:config\` from the zod schema (src/config/config-types-source.ts): the config
// as you write it, each field with its description and default. Do not edit by hand.
import type { z } from 'zod';
import type { configSchema } from './schema.js';

${e.declarations.join('\n\n')}

/** One entry of \`targets\`, discriminated by \`type\`. */
export type TargetInput = ${targetTypes.join(' | ')};

/** What you write in deploy-model.config.ts: \`export default defineConfig({ ... })\`. */
export interface UserConfig ${top}
`;
}
