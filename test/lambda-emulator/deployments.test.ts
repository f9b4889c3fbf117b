import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findDeployment, listDeployments, renameDeployment, startDetached, stopDeployment,
  type DeploymentRecord, type DeploymentStatus, type DetachedSpec,
} from '../../src/lambda-emulator/deployments.js';
import { fixture, isAlive, tempDir } from './_support.js';
import { processGroupMembers } from '../_helpers/processes.js';

// Whatever a failing test leaves running is stopped at the end.
const startedKeys: Array<[string, string]> = [];
afterAll(async () => {
  for (const [stateDir, key] of startedKeys) await stopDeployment(stateDir, key);
});

async function start(spec: DetachedSpec, stateDir: string, key: string): Promise<DeploymentRecord> {
  startedKeys.push([stateDir, key]);
  return startDetached(spec, stateDir, key);
}

const echoSpec = (functionName: string): DetachedSpec => ({
  functionName, handler: 'index.handler', codeDir: fixture('echo'), memoryMb: 128, timeoutSeconds: 5,
});


function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('detached local deployments', () => {
  it('starts a daemon that outlives the call, finds it, serves requests, and stops it with its whole process group', async () => {
    // GIVEN a state folder
    const stateDir = await tempDir('dm-state-');

    // WHEN a function is started detached
    const record = await start(echoSpec('detached-echo'), stateDir, 'app-dev-local');

    // THEN it is recorded, and runs in its own process group
    expect(record).toMatchObject({ key: 'app-dev-local', functionName: 'detached-echo', url: `http://127.0.0.1:${record.port}`, logFile: path.join(stateDir, 'app-dev-local.log') });
    expect(JSON.parse(readFileSync(path.join(stateDir, 'app-dev-local.json'), 'utf8'))).toEqual(record);
    expect(isAlive(record.pid)).toBe(true);
    expect(await findDeployment(stateDir, 'app-dev-local')).toEqual(record);
    expect((await listDeployments(stateDir)).map((d) => [d.key, d.state])).toEqual([['app-dev-local', 'running']]);

    // AND its Function URL answers, from an execution environment inside that group
    const res = await fetch(`${record.url}/hello`);
    expect(res.status).toBe(200);
    const event = (await res.json()) as { event: { rawPath: string }; pid: number };
    expect(event.event.rawPath).toBe('/hello');
    const runtimePid = event.pid as number;
    expect(processGroupMembers(record.pid)).toEqual(expect.arrayContaining([record.pid, runtimePid]));
    expect(readFileSync(record.logFile, 'utf8')).toMatch(/START RequestId: /);

    // WHEN it is stopped
    expect(await stopDeployment(stateDir, 'app-dev-local')).toBe(true);

    // THEN the daemon, the runtime and the record are gone
    expect(() => process.kill(record.pid, 0)).toThrow();
    expect(() => process.kill(runtimePid, 0)).toThrow();
    expect(groupExists(record.pid)).toBe(false);
    expect(processGroupMembers(record.pid)).toEqual([]);
    expect(existsSync(path.join(stateDir, 'app-dev-local.json'))).toBe(false);
    expect(await findDeployment(stateDir, 'app-dev-local')).toBeUndefined();
    expect(await stopDeployment(stateDir, 'app-dev-local')).toBe(false);
  });

  it('replaces a deployment started again under the same key, and renames a promoted candidate', async () => {
    const stateDir = await tempDir('dm-state-');
    const first = await start(echoSpec('replace-me'), stateDir, 'svc.next');
    const second = await start(echoSpec('replace-me'), stateDir, 'svc.next');
    startedKeys.push([stateDir, 'svc']);
    try {
      expect(second.pid).not.toBe(first.pid);
      expect(isAlive(first.pid)).toBe(false);

      const renamed = await renameDeployment(stateDir, 'svc.next', 'svc');
      expect(renamed).toMatchObject({ key: 'svc', pid: second.pid, logFile: path.join(stateDir, 'svc.log') });
      expect(await findDeployment(stateDir, 'svc.next')).toBeUndefined();
      expect(await findDeployment(stateDir, 'svc')).toEqual(renamed);
      expect(existsSync(renamed.logFile)).toBe(true);
    } finally {
      await stopDeployment(stateDir, 'svc');
      await stopDeployment(stateDir, 'svc.next');
    }
    expect(isAlive(second.pid)).toBe(false);
  });

  it('reports and cleans a stale record whose process is gone', async () => {
    // GIVEN a record left behind by a process that no longer exists
    const stateDir = await tempDir('dm-state-');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    const stale: DeploymentRecord = {
      key: 'old', pid: deadPid, url: 'http://127.0.0.1:9', port: 9, startedAt: new Date(0).toISOString(),
      functionName: 'old', logFile: path.join(stateDir, 'old.log'), spec: echoSpec('old'),
    };
    await writeFile(path.join(stateDir, 'old.json'), JSON.stringify(stale));

    // WHEN it is looked up
    const reported: DeploymentStatus[] = [];
    const found = await findDeployment(stateDir, 'old', { onStale: (s) => reported.push(s) });

    // THEN it is not running, is reported stale with the reason, and its record is removed
    expect(found).toBeUndefined();
    expect(reported).toEqual([expect.objectContaining({ key: 'old', state: 'stale', staleReason: `process ${deadPid} is gone` })]);
    expect(existsSync(path.join(stateDir, 'old.json'))).toBe(false);
  });

  it('surfaces a start failure with the error and the tail of the log, leaving no record', async () => {
    const stateDir = await tempDir('dm-state-');
    const spec = { ...echoSpec('broken'), codeDir: path.join(stateDir, 'no-such-code') };
    const failure = await startDetached(spec, stateDir, 'broken').catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'LOCAL_DEPLOYMENT_FAILED' });
    const message = (failure as Error).message;
    expect(message).toContain('no-such-code does not exist');
    expect(message).toContain('deploy-model local daemon');
    expect(existsSync(path.join(stateDir, 'broken.json'))).toBe(false);
  });
});
