import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, deployTemplate, zipFiles } from './_stack-helpers.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from './index.js';

function template(bucket: string, key: string): Record<string, any> {
  return {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'local-runner-fn', Code: { S3Bucket: bucket, S3Key: key }, Handler: 'index.handler', Runtime: 'nodejs22.x',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, MemorySize: 256, Timeout: 10, Environment: { Variables: { MODEL: 'tiny' } },
        },
      },
      V: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } } },
      Live: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Fn' }, FunctionVersion: { 'Fn::GetAtt': ['V', 'Version'] }, Name: 'live' } },
    },
  };
}

describe('the AWS fake running functions with the local executor', () => {
  let fake: AwsFake;
  let lambda: LambdaClient;

  beforeAll(async () => {
    fake = await startAwsFake({ functionRunner: localFunctionRunner() });
    fake.bootstrap();
    const bucket = `cdk-hnb659fds-assets-${fake.accountId}-${fake.region}`;
    const objects = fake.state.s3.get(bucket)!;
    const put = (key: string, body: Buffer) => objects.set(key, { body, etag: '"x"', contentType: 'application/zip', lastModified: new Date() });
    put('ok.zip', zipFiles({
      'index.mjs': 'export const handler = async (event, context) => ({ model: process.env.MODEL, ' +
        'version: process.env.AWS_LAMBDA_FUNCTION_VERSION, region: process.env.AWS_REGION, arn: context.invokedFunctionArn, event });',
    }));
    put('broken.zip', zipFiles({ 'index.mjs': "throw new Error('model file missing');\nexport const handler = async () => 1;" }));
    lambda = new LambdaClient(clientConfig(fake));
    const cfn = new CloudFormationClient(clientConfig(fake));
    expect((await deployTemplate(cfn, 'Local', template(bucket, 'ok.zip'))).stackStatus).toBe('CREATE_COMPLETE');
  });
  afterAll(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
  });

  it('runs the published version in its own execution environment', async () => {
    // WHEN
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'local-runner-fn', Qualifier: 'live', Payload: '{"n":1}', LogType: 'Tail' }));
    // THEN
    expect(r.ExecutedVersion).toBe('1');
    expect(r.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(r.Payload!).toString())).toEqual({
      model: 'tiny', version: '1', region: 'us-east-1', arn: 'arn:aws:lambda:us-east-1:123456789012:function:local-runner-fn:1', event: { n: 1 },
    });
    expect(Buffer.from(r.LogResult!, 'base64').toString()).toMatch(/REPORT RequestId/);
  });

  it('answers a real init failure the way Lambda does', async () => {
    // GIVEN a function whose module throws while loading
    const cfn = new CloudFormationClient(clientConfig(fake));
    await deployTemplate(cfn, 'Local', template(`cdk-hnb659fds-assets-${fake.accountId}-${fake.region}`, 'broken.zip'));
    // WHEN
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'local-runner-fn', Payload: '{}' }));
    // THEN
    expect(r.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(r.Payload!).toString())).toMatchObject({ errorMessage: expect.stringContaining('model file missing') });
  });
});
