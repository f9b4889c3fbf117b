// Generates the README's config reference from the schema.
import { configJsonSchema } from './json-schema.js';

type JsonSchema = {
  type?: string | string[]; description?: string; default?: unknown; enum?: unknown[]; const?: unknown;
  properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: JsonSchema | boolean;
  oneOf?: JsonSchema[]; anyOf?: JsonSchema[]; items?: JsonSchema; minimum?: number; maximum?: number; pattern?: string;
};

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object' && !s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') return `record of ${typeOf(s.additionalProperties)}`;
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type ?? 'any';
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const range = max !== undefined ? ` ${s.minimum ?? ''}–${max}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : '';
  return `${t}${range}`;
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const name = `${prefix}${key}`;
    const required = schema.required?.includes(key) && prop.default === undefined;
    const desc = (prop.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    out.push(`| \`${name}\` | ${typeOf(prop)} | ${required ? 'yes' : ''} | ${desc} |`);
    if (prop.properties) rows(prop, `${name}.`, out);
  }
}

/** The README's config reference, generated from the schema (a test keeps the README in sync). */
export function configReferenceMarkdown(): string {
  const schema = configJsonSchema() as JsonSchema;
  const top: string[] = [];
  const { targets, ...rest } = schema.properties ?? {};
  rows({ properties: rest, required: schema.required }, '', top);
  const sections = ['| field | type | required | description |', '|---|---|---|---|', ...top];
  const targetSchemas = (targets?.additionalProperties as JsonSchema | undefined)?.oneOf ?? [];
  for (const t of targetSchemas) {
    const type = t.properties?.type?.const as string;
    const out: string[] = [];
    rows(t, `targets.<name>.`, out);
    sections.push('', `#### \`type: '${type}'\``, '', t.description ?? '', '', '| field | type | required | description |', '|---|---|---|---|', ...out);
  }
  return sections.join('\n');
}

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

/** Replaces the block between the markers. */
export function withConfigReference(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README has no ${START} ... ${END} block`);
  return `${readme.slice(0, a + START.length)}\n${configReferenceMarkdown()}\n${readme.slice(b)}`;
}
