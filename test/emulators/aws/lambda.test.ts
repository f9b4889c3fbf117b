import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  GetAliasCommand, GetFunctionCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand, LambdaClient, UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, deployTemplate, zipFiles } from './_stack-helpers.js';
import { inProcessFunctionRunner, startAwsFake, type AwsFake, type FunctionRunner, type FunctionSpec } from './index.js';

const HANDLER = (answer: string) => `
export const handler = async (event, context) => {
  if (event.fail) throw new Error('asked to fail');
  if (event.requestContext?.http) {
    return { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-from': 'handler' },
      body: 'hello ' + event.rawPath + ' ' + (event.queryStringParameters?.x ?? '') };
  }
  return { answer: ${JSON.stringify(answer)}, version: context.functionVersion };
};`;

function template(codeKey: string, bucket: string): Record<string, any> {
  return {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      Layer: { Type: 'AWS::Lambda::LayerVersion', Properties: { Content: { S3Bucket: bucket, S3Key: 'layer.zip' }, CompatibleRuntimes: ['nodejs22.x'] } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { S3Bucket: bucket, S3Key: codeKey }, Handler: 'index.handler', Runtime: 'nodejs22.x',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, MemorySize: 256, Timeout: 5,
          Environment: { Variables: { MODEL: 'tiny' } }, Layers: [{ Ref: 'Layer' }],
        },
      },
      V1: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
      Live: {
        Type: 'AWS::Lambda::Alias',
        Properties: {
          FunctionName: { Ref: 'Fn' }, FunctionVersion: { 'Fn::GetAtt': ['V1', 'Version'] }, Name: 'live',
          ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
        },
      },
      Url: { Type: 'AWS::Lambda::Url', Properties: { TargetFunctionArn: { Ref: 'Live' }, AuthType: 'NONE' } },
      Public: {
        Type: 'AWS::Lambda::Permission',
        Properties: { FunctionName: { Ref: 'Fn' }, Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' },
      },
    },
    Outputs: {
      Url: { Value: { 'Fn::GetAtt': ['Url', 'FunctionUrl'] } },
      FunctionName: { Value: { Ref: 'Fn' } },
      LayerArn: { Value: { Ref: 'Layer' } },
    },
  };
}

