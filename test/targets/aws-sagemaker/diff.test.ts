import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, GetTemplateCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import type { TargetChange } from '../../../src/targets/driver.js';
import { Toolkit, type DiffReport } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes, type TinyModelKind } from '../../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake, type RecordedCall } from '../../emulators/aws/index.js';
import { sageMakerFake, type SageMakerFake } from '../../emulators/aws/sagemaker.js';

// GIVEN a project with the tiny `add` model and an aws-sagemaker target, and the AWS fake with its
// SageMaker service: the real toolkit-lib computes CloudFormation's diff (a change set, created,
// read and deleted) against it.

const REGION = 'us-east-1';
const STACK = 'adder-dev-sagemaker';

let fake: AwsFake;
let sm: SageMakerFake;
let restoreEnv: () => void;
let dir: string;

async function writeModel(model: TinyModelKind): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(model));
}

async function diff(): Promise<Extract<DiffReport, { supported: true }>> {
  const toolkit = new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });
  const [report] = await toolkit.diff(await toolkit.load({ cwd: dir }));
  expect(report).toMatchObject({ name: 'sagemaker', type: 'aws-sagemaker', supported: true });
  return report as Extract<DiffReport, { supported: true }>;
}

async function callsDuring<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const from = fake.calls.length;
  const result = await work();
  return { result, calls: fake.calls.slice(from).map((c: RecordedCall) => `${c.service}:${c.action}`) };
}

const typeOf = (c: TargetChange) => c.detail.split(': ')[0];
const liveStack = () => [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted);

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  restoreEnv = fake.applyEnv();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-diff-'));
  await writeModel('add');
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge' } },
    smoke: { requests: 1, maxLatencyMs: 60000 },
  };\n`);
});

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  restoreEnv?.();
  await sm?.close();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-sagemaker diff against the AWS fake', { timeout: 120_000 }, () => {
  it('with nothing deployed, every resource is created', async () => {
    const { result: d, calls } = await callsDuring(diff);
    expect(d.unchanged).toBe(false);
    expect(d.changes.every((c) => c.action === 'create' && !c.disruptive)).toBe(true);
    expect(d.changes.map(typeOf)).toEqual(expect.arrayContaining(['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint', 'AWS::IAM::Role', 'AWS::Logs::LogGroup']));
    expect(d.text).toMatch(/\[\+\] AWS::SageMaker::Endpoint Endpoint\/Endpoint/);
    expect(calls).not.toContain('cloudformation:CreateChangeSet');
    expect(liveStack()).toBeUndefined();
  });

  it('after a deploy, the same project is unchanged', async () => {
    // GIVEN
    const deployer = new Toolkit({ cacheDir: path.join(dir, '.cache') });
    const deployed = (await deployer.deploy(await deployer.load({ cwd: dir }))).targets[0]!;
    expect(deployed, JSON.stringify(deployed.error ?? deployed.checks)).toMatchObject({ status: 'passed', promoted: true });
    // WHEN
    const { result: d, calls } = await callsDuring(diff);
    // THEN
    expect(d).toMatchObject({ unchanged: true, changes: [] });
    expect(calls).toEqual(expect.arrayContaining(['cloudformation:CreateChangeSet', 'cloudformation:DeleteChangeSet']));
    expect(calls).not.toContain('cloudformation:ExecuteChangeSet');
  });

  it('a changed model replaces the Model and the EndpointConfig and updates the Endpoint, blue/green: nothing that serves goes away', async () => {
    // GIVEN y = relu(x)
    await writeModel('unnamed-dim');
    const serving = sm.endpoints.get(STACK)!.configName;
    // WHEN
    const { result: d, calls } = await callsDuring(diff);
    // THEN
    const of = (type: string) => d.changes.filter((c) => typeOf(c) === type);
    expect(of('AWS::SageMaker::Model')).toEqual([expect.objectContaining({ action: 'replace', detail: expect.stringMatching(/^AWS::SageMaker::Model: replaced because PrimaryContainer changes/) })]);
    // CloudFormation learns the new model's name during the update: the config may be replaced, and the old one is kept.
    expect(of('AWS::SageMaker::EndpointConfig')).toEqual([expect.objectContaining({ action: 'replace', detail: expect.stringContaining('the old one is kept (UpdateReplacePolicy: Retain)') })]);
    expect(of('AWS::SageMaker::Endpoint')).toEqual([expect.objectContaining({ action: 'update', detail: 'AWS::SageMaker::Endpoint: updated in place (EndpointConfigName)' })]);
    expect(d.changes.filter((c) => c.disruptive)).toEqual([]);
    expect(calls).not.toContain('cloudformation:ExecuteChangeSet');
    expect(sm.endpoints.get(STACK)!.configName).toBe(serving);
  });

  it('a deployed endpoint of another name is replaced: disruptive', async () => {
    // GIVEN the deployed stack names the endpoint otherwise, as an earlier naming rule would have
    const cfn = new CloudFormationClient({ region: REGION });
    try {
      const template = JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: STACK }))).TemplateBody!) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const [endpointId, endpoint] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::SageMaker::Endpoint')!;
      endpoint.Properties.EndpointName = `${STACK}-v0`;
      await cfn.send(new UpdateStackCommand({
        StackName: STACK, TemplateBody: JSON.stringify(template), Capabilities: ['CAPABILITY_IAM'],
        Parameters: [{ ParameterKey: 'BootstrapVersion', UsePreviousValue: true }],
      }));
      await fake.idle();
      expect(liveStack()!.status).toBe('UPDATE_COMPLETE');
      expect(sm.endpoints.get(`${STACK}-v0`)?.status).toBe('InService');

      // WHEN
      const d = await diff();

      // THEN
      expect(d.changes.filter((c) => c.disruptive)).toEqual([{
        resource: endpointId, action: 'replace', detail: 'AWS::SageMaker::Endpoint: replaced because EndpointName changes', disruptive: true,
      }]);
    } finally {
      cfn.destroy();
    }
  });
});
