// Preloaded with `node --import`: writes every module file the process loads, one path a line, to $DEPLOY_MODEL_MODULE_LOG.
//
// ES modules are seen by a loader hook (in Node 20 the hooks run in their own thread, so that
// thread appends each one as it loads); CommonJS modules that `require` loads do not pass through
// the hooks, so require's cache is added when the process exits. Paths may repeat: read them
// through a Set. Used by bench/cli-start.ts and test/cli/start-up.test.ts.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

let logFile;

/** Hook thread: remembers where the log goes. */
export function initialize(data) {
  logFile = data.logFile;
}

/** Hook thread: logs each file module as it is loaded. */
export async function load(url, context, nextLoad) {
  if (logFile && url.startsWith('file:')) appendFileSync(logFile, `${fileURLToPath(url)}\n`);
  return nextLoad(url, context);
}

const target = process.env.DEPLOY_MODEL_MODULE_LOG;
if (isMainThread && target) {
  register(import.meta.url, { data: { logFile: target } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const files = Object.keys(cache).filter((f) => f.startsWith('/') || /^[A-Za-z]:\\/.test(f));
    if (files.length) appendFileSync(target, `${files.join('\n')}\n`);
  });
}
