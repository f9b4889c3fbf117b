import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import {
  GetFunctionCommand, GetFunctionConcurrencyCommand, GetFunctionUrlConfigCommand, LambdaClient, ListAliasesCommand, ListFunctionsCommand,
  ListLayersCommand, ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit, type Project } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { applyEnv } from '../../emulators/_apply-env.js';
import { motoMissing, startMotoServer, type MotoServer } from './start-moto-server.js';

// GIVEN moto_server, a second AWS we did not write, and a project with the tiny `add` model and an
// aws-lambda target; deploy-model runs in this process through its Toolkit API, pointed at moto by
// AWS_ENDPOINT_URL as a user's shell would be. moto lacks parts of what the deploy needs; each test
// says which (moto 5.2.1 sources cited) and asserts what deploy-model answers, then checks what
// moto can check.

const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
const missing = motoMissing();

/** A developer's settings that would send calls elsewhere. */
const CLEARED = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  ...['S3', 'STS', 'SSM', 'CLOUDFORMATION', 'LAMBDA', 'IAM', 'CLOUDWATCH_LOGS'].map((s) => `AWS_ENDPOINT_URL_${s}`)];

let moto: MotoServer;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
let project: Project;
let cfn: CloudFormationClient;
let lambda: LambdaClient;
let s3: S3Client;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes);
const stackResources = async (): Promise<StackResourceSummary[]> => (await cfn.send(new ListStackResourcesCommand({ StackName: STACK }))).StackResourceSummaries ?? [];
const physicalIdOf = async (type: string) => (await stackResources()).find((r) => r.ResourceType === type)?.PhysicalResourceId ?? '';
const logGroups = async (prefix: string) =>
  (await moto.json<{ logGroups: Array<{ logGroupName: string; retentionInDays?: number }> }>('logs', 'Logs_20140328.DescribeLogGroups', { logGroupNamePrefix: prefix }, REGION)).logGroups;
