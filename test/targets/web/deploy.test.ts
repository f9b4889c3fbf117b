import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { findChromium } from '../../../src/targets/web/find-chromium.js';
import type { WebPlan } from '../../../src/targets/web/plan.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';

// GIVEN a project with the tiny `add` model (y = x + [1, 2, 3, 4]) and web targets on three kinds
// of host, driven through the programmatic Toolkit. Deploys smoke-test the page in headless
// Chromium (Debian's `chromium`; CI installs it): without it the deploy tests are skipped, saying so.

const chromium = findChromium();
const missing = chromium ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';

let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
const load = () => toolkit.load({ cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-web-toolkit-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: {
      site: { type: 'web' },
      pages: { type: 'web', host: 'netlify', threads: 2 },
      big: { type: 'web', warnModelMb: 0.0001 },
      gh: { type: 'web', host: 'github-pages', threads: 4 },
    },
    smoke: { requests: 2, input: { x: [[-1, 2, -3, 4]] } },
  };\n`);
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

afterAll(async () => {
  await toolkit.destroy(await load(), ['site']).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('web targets: what is refused or warned about before anything is built', () => {
  it('refuses threads on a host that cannot set headers, naming the value, the rule and the fix', async () => {
    const problems = await toolkit.validate(await load(), ['gh']);
    expect(problems).toEqual([{
      path: 'targets.gh.threads', value: '4',
      rule: 'threads need a cross-origin isolated page (Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), and github-pages cannot set response headers',
      fix: "set targets.gh.threads to 1, or host the bundle where headers can be set (host: 'aws', 'netlify', 'cloudflare-pages', 'vercel' or 'nginx')",
    }]);
    await expect(toolkit.deploy(await load(), ['gh'])).rejects.toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining('targets.gh.threads') });
  });

  it('warns at build that a model over warnModelMb may not fit a browser tab, and builds it', async () => {
    const built = (await toolkit.build(await load(), ['big'])).big!;
    expect(built.artifacts.map((a) => a.kind)).toEqual(expect.arrayContaining(['site/index.html', 'site/ort/1.30.0/ort-wasm-simd-threaded.wasm', 'client.ts']));
    const warning = host.messages.find((m) => m.code === 'DM_WEB_MODEL_LARGE');
    expect(warning).toMatchObject({ level: 'warn', target: 'big', data: { code: 'WEB_MODEL_LARGE', path: 'targets.big.warnModelMb' } });
    expect(warning!.message).toMatch(/^big: targets\.big\.warnModelMb: 0\.0 MB: the model is over 0\.0001 MB: every visitor downloads it/);
  });

  it('plans the AWS stack without a deploy, and synth writes it nag-clean with no credentials', async () => {
    await writeFile(path.join(dir, 'aws.config.mjs'), (await readFile(path.join(dir, 'deploy-model.config.mjs'), 'utf8'))
      .replace("site: { type: 'web' },", "site: { type: 'web', host: 'aws', region: 'eu-west-1', threads: 2 },"));
    const project = await toolkit.load({ cwd: dir, configFile: path.join(dir, 'aws.config.mjs') });
    const plan = (await toolkit.plan(project, ['site'])).site as WebPlan;
    expect(plan.aws).toEqual({ stackName: 'adder-dev-site', region: 'eu-west-1', priceClass: 'PriceClass_100' });
    const synth = (await toolkit.synth(project, ['site'])).site!;
    expect(synth.artifacts).toEqual([expect.objectContaining({ kind: 'CloudFormation template (adder-dev-site)', file: path.join(dir, 'cdk.out/adder-dev-site/adder-dev-site.template.json') })]);
    const template = JSON.parse(await readFile(synth.artifacts[0]!.file, 'utf8')) as { Resources: Record<string, { Type: string; Properties: any }> };
    const policy = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudFront::ResponseHeadersPolicy')!;
    expect(policy.Properties.ResponseHeadersPolicyConfig.CustomHeadersConfig.Items.map((h: { Header: string }) => h.Header)).toEqual(['Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy']);
  });
});

describe.skipIf(missing)(`a web target on host local, deployed through the Toolkit${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let endpoint: string;

  it('deploys: the page runs in headless Chromium, its outputs match onnxruntime-node\'s, then it serves', async () => {
    const r = (await toolkit.deploy(await load(), ['site'])).targets[0]!;
    expect(r, JSON.stringify(r.error)).toMatchObject({ name: 'site', type: 'web', status: 'passed', promoted: true });
    expect(r.checks).toEqual(expect.arrayContaining([{ name: 'y matches onnxruntime-node', passed: true, message: 'max |Δ| 0.00e+0 <= tolerance 0.0001' }]));
    expect(r.details).toMatchObject({ page: { backend: 'wasm', threads: 1, crossOriginIsolated: false }, sizes: { ortRawBytes: expect.any(Number) } });
    endpoint = r.endpoint!;
    const codes = host.codes();
    expect(codes.lastIndexOf('DM_WEB_PAGE_RAN')).toBeLessThan(codes.lastIndexOf('DM_SMOKE_DONE'));
    expect(codes.lastIndexOf('DM_SMOKE_DONE')).toBeLessThan(codes.lastIndexOf('DM_WEB_LOCAL_LIVE'));
    // Served without isolation headers: one thread needs none.
    expect((await fetch(endpoint)).headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('invoke runs one request in the page', async () => {
    const call = await toolkit.invoke(await load(), 'site', { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [0, 0, 0, 0, 1, 1, 1, 1] }] });
    expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 2, 3, 4, 5] }] } });
  });

  it('the smoke test fails when the outputs differ from the reference the site serves (smoke-expected.json)', async () => {
    // GIVEN the served reference altered: onnxruntime-node "said" y[0] = 0.5 instead of 0
    const [release] = await readdir(path.join(dir, '.deploy-model/state/adder-dev-site.releases'));
    const expected = path.join(dir, '.deploy-model/state/adder-dev-site.releases', release!, 'site/smoke-expected.json');
    const original = await readFile(expected, 'utf8');
    const altered = JSON.parse(original) as { outputs: Array<{ data: number[] }> };
    altered.outputs[0]!.data[0] = 0.5;
    await writeFile(expected, JSON.stringify(altered));
    try {
      const r = (await toolkit.smoke(await load(), ['site'])).targets[0]!;
      expect(r.status).toBe('failed');
      expect(r.checks.filter((c) => !c.passed)).toEqual([{ name: 'y matches onnxruntime-node', passed: false, message: 'max |Δ| 5.00e-1 > tolerance 0.0001' }]);
    } finally {
      await writeFile(expected, original);
    }
    expect((await toolkit.smoke(await load(), ['site'])).targets[0]!.status).toBe('passed');
  });

  it('diff compares the served version with this build', async () => {
    const [diff] = await toolkit.diff(await load(), ['site']);
    expect(diff).toMatchObject({ name: 'site', supported: true, unchanged: true, changes: [] });
  });

  it('destroy stops the server and removes the releases; a second destroy finds nothing', async () => {
    expect(await toolkit.destroy(await load(), ['site'])).toEqual([{ name: 'site', removed: true }]);
    expect(existsSync(path.join(dir, '.deploy-model/state/adder-dev-site.releases'))).toBe(false);
    expect(await toolkit.destroy(await load(), ['site'])).toEqual([{ name: 'site', removed: false }]);
    await expect(fetch(endpoint)).rejects.toThrow();
    expect((await toolkit.status(await load(), ['site']))[0]).toMatchObject({ state: 'not-deployed' });
  });

  it('on a host published by hand, deploy smoke-tests the bundle on 127.0.0.1 with that host\'s headers and says what to publish', async () => {
    const r = (await toolkit.deploy(await load(), ['pages'])).targets[0]!;
    expect(r, JSON.stringify(r.error)).toMatchObject({ name: 'pages', status: 'passed', promoted: true, endpoint: path.join(dir, '.deploy-model/dev/pages/site') });
    expect(r.details).toMatchObject({ publishTo: 'netlify', page: { threads: 2, crossOriginIsolated: true } });
    expect(await readFile(path.join(dir, '.deploy-model/dev/pages/site/_headers'), 'utf8')).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(host.messages.find((m) => m.code === 'DM_WEB_PUBLISH')!.message).toContain('publish');
    await expect(toolkit.connect(await load(), 'pages')).rejects.toMatchObject({ code: 'TARGET_ACTION_UNAVAILABLE' });
    expect((await toolkit.status(await load(), ['pages']))[0]).toMatchObject({ state: 'unknown', details: { host: 'netlify' } });
  });
});
