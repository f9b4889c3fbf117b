import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AddTagsCommand, CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteTagsCommand, DescribeEndpointCommand,
  ListTagsCommand, SageMakerClient, UpdateEndpointCommand, type DescribeEndpointCommandOutput, type DeploymentConfig,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';
import { removeTestArchives, tritonArchive, type TestArchive } from './_sagemaker-test-model.js';
import { startAwsFake, type AwsFake } from './index.js';
import { PING_HEALTH_CHECK_FAILURE, sageMakerFake } from './sagemaker.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const BUCKET = `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;

describe('SageMaker fake with the real SDK clients', () => {
  let fake: AwsFake;
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let cls: TestArchive;
  let deepa: TestArchive;

  /** Uploads an archive and creates a Model and an EndpointConfig for it. */
  async function modelAndConfig(name: string, archive: TestArchive, tritonName: string): Promise<string> {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${name}.tar.gz`, Body: archive.bytes }));
    await sm.send(new CreateModelCommand({
      ModelName: name, ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: `763104351884.dkr.ecr.${REGION}.amazonaws.com/sagemaker-tritonserver:25.09-py3`, ModelDataUrl: `s3://${BUCKET}/${name}.tar.gz`, Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: tritonName } },
    }));
    await sm.send(new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    }));
    return `${name}-config`;
  }

  async function settled(name: string): Promise<DescribeEndpointCommandOutput> {
    for (;;) {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: name }));
      if (!['Creating', 'Updating', 'RollingBack', 'Deleting'].includes(d.EndpointStatus!)) return d;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function invoke(name: string, request: unknown) {
    const r = await runtime.send(new InvokeEndpointCommand({ EndpointName: name, ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify(request) }));
    return { body: JSON.parse(Buffer.from(r.Body!).toString()), variant: r.InvokedProductionVariant, contentType: r.ContentType };
  }

  function config() {
    return {
      region: fake.region,
      endpoint: fake.endpoint,
      credentials: { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! },
      retryStrategy: new ConfiguredRetryStrategy(4, () => 10),
    };
  }

  beforeAll(async () => {
    fake = await startAwsFake({ accountId: ACCOUNT, region: REGION });
    fake.bootstrap();
    sm = new SageMakerClient(config());
    runtime = new SageMakerRuntimeClient(config());
    [cls, deepa] = await Promise.all([tritonArchive(REAL_MODELS.cls, 'cls'), tritonArchive(REAL_MODELS.helloDeepa, 'deepa')]);
  });
  afterAll(async () => {
    await sageMakerFake(fake.state).close();
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
    await removeTestArchives();
  });

  it('creates an endpoint that is Creating, then InService and answers v2 requests with the uploaded model', async () => {
    // GIVEN
    const configName = await modelAndConfig('cls-v1', cls, 'cls');
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'ocr', EndpointConfigName: configName }));
    const creating = await sm.send(new DescribeEndpointCommand({ EndpointName: 'ocr' }));
    const ready = await settled('ocr');
    const answer = await invoke('ocr', cls.request);
    // THEN
    expect(creating.EndpointStatus).toBe('Creating');
    expect(ready).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: configName });
    expect(ready.ProductionVariants?.[0]).toMatchObject({ VariantName: 'AllTraffic', CurrentInstanceCount: 1 });
    expect(answer.variant).toBe('AllTraffic');
    expect(answer.contentType).toBe('application/json');
    expect(answer.body).toMatchObject({ model_name: 'cls', outputs: [{ name: cls.outputNames[0], datatype: 'FP32', shape: [1, 2] }] });
    expect(fake.calls.filter((c) => c.action === 'InvokeEndpoint').at(-1)).toMatchObject({ service: 'sagemaker', status: 200 });
  });

  it('forwards the caller\'s ContentType to the container: the binary+json type SageMaker clients use for binary tensors', async () => {
    // GIVEN the v2 binary extension as SageMaker clients send it: the JSON header's length in the
    // media type, since InvokeEndpoint forwards no Inference-Header-Content-Length
    // (triton-inference-server/server r25.09, src/sagemaker_server.cc).
    const input = cls.request.inputs[0] as { name: string; shape: number[]; datatype: string; data: number[] };
    const bytes = Buffer.from(Float32Array.from(input.data).buffer);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: input.name, shape: input.shape, datatype: 'FP32', parameters: { binary_data_size: bytes.length } }], parameters: { binary_data_output: true } }));
    // WHEN
    const r = await runtime.send(new InvokeEndpointCommand({
      EndpointName: 'ocr', ContentType: `application/vnd.sagemaker-triton.binary+json;json-header-size=${header.length}`, Body: Buffer.concat([header, bytes]),
    }));
    // THEN the container answered in the same media type, with the output's raw bytes after its header
    const m = /^application\/vnd\.sagemaker-triton\.binary\+json;json-header-size=(\d+)$/.exec(r.ContentType ?? '');
    expect(m, r.ContentType).not.toBeNull();
    const body = Buffer.from(r.Body!);
    const answer = JSON.parse(body.toString('utf8', 0, Number(m![1])));
    expect(answer.outputs[0]).toMatchObject({ name: cls.outputNames[0], datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } });
    expect(body.length).toBe(Number(m![1]) + 8);
  });

  it('updates to a new config while the old one keeps answering, then serves the new model', async () => {
    // GIVEN
    const configName = await modelAndConfig('deepa-v1', deepa, 'deepa');
    // WHEN
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'ocr', EndpointConfigName: configName }));
    const updating = await sm.send(new DescribeEndpointCommand({ EndpointName: 'ocr' }));
    const during = await invoke('ocr', cls.request);
    const done = await settled('ocr');
    const after = await invoke('ocr', deepa.request);
    // THEN
    expect(updating).toMatchObject({ EndpointStatus: 'Updating', EndpointConfigName: 'cls-v1-config' });
    expect(during.body.model_name).toBe('cls');
    expect(done).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: configName });
    expect(after.body.model_name).toBe('deepa');
  });

  it('rolls a failed update back: InService on the old config, with the FailureReason', async () => {
    // GIVEN
    const configName = await modelAndConfig('cls-v2', cls, 'cls');
    sageMakerFake(fake.state).faults.failNextEndpoint();
    // WHEN
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'ocr', EndpointConfigName: configName }));
    const done = await settled('ocr');
    // THEN
    expect(done).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'deepa-v1-config', FailureReason: PING_HEALTH_CHECK_FAILURE() });
    expect((await invoke('ocr', deepa.request)).body.model_name).toBe('deepa');
  });

  it('fails an endpoint whose archive has config.pbtxt at its root, with the ping failure and the cause in its logs', async () => {
    // GIVEN
    const configName = await modelAndConfig('flat', await tritonArchive(REAL_MODELS.cls, 'cls', { layout: 'flat' }), 'cls');
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'flat', EndpointConfigName: configName }));
    const done = await settled('flat');
    // THEN
    expect(done).toMatchObject({ EndpointStatus: 'Failed', FailureReason: PING_HEALTH_CHECK_FAILURE() });
    expect(sageMakerFake(fake.state).logs.get('flat')?.join('\n')).toContain('config.pbtxt found directly in /opt/ml/model');
    await expect(invoke('flat', cls.request)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('fails an endpoint whose config.pbtxt Triton would refuse, with Triton\'s message in its logs', async () => {
    // GIVEN silero-vad's scalar sample rate declared as deploy-model 0.1 did: dims [1] reshaped to
    // [] on a non-batching model, which Triton core refuses (ValidateIOShape, r24.09 to r25.12)
    const archive = await tritonArchive(REAL_MODELS.sileroVad, 'vad', {
      editConfig: (c) => ({ ...c, input: c.input.map((t) => (t.name === 'sr' ? { ...t, dims: [1], reshape: { shape: [] } } : t)) }),
    });
    const configName = await modelAndConfig('vad-old', archive, 'vad');
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'vad-old', EndpointConfigName: configName }));
    // THEN
    expect(await settled('vad-old')).toMatchObject({ EndpointStatus: 'Failed', FailureReason: PING_HEALTH_CHECK_FAILURE() });
    expect(sageMakerFake(fake.state).logs.get('vad-old')?.join('\n')).toContain('cannot have empty reshape for non-batching model as scalar tensors are not supported');
  });

  it('fails an endpoint whose model name environment variable names no folder', async () => {
    // GIVEN a model whose SAGEMAKER_TRITON_DEFAULT_MODEL_NAME is not the folder in the archive
    const configName = await modelAndConfig('misnamed', cls, 'not-cls');
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'misnamed', EndpointConfigName: configName }));
    // THEN
    expect((await settled('misnamed')).EndpointStatus).toBe('Failed');
    expect(sageMakerFake(fake.state).logs.get('misnamed')?.join('\n')).toContain('/opt/ml/model/not-cls/config.pbtxt does not exist');
  });

  it('answers a broken model with ModelError carrying the container status and message', async () => {
    // GIVEN
    const configName = await modelAndConfig('broken', cls, 'cls');
    sageMakerFake(fake.state).faults.breakNextConfig('CUDA error: an illegal memory access was encountered');
    await sm.send(new CreateEndpointCommand({ EndpointName: 'broken', EndpointConfigName: configName }));
    await settled('broken');
    // WHEN
    const error = await invoke('broken', cls.request).catch((e: unknown) => e);
    // THEN
    expect(error).toMatchObject({ name: 'ModelError', $metadata: { httpStatusCode: 424 }, OriginalStatusCode: 500 });
    expect((error as { OriginalMessage: string }).OriginalMessage).toContain('illegal memory access');
  });

  it('throttles InvokeEndpoint with the error the SDK retries', async () => {
    // GIVEN
    fake.faults.throttle('sagemaker', 'InvokeEndpoint', 2);
    const before = fake.calls.length;
    // WHEN
    const answer = await invoke('ocr', deepa.request);
    // THEN
    expect(answer.body.model_name).toBe('deepa');
    expect(fake.calls.slice(before).map((c) => `${c.action}:${c.status}`)).toEqual(['InvokeEndpoint:400', 'InvokeEndpoint:400', 'InvokeEndpoint:200']);
  });

  it('deletes an endpoint: Deleting, then not found', async () => {
    // GIVEN a deletion slow enough to be seen on a loaded machine
    const fakeSm = sageMakerFake(fake.state);
    const transitionMs = fakeSm.transitionMs;
    fakeSm.transitionMs = 1000;
    // WHEN
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'broken' }));
    const deleting = await sm.send(new DescribeEndpointCommand({ EndpointName: 'broken' }));
    fakeSm.transitionMs = transitionMs;
    await fakeSm.endpoints.get('broken')?.operation;
    // THEN
    expect(deleting.EndpointStatus).toBe('Deleting');
    await expect(sm.send(new DescribeEndpointCommand({ EndpointName: 'broken' }))).rejects.toMatchObject({ name: 'ValidationException', message: 'Could not find endpoint "broken".' });
  });

  it('holds a create while the test wants to look at it', async () => {
    // GIVEN
    const configName = await modelAndConfig('held', cls, 'cls');
    const hold = sageMakerFake(fake.state).faults.holdNextEndpoint('held');
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'held', EndpointConfigName: configName }));
    await new Promise((r) => setTimeout(r, sageMakerFake(fake.state).transitionMs * 3));
    const still = await sm.send(new DescribeEndpointCommand({ EndpointName: 'held' }));
    hold.release();
    // THEN
    expect(still.EndpointStatus).toBe('Creating');
    expect((await settled('held')).EndpointStatus).toBe('InService');
  });

  it('refuses a traffic routing SageMaker refuses, and steps a LINEAR update shown in PendingDeploymentSummary, rolling back when its alarm is in ALARM', async () => {
    // GIVEN an endpoint in service on one config, and a second config
    const fakeSm = sageMakerFake(fake.state);
    const first = await modelAndConfig('steps-v1', cls, 'cls');
    const second = await modelAndConfig('steps-v2', cls, 'cls');
    await sm.send(new CreateEndpointCommand({ EndpointName: 'steps', EndpointConfigName: first }));
    await settled('steps');
    const routing = (type: string, size: number): DeploymentConfig => ({
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: type as 'LINEAR', WaitIntervalInSeconds: 2, ...(type === 'CANARY' ? { CanarySize: { Type: 'CAPACITY_PERCENT', Value: size } } : { LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: size } }) }, TerminationWaitInSeconds: 0 },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'steps-5xx' }] },
    });
    // WHEN / THEN: API_TrafficRoutingConfig: CanarySize <= 50 %, LinearStepSize 10-50 %
    await expect(sm.send(new UpdateEndpointCommand({ EndpointName: 'steps', EndpointConfigName: second, DeploymentConfig: routing('CANARY', 60) })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('CanarySize must be less than or equal to 50%') });
    await expect(sm.send(new UpdateEndpointCommand({ EndpointName: 'steps', EndpointConfigName: second, DeploymentConfig: routing('LINEAR', 5) })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('LinearStepSize must be 10-50%') });
    // WHEN a LINEAR update of 50 % steps, whose alarm goes into ALARM at the second step
    const second0 = fakeSm.deploymentSecondMs;
    fakeSm.deploymentSecondMs = 100;
    fakeSm.faults.alarmAtStep({ endpoint: 'steps', step: 2 });
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'steps', EndpointConfigName: second, DeploymentConfig: routing('LINEAR', 50) }));
    const seen = new Set<string>();
    let d: DescribeEndpointCommandOutput;
    do {
      d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'steps' }));
      const status = d.PendingDeploymentSummary?.ProductionVariants?.[0]?.VariantStatus?.[0];
      if (status) seen.add(`${status.Status}: ${status.StatusMessage ?? ''}`);
      await new Promise((r) => setTimeout(r, 5));
    } while (d.EndpointStatus !== 'InService');
    fakeSm.deploymentSecondMs = second0;
    // THEN the new fleet started, took 50 %, then all, and the alarm rolled it back
    expect([...seen]).toEqual([
      'Creating: ',
      "ActivatingTraffic: Turning on traffic for 50% of the new fleet's capacity (step 1 of 2)",
      "ActivatingTraffic: Turning on traffic for 100% of the new fleet's capacity (step 2 of 2)",
    ]);
    expect(d).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: first, FailureReason: expect.stringContaining('steps-5xx') });
    expect(d.PendingDeploymentSummary).toBeUndefined();
    expect(d.LastDeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration).toMatchObject({ Type: 'LINEAR' });
    fakeSm.setAlarmState('steps-5xx', 'OK');
  });

  it('keeps tags on endpoints: AddTags, ListTags, DeleteTags', async () => {
    const arn = (await sm.send(new DescribeEndpointCommand({ EndpointName: 'steps' }))).EndpointArn!;
    await sm.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await sm.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['a'] }));
    expect((await sm.send(new ListTagsCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);
    await expect(sm.send(new ListTagsCommand({ ResourceArn: `${arn}-none` }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
