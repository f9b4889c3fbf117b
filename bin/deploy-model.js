#!/usr/bin/env node
// The published entry point. From a clone, `npm install` builds dist/ through the prepare script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('deploy-model: dist/ is missing. Run `npm install` (or `npm run build`) in the package folder first.\n');
  process.exit(70);
}
await import(main.href);
