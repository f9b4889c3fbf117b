import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withConfigReference } from '../../src/config/config-reference.js';
import { configJsonSchema } from '../../src/config/json-schema.js';

describe('config reference', () => {
  it('the README reference is the one generated from the schema (run `npm run docs:config` after a schema change)', async () => {
    const readme = await readFile(path.resolve(__dirname, '../../README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });

  it('every optional field states its default in its description', () => {
    const missing: string[] = [];
    const walk = (s: any, at: string): void => {
      for (const [key, prop] of Object.entries<any>(s.properties ?? {})) {
        const required = s.required?.includes(key) && prop.default === undefined;
        if (!required && key !== 'type' && !/Default:/.test(prop.description ?? '') && !prop.properties) missing.push(`${at}${key}`);
        if (prop.properties) walk(prop, `${at}${key}.`);
      }
    };
    const schema: any = configJsonSchema();
    walk(schema, '');
    for (const t of schema.properties.targets.additionalProperties.oneOf) walk(t, `targets.<${t.properties.type.const}>.`);
    expect(missing).toEqual([]);
  });
});
