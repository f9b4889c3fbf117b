import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, GetTemplateCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import type { TargetChange } from '../../../src/targets/driver.js';
import { Toolkit, type DiffReport } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes, type TinyModelKind } from '../../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake, type RecordedCall } from '../../emulators/aws/index.js';

// GIVEN a project with the tiny `add` model and an aws-lambda target, and the AWS fake: the real
// toolkit-lib computes CloudFormation's diff (a change set, created, read and deleted) against it.
// Deploys run the functions with the project's local executor, so the smoke tests pass.

const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;

async function writeProject(model: TinyModelKind): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(model));
}

async function diff(): Promise<Extract<DiffReport, { supported: true }>> {
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
  const [report] = await toolkit.diff(await toolkit.load({ cwd: dir }));
  expect(report).toMatchObject({ name: 'lambda', type: 'aws-lambda', supported: true });
  return report as Extract<DiffReport, { supported: true }>;
}

async function callsDuring<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const from = fake.calls.length;
  const result = await work();
  return { result, calls: fake.calls.slice(from).map((c: RecordedCall) => `${c.service}:${c.action}`) };
}

const byType = (changes: TargetChange[], type: string) => changes.filter((c) => c.detail.startsWith(`${type}:`));
const liveStack = () => [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted);

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-diff-'));
  await writeProject('add');
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}' } },
    // A cold start on a busy machine may take seconds; the latency check is not what this file tests.
    smoke: { requests: 1, maxLatencyMs: 60000 },
  };\n`);
});

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  restoreEnv?.();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-lambda diff against the AWS fake', { timeout: 120_000 }, () => {
  it('with nothing deployed, every resource is created, and the diff leaves no stack behind', async () => {
    // WHEN
    const { result: d, calls } = await callsDuring(diff);
    // THEN
    expect(d.unchanged).toBe(false);
    expect(d.changes.every((c) => c.action === 'create' && !c.disruptive)).toBe(true);
    expect(d.changes.map((c) => c.detail.split(': ')[0]).sort()).toEqual([
      'AWS::IAM::Role', 'AWS::Lambda::Alias', 'AWS::Lambda::Function', 'AWS::Lambda::LayerVersion', 'AWS::Lambda::Url', 'AWS::Lambda::Version', 'AWS::Logs::LogGroup',
    ]);
    expect(d.text).toMatch(/\[\+\] AWS::Lambda::Function Model\/Function/);
    expect(calls).not.toContain('cloudformation:CreateChangeSet');
    expect(liveStack()).toBeUndefined();
    expect(host.codes()).toContain('DM_AWS_STACK_DIFF');
  });

  it('after a deploy, the same project is unchanged: the change set CloudFormation computes is empty and deleted', async () => {
    // GIVEN
    const deployer = new Toolkit({ cacheDir: path.join(dir, '.cache') });
    const deployed = (await deployer.deploy(await deployer.load({ cwd: dir }))).targets[0]!;
    expect(deployed, JSON.stringify(deployed.error ?? deployed.checks)).toMatchObject({ status: 'passed', promoted: true, version: '1' });
    // WHEN
    const { result: d, calls } = await callsDuring(diff);
    // THEN
    expect(d).toMatchObject({ unchanged: true, changes: [] });
    expect(d.text).toContain('There were no differences');
    expect(calls).toEqual(expect.arrayContaining(['cloudformation:CreateChangeSet', 'cloudformation:DeleteChangeSet']));
    expect(calls).not.toContain('cloudformation:ExecuteChangeSet');
    expect([...liveStack()!.changeSets.values()].map((c) => c.name).filter((n) => n.startsWith('cdk-diff'))).toEqual([]);
  });

  it('a changed model updates the function, publishes a version and moves the alias; the old version is kept; nothing that serves is replaced', async () => {
    // GIVEN y = relu(x)
    await writeProject('unnamed-dim');
    const before = liveStack()!.status;
    // WHEN
    const { result: d, calls } = await callsDuring(diff);
    // THEN
    expect(d.unchanged).toBe(false);
    expect(byType(d.changes, 'AWS::Lambda::Function')).toEqual([expect.objectContaining({ action: 'update', detail: 'AWS::Lambda::Function: updated in place (Code)' })]);
    expect(byType(d.changes, 'AWS::Lambda::Version').map((c) => [c.action, c.detail])).toEqual(expect.arrayContaining([
      ['create', 'AWS::Lambda::Version: created'],
      ['delete', 'AWS::Lambda::Version: removed from the stack and kept in the account (DeletionPolicy: Retain)'],
    ]));
    expect(byType(d.changes, 'AWS::Lambda::Alias')).toEqual([expect.objectContaining({
      action: 'update', detail: 'AWS::Lambda::Alias: the live alias moves from version 1 to the new version once it passes its smoke test (a second stack update)',
    })]);
    expect(d.changes.filter((c) => c.disruptive)).toEqual([]);
    expect(d.text).toMatch(/\[~\] AWS::Lambda::Function Model\/Function/);
    // The diff changed nothing.
    expect(calls).not.toContain('cloudformation:ExecuteChangeSet');
    expect(liveStack()!.status).toBe(before);
  });

  it('a deployed Function URL on the function itself (not the alias) is replaced: disruptive', async () => {
    // GIVEN the deployed stack's URL on the unqualified function, as an older layout would have it
    const cfn = new CloudFormationClient({ region: REGION });
    try {
      const template = JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: STACK }))).TemplateBody!) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const [fnId] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')!;
      const [urlId, url] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Url')!;
      delete url.Properties.Qualifier;
      url.Properties.TargetFunctionArn = { 'Fn::GetAtt': [fnId, 'Arn'] };
      await cfn.send(new UpdateStackCommand({
        StackName: STACK, TemplateBody: JSON.stringify(template), Capabilities: ['CAPABILITY_IAM'],
        Parameters: [{ ParameterKey: 'BootstrapVersion', UsePreviousValue: true }],
      }));
      await fake.idle();
      expect(liveStack()!.status).toBe('UPDATE_COMPLETE');

      // WHEN
      const d = await diff();

      // THEN the URL is replaced, which takes it down; the rest is the model change of the test above
      expect(d.changes.filter((c) => c.disruptive)).toEqual([{ resource: urlId, action: 'replace', detail: expect.stringMatching(/^AWS::Lambda::Url: replaced because .*(Qualifier|TargetFunctionArn)/), disruptive: true }]);
      expect(d.text).toMatch(/AWS::Lambda::Url .* (replace|may be replaced)/);
    } finally {
      cfn.destroy();
    }
  });
});
