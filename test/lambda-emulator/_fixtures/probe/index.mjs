// Reports what a function finds around it: its Node, the awslambda global, whether HOME can be
// written, its heap flags, and its environment.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';

export const handler = async () => {
  let homeWrite = 'ok';
  try {
    mkdirSync(path.join(os.homedir(), '.cache', 'probe'), { recursive: true });
  } catch (e) {
    homeWrite = e.code;
  }
  return {
    node: process.version,
    execPath: process.execPath,
    execArgv: process.execArgv,
    heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 1048576),
    awslambda: Object.keys(globalThis.awslambda ?? {}).sort(),
    httpResponseStream: typeof globalThis.awslambda?.HttpResponseStream?.from,
    homedir: os.homedir(),
    tmpdir: os.tmpdir(),
    homeWrite,
    env: { ...process.env },
  };
};