describe('Lambda in the AWS fake, through the real client', () => {
  let fake: AwsFake;
  let lambda: LambdaClient;
  let cfn: CloudFormationClient;
  let bucket: string;
  let outputs: Record<string, string>;
  const started: FunctionSpec[] = [];
  const recordingRunner: FunctionRunner = {
    start(spec) {
      started.push(spec);
      return inProcessFunctionRunner().start(spec);
    },
  };

  const invoke = async (input: { qualifier?: string; payload?: unknown; type?: 'Event' | 'DryRun'; tail?: boolean } = {}) => {
    const r = await lambda.send(new InvokeCommand({
      FunctionName: outputs.FunctionName, Qualifier: input.qualifier, Payload: JSON.stringify(input.payload ?? {}),
      InvocationType: input.type, LogType: input.tail ? 'Tail' : undefined,
    }));
    return { ...r, body: r.Payload && r.Payload.length > 0 ? JSON.parse(Buffer.from(r.Payload).toString()) : undefined };
  };

  beforeAll(async () => {
    fake = await startAwsFake({ functionRunner: recordingRunner });
    fake.bootstrap();
    bucket = `cdk-hnb659fds-assets-${fake.accountId}-${fake.region}`;
    lambda = new LambdaClient(clientConfig(fake));
    cfn = new CloudFormationClient(clientConfig(fake));
    const s3 = new S3Client({ ...clientConfig(fake), forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v1.zip', Body: zipFiles({ 'index.mjs': HANDLER('one') }) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v2.zip', Body: zipFiles({ 'index.mjs': HANDLER('two') }) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'layer.zip', Body: zipFiles({ 'nodejs/layer.txt': 'layer' }) }));
    const { stackStatus } = await deployTemplate(cfn, 'Fn', template('v1.zip', bucket));
    expect(stackStatus).toBe('CREATE_COMPLETE');
    const stack = [...fake.state.cloudformation.stacks.values()].find((st) => st.stackName === 'Fn')!;
    outputs = Object.fromEntries(stack.outputs.map((o) => [o.OutputKey, o.OutputValue]));
  });
  afterAll(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
  });

  it('starts functions lazily and hands the runner the published version\'s code, layers and settings', async () => {
    expect(started).toEqual([]);
    // WHEN
    const result = await invoke({ qualifier: 'live', tail: true });
    // THEN
    expect(result).toMatchObject({ StatusCode: 200, ExecutedVersion: '1', body: { answer: 'one', version: '1' } });
    expect(Buffer.from(result.LogResult!, 'base64').toString()).toContain('START RequestId');
    expect(started).toEqual([expect.objectContaining({
      functionName: outputs.FunctionName, version: '1', handler: 'index.handler', runtime: 'nodejs22.x',
      // The function's own variables, and what Lambda adds: the role's credentials (here S3 is the fake).
      env: { MODEL: 'tiny', AWS_ACCESS_KEY_ID: expect.any(String), AWS_SECRET_ACCESS_KEY: expect.any(String), AWS_SESSION_TOKEN: expect.any(String), AWS_ENDPOINT_URL_S3: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) }, memoryMb: 256, timeoutSeconds: 5, region: 'us-east-1', accountId: '123456789012',
      codeZipFile: expect.stringMatching(/\.zip$/), layerZipFiles: [expect.stringMatching(/\.zip$/)],
    })]);
    const config = await lambda.send(new GetFunctionCommand({ FunctionName: outputs.FunctionName }));
    expect(config.Configuration?.Layers?.map((l) => l.Arn)).toEqual([outputs.LayerArn]);
  });

  it('answers handler errors, Event and DryRun invocations like Lambda', async () => {
    const failed = await invoke({ qualifier: 'live', payload: { fail: true } });
    expect(failed).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', body: { errorType: 'Error', errorMessage: 'asked to fail' } });
    expect((await invoke({ type: 'Event' })).StatusCode).toBe(202);
    expect((await invoke({ type: 'DryRun' })).StatusCode).toBe(204);
  });

  it('serves the Function URL (AuthType NONE) as an HTTP API', async () => {
    const response = await fetch(`${outputs.Url}greet?x=1`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-from')).toBe('handler');
    expect(await response.text()).toBe('hello /greet 1');
  });

  it('reads and moves aliases and reports provisioned concurrency', async () => {
    expect((await lambda.send(new GetAliasCommand({ FunctionName: outputs.FunctionName, Name: 'live' }))).FunctionVersion).toBe('1');
    const pc = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: outputs.FunctionName, Qualifier: 'live' }));
    expect(pc).toMatchObject({ RequestedProvisionedConcurrentExecutions: 2, Status: 'READY' });
    // WHEN
    await lambda.send(new UpdateAliasCommand({ FunctionName: outputs.FunctionName, Name: 'live', FunctionVersion: '$LATEST' }));
    // THEN
    expect(await invoke({ qualifier: 'live' })).toMatchObject({ ExecutedVersion: '$LATEST', body: { answer: 'one' } });
    await lambda.send(new UpdateAliasCommand({ FunctionName: outputs.FunctionName, Name: 'live', FunctionVersion: '1' }));
  });

  it('restarts $LATEST on a code update while version 1 keeps its code', async () => {
    // WHEN
    const { stackStatus } = await deployTemplate(cfn, 'Fn', template('v2.zip', bucket));
    // THEN
    expect(stackStatus).toBe('UPDATE_COMPLETE');
    expect(await invoke()).toMatchObject({ ExecutedVersion: '$LATEST', body: { answer: 'two' } });
    expect(await invoke({ qualifier: 'live' })).toMatchObject({ ExecutedVersion: '1', body: { answer: 'one' } });
  });

  it('answers a missing function with ResourceNotFoundException and retries a throttled Invoke', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 },
    });
    fake.faults.throttle('lambda', 'Invoke', 1);
    const from = fake.calls.length;
    expect(await invoke({ qualifier: 'live' })).toMatchObject({ body: { answer: 'one' } });
    expect(fake.calls.slice(from).map((c) => c.status)).toEqual([429, 200]);
  });
});
