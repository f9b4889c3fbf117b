// npm run docs:config — regenerates the README's config reference and src/config/config-types.ts from the schema.
import { readFile, writeFile } from 'node:fs/promises';
import { withConfigReference } from '../src/config/config-reference.js';
import { configTypesSource } from '../src/config/config-types-source.js';

const file = new URL('../README.md', import.meta.url);
await writeFile(file, withConfigReference(await readFile(file, 'utf8')));
await writeFile(new URL('../src/config/config-types.ts', import.meta.url), configTypesSource());
