#!/usr/bin/env node
// The published entry point. From a clone, `npm install` builds dist/ through the prepare script.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `deploy-model --version` alone (CI logs, bug reports, shell prompts) answers before the CLI loads.
const only = process.argv.slice(2);
if (only.length === 1 && (only[0] === '--version' || only[0] === '-v')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('deploy-model: dist/ is missing. Run `npm install` (or `npm run build`) in the package folder first.\n');
  process.exit(70);
}

// `deploy-model plan | head`: a reader that closes the pipe early ends the output, not in a crash.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// The AWS SDK's own switch for its Node-version notice, the only warning it turns off; the
// supported Node versions are in the README, and npm checks `engines` at install.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';

// onnxruntime-node is not an npm dependency (its install script downloads GPU libraries from
// outside the registry): it is fetched from the registry into the cache once, and linked here.
const args = process.argv.slice(2);
if (!args.some((a) => ['-h', '--help', '-v', '--version'].includes(a)) && args[0] !== 'help' && args.length > 0) {
  const { ensureOnnxRuntimeNode } = await import('../dist/src/ensure-onnxruntime-node.js');
  try {
    ensureOnnxRuntimeNode({ onFetch: (message) => process.stderr.write(`deploy-model: ${message}\n`) });
  } catch (e) {
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code: e.code ?? 'INTERNAL', message: e.message, details: e.details ?? {} } }, null, 2)}\n`);
    process.stderr.write(`error ${e.code ?? 'INTERNAL'}: ${e.message}\n`);
    process.exit(e.code ? 1 : 70);
  }
}
await import(main.href);
