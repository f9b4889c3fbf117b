import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupCandidates, createMemoryLimit } from '../../src/lambda-emulator/_memory-limit.js';
import { tempDir } from './_support.js';

const mountLine = (id: number, root: string, at: string, type: string, options: string) => `${id} 31 0:${id} ${root} ${at} rw,relatime - ${type} ${type === 'cgroup2' ? 'cgroup2' : 'cgroup'} ${options}`;

describe('cgroupCandidates', () => {
  it('puts the child in the cgroup v2 root when this process sits there, and beside its own cgroup otherwise', () => {
    const mounts = mountLine(41, '/', '/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate');
    expect(cgroupCandidates({ selfCgroup: '0::/\n', mountInfo: mounts })).toEqual([{ version: 2, parent: '/sys/fs/cgroup' }]);
    expect(cgroupCandidates({ selfCgroup: '0::/user.slice/user-1000.slice/session-2.scope\n', mountInfo: mounts }))
      .toEqual([{ version: 2, parent: '/sys/fs/cgroup/user.slice/user-1000.slice' }]);
  });

  it('falls back to a cgroup v1 memory hierarchy under this process\'s own cgroup (hybrid hosts)', () => {
    const mounts = [
      mountLine(35, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
      mountLine(41, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
    ].join('\n');
    const self = '4:memory:/process_api/abc\n1:cpu:/\n0::/\n';
    expect(cgroupCandidates({ selfCgroup: self, mountInfo: mounts })).toEqual([
      { version: 2, parent: '/sys/fs/cgroup/unified' },
      { version: 1, parent: '/sys/fs/cgroup/memory/process_api/abc' },
    ]);
  });
});

describe('createMemoryLimit', () => {
  it('makes a cgroup v2 child with memory.max and no swap, and starts the runtime inside it', async () => {
    // GIVEN a cgroup v2 root (a folder standing in for cgroupfs) with the memory controller available
    const root = path.join(await tempDir(), 'cgroup');
    mkdirSync(root);
    writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
    const host = { selfCgroup: '0::/\n', mountInfo: mountLine(41, '/', root, 'cgroup2', 'rw') };

    // WHEN a 256 MB limit is made
    const limit = createMemoryLimit(256, 'my-fn', host);

    // THEN the memory controller is enabled for children and a child cgroup holds the limit
    expect(limit.enforcement).toBe('cgroup-v2');
    expect(readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+memory');
    const { args } = limit.wrap('/usr/bin/node', ['bootstrap.mjs']);
    const procs = args[2];
    const dir = path.dirname(procs);
    expect(path.basename(dir)).toMatch(/^deploy-model-my-fn-[0-9a-f]{8}$/);
    expect(readFileSync(path.join(dir, 'memory.max'), 'utf8')).toBe(String(256 * 1024 * 1024));
    // AND the runtime joins it before it runs: the shell writes its pid, then execs node
    expect(limit.wrap('/usr/bin/node', ['bootstrap.mjs'])).toEqual({
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0" && exec "$@"', path.join(dir, 'cgroup.procs'), '/usr/bin/node', 'bootstrap.mjs'],
    });
    // AND the kernel's peak and OOM kills are read back
    writeFileSync(path.join(dir, 'memory.peak'), String(300 * 1024 * 1024));
    writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n');
    expect(limit.peakMb(undefined)).toBe(300);
    expect(limit.outOfMemory(undefined)).toBe(true);
    limit.release();
  });

  it('falls back to sampling the peak resident memory, and kills a process above the limit', async () => {
    // GIVEN a host where no cgroup can be made
    const limit = createMemoryLimit(128, 'sampled', { selfCgroup: '', mountInfo: '' });
    expect(limit.enforcement).toBe('measured');

    // WHEN a process that grows past 128 MB is watched
    const child = spawn(process.execPath, ['-e', 'const b = []; setInterval(() => { const x = Buffer.allocUnsafeSlow(16 << 20); x.fill(1); b.push(x); }, 20)'], { stdio: 'ignore' });
    let exceeded = false;
    limit.watch(child.pid, () => { exceeded = true; child.kill('SIGKILL'); });
    const [, signal] = await once(child, 'exit') as [number | null, string | null];

    // THEN it is killed, and its peak is known
    expect(exceeded).toBe(true);
    expect(signal).toBe('SIGKILL');
    expect(limit.outOfMemory(child.pid)).toBe(true);
    expect(limit.peakMb(child.pid)).toBeGreaterThan(128);
    limit.release();
  });
});
