/**
 * The process the soak measures: what a local deployment's daemon runs (the emulator with its
 * Function URL, the function's log appended to a file), and nothing else. Started by soak.ts.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { startLocalFunction } from '../../../src/lambda-emulator/local-function.js';
import type { LocalFunctionSpec } from '../../../src/lambda-emulator/types.js';

const [specFile, logFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, 'utf8')) as LocalFunctionSpec;
const fn = await startLocalFunction({ ...spec, log: (line) => appendFileSync(logFile, `${line}\n`) });
process.stdout.write(`READY ${fn.url} ${fn.stats().pid}\n`);
process.on('SIGTERM', () => { void fn.stop().then(() => process.exit(0)); });
process.on('message', () => process.send?.(fn.stats()));
