// npm run docs:config — regenerates the README's config reference from the schema.
import { readFile, writeFile } from 'node:fs/promises';
import { withConfigReference } from '../src/config/config-reference.js';

const file = new URL('../README.md', import.meta.url);
await writeFile(file, withConfigReference(await readFile(file, 'utf8')));
