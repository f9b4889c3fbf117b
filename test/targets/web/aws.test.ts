import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { findChromium } from '../../../src/targets/web/find-chromium.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';
import { encodeModel, floatBytes, nodeProto, onnx, tensorInfo } from '../../_helpers/onnx-models.js';

// GIVEN a web target on host 'aws', deployed through the Toolkit to the AWS fake (STS, SSM, S3,
// CloudFormation on 127.0.0.1) with the real toolkit-lib and SDK clients.
//
// What the fake cannot do, and so what this does not cover: the fake has no CloudFront and does
// not run BucketDeployment's custom resource, so no site is served from the stack and the browser
// smoke test cannot pass here. The distribution is given a domain on a closed loopback port, so
// every smoke test fails fast (the page does not load), which drives the failure paths for real:
// a first deploy's site is kept (as a first Lambda version is), a later version is taken back by
// deploying the previous template again, and status, smoke, destroy read the stack itself. The
// templates themselves are checked by cdk-nag and cfn-lint (test/infra/web-static-site.test.ts).

const chromium = findChromium();
const missing = chromium ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';
const REGION = 'us-east-1';
const STACK = 'adder-dev-site';

function adder(bias: number[]): Uint8Array {
  const T = onnx.TensorProto.DataType;
  return encodeModel({
    nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [{ name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes(bias) }],
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let fake: AwsFake;
let restoreEnv: () => void;
let savedPoll: string | undefined;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
let domain: string;
const load = () => toolkit.load({ cwd: dir });

async function writeModel(bias: number[]): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), adder(bias));
}

async function deployedTemplate(): Promise<{ Outputs: Record<string, { Value: unknown }> }> {
  const cfn = new CloudFormationClient({ region: REGION });
  try {
    return JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: STACK }))).TemplateBody!) as { Outputs: Record<string, { Value: unknown }> };
  } finally {
    cfn.destroy();
  }
}

beforeAll(async () => {
  domain = `127.0.0.1:${await closedPort()}`;
  fake = await startAwsFake({
    region: REGION,
    provisioners: {
      // The one attribute the stack's outputs read of the distribution: where the site would be.
      'AWS::CloudFront::Distribution': { async create() { return { physicalId: 'E2EXAMPLE0DIST', attributes: { DomainName: domain } }; } },
    },
  });
  restoreEnv = fake.applyEnv();
  savedPoll = process.env.DEPLOY_MODEL_STACK_POLL_MS;
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  fake.bootstrap();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-web-aws-'));
  await writeModel([1, 2, 3, 4]);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { site: { type: 'web', host: 'aws', region: '${REGION}', threads: 2 } },
    smoke: { requests: 2 },
  };\n`);
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  if (savedPoll === undefined) delete process.env.DEPLOY_MODEL_STACK_POLL_MS; else process.env.DEPLOY_MODEL_STACK_POLL_MS = savedPoll;
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(missing)(`a web target on AWS, through the AWS fake${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 240_000 }, () => {
  let v1: string;

  it('a first deploy creates the stack through toolkit-lib; its failed smoke test keeps the site, as there is nothing to go back to', async () => {
    const r = (await toolkit.deploy(await load())).targets[0]!;
    expect(r, JSON.stringify(r.error)).toMatchObject({ name: 'site', type: 'web', status: 'failed', promoted: true, endpoint: `https://${domain}/`, details: { failedVersionServes: true, stackName: STACK } });
    v1 = r.version!;
    expect(v1).toMatch(/^[0-9a-f]{12}$/);
    // The browser could not load the page: the smoke test says why.
    expect(r.checks[0]).toMatchObject({ name: 'status', passed: false, message: expect.stringMatching(/^HTTP 503: WEB_PAGE_FAILED The page https:\/\/127\.0\.0\.1:\d+\/ did not run the model/) });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AWS_STACK_DEPLOYED', 'DM_WEB_PAGE_FAILED', 'DM_WEB_FIRST_DEPLOY_SMOKE_FAILED']));
    const calls = fake.calls.map((c) => `${c.service}:${c.action}`);
    expect(calls).toEqual(expect.arrayContaining(['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet', 's3:PutObject']));
    expect(fake.internalErrors).toEqual([]);
  });

  it('status reads the stack: the site, its version and its bucket', async () => {
    const [status] = await toolkit.status(await load());
    expect(status).toMatchObject({ name: 'site', type: 'web', state: 'running', endpoint: `https://${domain}/`, version: v1, details: { stackName: STACK, stackStatus: 'CREATE_COMPLETE', distributionId: 'E2EXAMPLE0DIST' } });
  });

  it('a new version that fails its smoke test is taken back: the previous template is deployed again', async () => {
    // GIVEN another model
    await writeModel([10, 20, 30, 40]);
    const r = (await toolkit.deploy(await load())).targets[0]!;
    await writeModel([1, 2, 3, 4]);
    // THEN it was deployed, failed, and the stack is back on the first version
    expect(r).toMatchObject({ status: 'failed', promoted: false, previousVersion: v1, details: { restoredVersion: v1 } });
    expect(r.version).not.toBe(v1);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AWS_STACK_RESTORE', 'DM_AWS_STACK_RESTORED', 'DM_WEB_AWS_RESTORED']));
    expect((await deployedTemplate()).Outputs.SiteVersion!.Value).toBe(v1);
    expect((await toolkit.status(await load()))[0]).toMatchObject({ state: 'running', version: v1, details: { stackStatus: 'UPDATE_COMPLETE' } });
    expect(fake.internalErrors).toEqual([]);
  });

  it('smoke opens the deployed URL in Chromium and reports the page that did not load', async () => {
    const r = (await toolkit.smoke(await load())).targets[0]!;
    expect(r).toMatchObject({ status: 'failed', endpoint: `https://${domain}/`, version: v1 });
    expect(r.checks[0]!.message).toContain('WEB_PAGE_FAILED');
  });

  it('destroy deletes the stack; a second destroy finds nothing', async () => {
    expect(await toolkit.destroy(await load())).toEqual([{ name: 'site', removed: true }]);
    expect(await toolkit.destroy(await load())).toEqual([{ name: 'site', removed: false }]);
    expect((await toolkit.status(await load()))[0]).toMatchObject({ state: 'not-deployed' });
    await expect(toolkit.connect(await load(), 'site')).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
  });
});
