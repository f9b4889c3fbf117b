// `deploy-model rollback` on the web target: host 'local' serves the release kept from before the last promote again behind the same URL; hosts 'aws' and published-by-hand refuse, saying what to do instead.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { findChromium } from '../../../src/targets/web/find-chromium.js';
import { Toolkit, type RollbackReport } from '../../../src/toolkit/toolkit.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';

// GIVEN y = x + bias models: A and B differ in bias[3], so y[3] for x = [1, 1, 1, 1] names the
// version that answered (5: A, 6: B), in the browser and in the reference the site serves
// (smoke-expected.json, onnxruntime-node's answer to the smoke input, computed at build).
const A = { bias: [1, 2, 3, 4], y3: 5 };
const B = { bias: [1, 2, 3, 5], y3: 6 };

const chromium = findChromium();
const missing = chromium ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';

let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
const load = () => toolkit.load({ cwd: dir });
const useModel = (bias: number[]) => writeFile(path.join(dir, 'model.onnx'), adder(bias));
const stateDir = () => path.join(dir, '.deploy-model/state');
const releases = () => readdir(path.join(stateDir(), 'adder-dev-site.releases')).then((names) => names.sort());

/** y[3] for x = [1, 1, 1, 1], run in the served page through the Toolkit (headless Chromium). */
async function pageAnswer(): Promise<number> {
  const call = await toolkit.invoke(await load(), 'site', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] });
  return (call.body as { outputs: Array<{ data: number[] }> }).outputs[0]!.data[3]!;
}

/** y[3] of the reference the site at `url` serves: which release answered, or the failure. */
async function servedAnswer(url: string): Promise<number | string> {
  try {
    const res = await fetch(new URL('smoke-expected.json', url));
    if (!res.ok) return `HTTP ${res.status}`;
    return ((await res.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data[3]!;
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-web-rollback-'));
  await useModel(A.bias);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: {
      site: { type: 'web' },
      cloud: { type: 'web', host: 'aws', region: 'eu-west-1' },
      pages: { type: 'web', host: 'netlify' },
    },
    smoke: { input: { x: [[1, 1, 1, 1]] } },
  };\n`);
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

afterAll(async () => {
  await toolkit.destroy(await load(), ['site']).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('web rollback on the hosts that keep no previous version', { timeout: 120_000 }, () => {
  it('host aws refuses with TARGET_ACTION_UNAVAILABLE, saying to deploy the earlier model or config again; no cloud is called', async () => {
    const [r] = await toolkit.rollback(await load(), ['cloud']);
    expect(r).toMatchObject({ name: 'cloud', type: 'web', status: 'failed', error: { code: 'TARGET_ACTION_UNAVAILABLE' } });
    expect(r!.error!.message).toContain("Target 'cloud' (web on S3 + CloudFront, stack adder-dev-cloud in eu-west-1) keeps no previous site to roll back to");
    expect(r!.error!.message).toContain('Deploy the earlier model or config again (`deploy-model deploy --target cloud`)');
  });

  it('a host published by hand refuses, saying to publish the earlier folder again', async () => {
    const [r] = await toolkit.rollback(await load(), ['pages']);
    expect(r).toMatchObject({ name: 'pages', status: 'failed', error: { code: 'TARGET_ACTION_UNAVAILABLE' } });
    expect(r!.error!.message).toContain(`Publish the earlier folder again: deploy the earlier model or config (\`deploy-model deploy --target pages\` smoke-tests it and writes it to ${path.join(dir, '.deploy-model/dev/pages')}/site), then publish that folder to netlify`);
  });
});