const artifact = (...parts: string[]) => readFile(path.join(dir, '.deploy-model', 'dev', 'lambda', ...parts));
/** The S3 object the synthesised template points a resource's code at (`Code` or `Content`). */
const assetOf = async (type: string) => {
  const template = JSON.parse(await readFile(path.join(dir, 'cdk.out', STACK, `${STACK}.template.json`), 'utf8')) as { Resources: Record<string, { Type: string; Properties: any }> };
  const props = Object.values(template.Resources).find((r) => r.Type === type)!.Properties;
  const key = (props.Code ?? props.Content).S3Key as string;
  const object = await s3.send(new GetObjectCommand({ Bucket: `cdk-hnb659fds-assets-${moto.accountId}-${REGION}`, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
};

beforeAll(async () => {
  if (missing) return;
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...moto.env, AWS_REGION: REGION, DEPLOY_MODEL_STACK_POLL_MS: '50' }, CLEARED);
  await moto.bootstrap(REGION);
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-moto-lambda-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}', memoryMb: 1536, reservedConcurrency: 3 } },
    smoke: { requests: 1 },
  };\n`);
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host });
  project = await toolkit.load({ cwd: dir });
  cfn = new CloudFormationClient({ region: REGION });
  lambda = new LambdaClient({ region: REGION });
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
}, 60_000);

afterAll(async () => {
  for (const client of [cfn, lambda, s3]) client?.destroy();
  restoreEnv?.();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)(`aws-lambda against moto${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 180_000 }, () => {
  it('deploy creates the stack and its resources, then stops at the stack outputs moto does not keep', async () => {
    // WHEN
    const report = await toolkit.deploy(project);

    // THEN deploy-model names the outputs it needs and why the endpoint may lack them. moto gap:
    // ExecuteChangeSet applies the template but never rebuilds the stack's output map, which it
    // built from the empty template of CreateChangeSet (moto/cloudformation/models.py,
    // `execute_change_set` and `Stack._create_output_map`), so a stack made by change set has none.
    const t = report.targets[0]!;
    expect(t).toMatchObject({ name: 'lambda', status: 'failed', error: { code: 'AWS_STACK_OUTPUT_MISSING' } });
    expect(t.error!.message).toContain(`Stack ${STACK} in ${REGION} deployed, but it has no output FunctionName, AliasArn, FunctionUrl, NewVersion, LiveVersion, LogGroupName`);
    expect(t.error!.message).toContain(`CloudFormation calls go to ${moto.endpoint} (AWS_ENDPOINT_URL), not to AWS, and that endpoint may not support stack outputs for stacks created or updated through change sets`);
    expect(host.codes()).toContain('DM_AWS_STACK_DEPLOY');

    // THEN the stack and what moto's CloudFormation implements exist
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks![0]!;
    expect(stack).toMatchObject({ StackStatus: 'CREATE_COMPLETE', Tags: expect.arrayContaining([{ Key: 'deploy-model:target', Value: 'lambda' }]) });
    const types = (await stackResources()).map((r) => r.ResourceType).sort();
    // moto gap: its CloudFormation skips resource types it does not implement (parse_resource in
    // moto/cloudformation/parsing.py warns and returns None): AWS::Lambda::Alias and
    // AWS::Lambda::Url are listed without a type and never created.
    expect(types).toEqual(['', '', 'AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::Lambda::LayerVersion', 'AWS::Lambda::Version', 'AWS::Logs::LogGroup']);

    // THEN the function carries our settings. moto's CloudFormation passes on only some
    // properties (LambdaFunction.create_from_cloudformation_json: no Layers, Architectures or
    // EphemeralStorage), so those cannot be checked here; cfn-lint checks their shape.
    const functionName = await physicalIdOf('AWS::Lambda::Function');
    const fn = (await lambda.send(new GetFunctionCommand({ FunctionName: functionName }))).Configuration!;
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 1536, Timeout: 30, Description: 'deploy-model: adder',
      Role: `arn:aws:iam::${moto.accountId}:role/${await physicalIdOf('AWS::IAM::Role')}`,
    });
    expect(fn.Environment?.Variables).toMatchObject({ DM_MODEL_NAME: 'adder' });
    expect(await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }))).toMatchObject({ ReservedConcurrentExecutions: 3 });
    expect((await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName }))).Versions!.map((v) => v.Version)).toEqual(['$LATEST', '1']);

    // THEN the code moto deployed is our function zip (handler bundle + model), uploaded to the
    // bootstrap bucket at the key the template names, and the layer is our onnxruntime-node layer
    const functionZip = await artifact('function', 'function.zip');
    expect(fn.CodeSha256).toBe(sha256(functionZip).digest('base64'));
    expect((await assetOf('AWS::Lambda::Function')).equals(functionZip)).toBe(true);
    const layerZip = await artifact('layer', 'onnxruntime-node-1.30.0-x86_64.zip');
    expect((await assetOf('AWS::Lambda::LayerVersion')).equals(layerZip)).toBe(true);
    const layer = (await lambda.send(new ListLayersCommand({}))).Layers!.find((l) => l.LayerName!.startsWith(`${STACK}-OnnxRuntime`))!;
    expect(layer.LatestMatchingVersion).toMatchObject({
      Description: 'onnxruntime-node 1.30.0 (x86_64, CPU), built by deploy-model', CompatibleRuntimes: expect.arrayContaining(['nodejs22.x']), LicenseInfo: 'MIT',
    });

    // THEN moto has no live alias and no Function URL (the gap above)
    expect((await lambda.send(new ListAliasesCommand({ FunctionName: functionName }))).Aliases).toEqual([]);
    await expect(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName, Qualifier: 'live' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    // THEN the log group exists with the retention of the config's default
    expect(await logGroups(await physicalIdOf('AWS::Logs::LogGroup'))).toEqual([expect.objectContaining({ retentionInDays: 30 })]);
  });

  it('status reads the stack from CloudFormation, which has no outputs to name the function, endpoint or version', async () => {
    // WHEN
    const [status] = await toolkit.status(project);
    // THEN
    expect(status).toMatchObject({ name: 'lambda', type: 'aws-lambda', details: { stackName: STACK, stackStatus: 'CREATE_COMPLETE' } });
    expect(status!.endpoint).toBeUndefined();
    expect(status!.version).toBeUndefined();
    expect(status!.details!.functionName).toBeUndefined();
  });

  it('smoke and invoke stop at AWS_STACK_OUTPUT_MISSING: the stack has no FunctionName output (moto Invoke would also need docker)', async () => {
    // moto gap, not reached: its Lambda runs functions only in docker (moto/awslambda/models.py,
    // LambdaFunction._invoke_lambda), and there is no docker here.
    const smoke = await toolkit.smoke(project);
    // A finished stack without its outputs will not gain them by deploying again: the error says
    // what is missing and which endpoint answered, not "deploy first".
    expect(smoke.targets[0]).toMatchObject({ status: 'failed', error: { code: 'AWS_STACK_OUTPUT_MISSING' } });
    expect(smoke.targets[0]!.error!.message).toMatch(/has no output FunctionName.*AWS_ENDPOINT_URL/s);
    await expect(toolkit.invoke(project, 'lambda', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }))
      .rejects.toMatchObject({ code: 'AWS_STACK_OUTPUT_MISSING' });
  });

  it('destroy deletes the stack and the function, keeps the log group (DeletionPolicy: Retain) and says so', async () => {
    // GIVEN
    const functionName = await physicalIdOf('AWS::Lambda::Function');
    const logGroup = await physicalIdOf('AWS::Logs::LogGroup');
    const recorded = new RecordingIoHost();
    const recordingToolkit = new Toolkit({ ioHost: recorded });

    // WHEN the Toolkit destroys the target
    const [result] = await recordingToolkit.destroy(project, ['lambda']);

    // THEN the result and a warning name the kept log group and the command that deletes it
    const deleteWith = `aws logs delete-log-group --log-group-name ${logGroup} --region ${REGION}`;
    expect(result).toEqual({ name: 'lambda', removed: true, retained: [{ type: 'AWS::Logs::LogGroup', logicalId: expect.stringMatching(/^ModelLogGroup/), physicalId: logGroup, deleteWith }] });
    const warning = recorded.messages.find((m) => m.code === 'DM_LAMBDA_RETAINED')!;
    expect(warning).toMatchObject({ level: 'warn', target: 'lambda' });
    expect(warning.message).toBe(`Log group ${logGroup} is kept (DeletionPolicy: Retain): the function's logs outlive it and are billed for storage until they expire (30 days). Delete it with \`${deleteWith}\` if you no longer need it.`);

    // THEN moto deleted the stack and the function, and kept the log group
    await expect(cfn.send(new DescribeStacksCommand({ StackName: STACK }))).rejects.toThrow(/does not exist/);
    expect((await lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName)).not.toContain(functionName);
    expect((await logGroups(logGroup)).map((g) => g.logGroupName)).toEqual([logGroup]);

    // WHEN destroyed again through the Toolkit: nothing to remove
    expect(await toolkit.destroy(project)).toEqual([{ name: 'lambda', removed: false }]);
  });

  it('with moto stopped, status names the endpoint that did not answer and the variable that chose it', async () => {
    // GIVEN
    await moto.stop();
    // WHEN
    const [row] = await toolkit.status(project);
    const error = row?.error;
    // THEN
    // status reports a target it cannot read in its row, as 'unknown' with the error
    expect(row).toMatchObject({ name: 'lambda', state: 'unknown' });
    expect(error?.code).toBe('AWS_DESCRIBE_FAILED');
    expect(error?.message).toContain(`Could not read stack ${STACK} in ${REGION}:`);
    expect(error?.message).toContain(`CloudFormation calls go to ${moto.endpoint} (AWS_ENDPOINT_URL), not to AWS: check that it is up and serves CloudFormation, or unset AWS_ENDPOINT_URL.`);
  });
});
