/**
 * Runs a piece of work with the world fenced off: every file write outside the allowed folders,
 * every outgoing connection, DNS lookup and child process is refused (and recorded), through the
 * same `node:fs`, `node:net` and `node:child_process` functions the code under test imports.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as net from 'node:net';
import path from 'node:path';

const require = createRequire(import.meta.url);

export interface WorldGuardOptions {
  /** Folders the work may write under. @default - none */
  writableDirs?: readonly string[];
}

export interface Touches {
  writes: string[];
  connections: string[];
  lookups: string[];
  spawns: string[];
}

export class WorldTouched extends Error {}

const WRITERS = ['writeFile', 'appendFile', 'mkdir', 'rename', 'rm', 'rmdir', 'unlink', 'copyFile', 'cp', 'symlink', 'truncate', 'mkdtemp'] as const;
const SPAWNERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

/** Runs `work` with the world fenced off and returns what it tried to touch (each attempt also threw). */
export async function withoutTheWorld<T>(work: () => Promise<T> | T, options: WorldGuardOptions = {}): Promise<{ result?: T; error?: unknown; touches: Touches }> {
  const touches: Touches = { writes: [], connections: [], lookups: [], spawns: [] };
  const writable = (options.writableDirs ?? []).map((d) => path.resolve(d) + path.sep);
  const mayWrite = (p: unknown) => typeof p === 'string' && writable.some((d) => path.resolve(p).startsWith(d));
  const restores: Array<() => void> = [];
  const patch = <O extends object>(owner: O, key: string, replacement: (original: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown) => {
    const o = owner as Record<string, unknown>;
    const original = o[key] as (...a: unknown[]) => unknown;
    if (typeof original !== 'function') return;
    o[key] = replacement(original);
    restores.push(() => { o[key] = original; });
  };

  const fsCjs = require('node:fs') as Record<string, unknown>;
  const fspCjs = require('node:fs/promises') as Record<string, unknown>;
  for (const name of WRITERS) {
    for (const [owner, fn] of [[fsCjs, name], [fsCjs, `${name}Sync`], [fspCjs, name]] as const) {
      patch(owner, fn, (original) => function guarded(this: unknown, ...args: unknown[]) {
        if (mayWrite(args[0])) return original.apply(this, args);
        touches.writes.push(`${fn} ${String(args[0])}`);
        throw new WorldTouched(`${fn}(${String(args[0])}) outside the writable folders`);
      });
    }
  }
  // Streams opened for writing.
  patch(fsCjs, 'createWriteStream', (original) => function guarded(this: unknown, ...args: unknown[]) {
    if (mayWrite(args[0])) return original.apply(this, args);
    touches.writes.push(`createWriteStream ${String(args[0])}`);
    throw new WorldTouched(`createWriteStream(${String(args[0])}) outside the writable folders`);
  });
  const socketConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(...args: unknown[]) {
    const where = typeof args[0] === 'object' && args[0] ? JSON.stringify(args[0]) : String(args[0]);
    touches.connections.push(where);
    throw new WorldTouched(`connect(${where})`);
  } as typeof socketConnect;
  restores.push(() => { net.Socket.prototype.connect = socketConnect; });
  patch(require('node:dns') as object, 'lookup', () => (...args: unknown[]) => {
    touches.lookups.push(String(args[0]));
    throw new WorldTouched(`dns.lookup(${String(args[0])})`);
  });
  const cp = require('node:child_process') as Record<string, unknown>;
  for (const name of SPAWNERS) {
    patch(cp, name, () => (...args: unknown[]) => {
      touches.spawns.push(`${name} ${String(args[0])}`);
      throw new WorldTouched(`child_process.${name}(${String(args[0])})`);
    });
  }
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: unknown) => {
    touches.connections.push(`fetch ${String(input)}`);
    throw new WorldTouched(`fetch(${String(input)})`);
  }) as typeof fetch;
  restores.push(() => { globalThis.fetch = realFetch; });
  // ESM named imports (`import { writeFile } from 'node:fs/promises'`) see the patched functions.
  syncBuiltinESMExports();
  try {
    return { result: await work(), touches };
  } catch (error) {
    return { error, touches };
  } finally {
    for (const restore of restores.reverse()) restore();
    syncBuiltinESMExports();
  }
}