describe.skipIf(missing)(`web rollback on host local${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 300_000 }, () => {
  let url: string;
  let aVersion: string;
  let bVersion: string;

  it('with nothing deployed, rollback is NOT_DEPLOYED', async () => {
    const [r] = await toolkit.rollback(await load(), ['site']);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'NOT_DEPLOYED', message: expect.stringContaining('no local web server runs for it') } });
  });

  it('after a first deploy (model A) there is nothing to go back to: ROLLBACK_NO_PREVIOUS', async () => {
    const r = (await toolkit.deploy(await load(), ['site'])).targets[0]!;
    expect(r, JSON.stringify(r.error)).toMatchObject({ status: 'passed', promoted: true });
    url = r.endpoint!;
    aVersion = r.version!;
    expect(await pageAnswer()).toBe(A.y3);
    const [again] = await toolkit.rollback(await load(), ['site']);
    expect(again).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${aVersion} and it keeps no earlier version`) } });
    expect(await servedAnswer(url)).toBe(A.y3);
  });

  it('deploying model B keeps A\'s release (copied out of the build folder, which B\'s build overwrote) as the previous one', async () => {
    await useModel(B.bias);
    const r = (await toolkit.deploy(await load(), ['site'])).targets[0]!;
    expect(r, JSON.stringify(r.error)).toMatchObject({ status: 'passed', promoted: true, endpoint: url, previousVersion: aVersion });
    bVersion = r.version!;
    expect(bVersion).not.toBe(aVersion);
    expect(await pageAnswer()).toBe(B.y3);
    expect(await releases()).toEqual([aVersion, bVersion].sort());
    const kept = JSON.parse(await readFile(path.join(stateDir(), 'adder-dev-site.kept.json'), 'utf8')) as { current: { version: string }; previous: { version: string; outDir: string } };
    expect(kept).toMatchObject({ current: { version: bVersion }, previous: { version: aVersion, outDir: path.join(stateDir(), 'adder-dev-site.releases', aVersion) } });
    expect((await toolkit.status(await load(), ['site']))[0]).toMatchObject({ state: 'running', version: bVersion, details: { previousVersion: aVersion } });
  });

  it('a kept release whose page no longer runs is not swapped in: WEB_LOCAL_ROLLBACK_FAILED, and B keeps serving', async () => {
    // GIVEN A's model files moved away: its page loads but cannot run the model
    const modelDir = path.join(stateDir(), 'adder-dev-site.releases', aVersion, 'site/model');
    await rename(modelDir, `${modelDir}.moved`);
    try {
      const [r] = await toolkit.rollback(await load(), ['site']);
      expect(r).toMatchObject({ status: 'failed', error: { code: 'WEB_LOCAL_ROLLBACK_FAILED', message: expect.stringContaining(`version ${bVersion} keeps serving ${url}: The page `) } });
      expect(r!.error!.message).toContain('did not run the model');
    } finally {
      await rename(`${modelDir}.moved`, modelDir);
    }
    expect(await servedAnswer(url)).toBe(B.y3);
    expect((await toolkit.status(await load(), ['site']))[0]).toMatchObject({ version: bVersion, details: { previousVersion: aVersion } });
    expect((await toolkit.status(await load(), ['site']))[0]!.details).not.toHaveProperty('candidate');
  });

  it('rollback serves A again behind the same URL, B answering every request until A takes over; a second rollback is refused', async () => {
    // requests through the stable URL throughout the rollback: none may fail
    const answers: Array<number | string> = [];
    let sampling = true;
    const sampler = (async () => { while (sampling) { answers.push(await servedAnswer(url)); await new Promise((r) => setTimeout(r, 20)); } })();
    const from = host.messages.length;
    let back!: RollbackReport[];
    try {
      back = await toolkit.rollback(await load(), ['site']);
    } finally {
      sampling = false;
      await sampler;
    }
    // THEN
    expect(back[0], JSON.stringify(back[0]?.error)).toMatchObject({ name: 'site', type: 'web', status: 'rolled-back', from: bVersion, to: aVersion, endpoint: url, smoke: expect.objectContaining({ status: 'passed' }) });
    expect(back[0]!.smoke!.checks).toEqual(expect.arrayContaining([{ name: 'y matches onnxruntime-node', passed: true, message: expect.stringMatching(/^max \|Δ\| .* <= tolerance/) }]));
    const t0 = host.messages[from]!.time.getTime();
    console.info(`web local rollback: ${back[0]!.durationMs} ms; ${answers.length} requests during it; steps: ${host.messages.slice(from).map((m) => `${m.code} +${m.time.getTime() - t0} ms`).join(', ')}`);
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((x) => x !== A.y3 && x !== B.y3)).toEqual([]);
    // B until the swap, then A: never back and forth
    expect(answers.join(',')).toMatch(new RegExp(`^(${B.y3},)*(${A.y3},?)*$`));
    expect(await pageAnswer()).toBe(A.y3);
    // B's release goes; the serving record and the kept record name A alone
    expect(await releases()).toEqual([aVersion]);
    const status = (await toolkit.status(await load(), ['site']))[0]!;
    expect(status).toMatchObject({ state: 'running', endpoint: url, version: aVersion });
    expect(status.details).not.toHaveProperty('previousVersion');
    // WHEN rolled back again: nothing is kept to go to
    const [again] = await toolkit.rollback(await load(), ['site']);
    expect(again).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${aVersion}`) } });
    expect(await servedAnswer(url)).toBe(A.y3);
  });

  it('destroy removes the kept record with the releases', async () => {
    expect(await toolkit.destroy(await load(), ['site'])).toEqual([{ name: 'site', removed: true }]);
    expect(existsSync(path.join(stateDir(), 'adder-dev-site.kept.json'))).toBe(false);
    expect(existsSync(path.join(stateDir(), 'adder-dev-site.releases'))).toBe(false);
    const [r] = await toolkit.rollback(await load(), ['site']);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'NOT_DEPLOYED' } });
  });
});
