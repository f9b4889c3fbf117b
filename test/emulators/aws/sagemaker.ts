import type { FakeContext } from './_context.js';
import {
  createEndpoint, deleteEndpoint, describeEndpoint, getEndpoint, sageMakerArn, updateEndpoint,
} from './_sagemaker-endpoints.js';
import { checkName, createEndpointConfig, createModel, deleteEndpointConfig, deleteModel } from './_sagemaker-control.js';
import { sageMakerFake } from './_sagemaker-store.js';
import { pickFleet } from './_sagemaker-traffic.js';
import { jsonErrorReply, parseJsonBody, type AwsServiceModule, type ParsedCall } from './_service.js';
import { AwsError, headerValue, type WireReply, type WireRequest } from './_wire.js';

export { sageMakerFake, SageMakerFake, SageMakerFaults, PING_HEALTH_CHECK_FAILURE } from './_sagemaker-store.js';
export type { FakeSageMakerEndpoint, FakeSageMakerEndpointConfig, FakeSageMakerModel, FakeInvocation, EndpointStatus } from './_sagemaker-store.js';
export { sageMakerProvisioners } from './_sagemaker-resources.js';

/** `POST /endpoints/{name}/invocations`: SageMaker Runtime, restJson1. */
const INVOKE = /^\/endpoints\/([^/]+)\/invocations$/;

type Params = Record<string, any>;

function reply(value: unknown): WireReply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) };
}

const HANDLERS: Record<string, (p: Params, ctx: FakeContext) => WireReply | Promise<WireReply>> = {
  CreateModel: (p, ctx) => reply({ ModelArn: createModel(ctx, p) }),
  DescribeModel: (p, ctx) => {
    const m = sageMakerFake(ctx.state).models.get(String(p.ModelName));
    if (!m) throw new AwsError('ValidationException', `Could not find model "${sageMakerArn(ctx, 'model', String(p.ModelName))}".`);
    return reply({
      ModelName: m.name, ModelArn: m.arn, ExecutionRoleArn: m.executionRoleArn, EnableNetworkIsolation: m.networkIsolation,
      PrimaryContainer: {
        Image: m.image, Environment: m.environment,
        ...(m.modelDataSource
          ? { ModelDataSource: { S3DataSource: { S3Uri: m.modelDataSource.s3Uri, S3DataType: m.modelDataSource.s3DataType, CompressionType: m.modelDataSource.compressionType } } }
          : { ModelDataUrl: m.modelDataUrl }),
      },
      VpcConfig: m.vpcConfig,
      CreationTime: m.created.getTime() / 1000,
    });
  },
  DeleteModel: (p, ctx) => {
    deleteModel(ctx, String(p.ModelName));
    return reply({});
  },
  CreateEndpointConfig: (p, ctx) => reply({ EndpointConfigArn: createEndpointConfig(ctx, p) }),
  DescribeEndpointConfig: (p, ctx) => {
    const c = sageMakerFake(ctx.state).endpointConfigs.get(String(p.EndpointConfigName));
    if (!c) throw new AwsError('ValidationException', `Could not find endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', String(p.EndpointConfigName))}".`);
    return reply({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, ProductionVariants: c.variants, CreationTime: c.created.getTime() / 1000 });
  },
  ListEndpointConfigs: (p, ctx) => reply({
    EndpointConfigs: [...sageMakerFake(ctx.state).endpointConfigs.values()]
      .filter((c) => !p.NameContains || c.name.toLowerCase().includes(String(p.NameContains).toLowerCase()))
      .map((c) => ({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, CreationTime: c.created.getTime() / 1000 })),
  }),
  DeleteEndpointConfig: (p, ctx) => {
    deleteEndpointConfig(ctx, String(p.EndpointConfigName));
    return reply({});
  },
  CreateEndpoint: (p, ctx) => {
    const endpoint = createEndpoint(ctx, checkName('endpointName', p.EndpointName), String(p.EndpointConfigName), p.DeploymentConfig);
    return reply({ EndpointArn: endpoint.arn });
  },
  UpdateEndpoint: (p, ctx) => {
    const endpoint = updateEndpoint(ctx, String(p.EndpointName), String(p.EndpointConfigName), p.RetainDeploymentConfig ? undefined : p.DeploymentConfig);
    return reply({ EndpointArn: endpoint.arn });
  },
  // AddTags / ListTags / DeleteTags on an endpoint (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AddTags.html).
  AddTags: (p, ctx) => {
    const endpoint = taggedEndpoint(ctx, String(p.ResourceArn));
    const tags = (p.Tags ?? []) as Array<{ Key: string; Value: string }>;
    endpoint.tags ??= new Map();
    if (new Set([...endpoint.tags.keys(), ...tags.map((t) => t.Key)]).size > 50) throw new AwsError('ValidationException', 'A resource can have at most 50 tags.');
    for (const t of tags) endpoint.tags.set(t.Key, t.Value);
    return reply({ Tags: tags });
  },
  ListTags: (p, ctx) => reply({ Tags: [...(taggedEndpoint(ctx, String(p.ResourceArn)).tags ?? new Map<string, string>())].map(([Key, Value]) => ({ Key, Value })) }),
  DeleteTags: (p, ctx) => {
    const endpoint = taggedEndpoint(ctx, String(p.ResourceArn));
    for (const key of (p.TagKeys ?? []) as string[]) endpoint.tags?.delete(key);
    return reply({});
  },
  DescribeEndpoint: (p, ctx) => reply(describeEndpoint(ctx, getEndpoint(ctx, String(p.EndpointName)))),
  ListEndpoints: (_p, ctx) => reply({
    Endpoints: [...sageMakerFake(ctx.state).endpoints.values()].map((e) => ({
      EndpointName: e.name, EndpointArn: e.arn, EndpointStatus: e.status,
      CreationTime: e.created.getTime() / 1000, LastModifiedTime: e.lastModified.getTime() / 1000,
    })),
  }),
  DeleteEndpoint: (p, ctx) => {
    deleteEndpoint(ctx, String(p.EndpointName));
    return reply({});
  },
};

/** The endpoint an ARN names; the fake keeps tags on endpoints only. */
function taggedEndpoint(ctx: FakeContext, arn: string) {
  const endpoint = [...sageMakerFake(ctx.state).endpoints.values()].find((e) => e.arn === arn);
  if (!endpoint) throw new AwsError('ValidationException', `Could not find resource "${arn}".`);
  return endpoint;
}

/**
 * InvokeEndpoint: SageMaker forwards the body to the container's `/invocations` with the
 * caller's `ContentType` and `Accept` as `Content-Type` and `Accept`, and nothing else of the
 * caller's request (no custom headers such as `Inference-Header-Content-Length`); the container's
 * answer comes back with its own `Content-Type`. A container error status becomes ModelError.
 */
async function invokeEndpoint(ctx: FakeContext, p: Params, req: WireRequest): Promise<WireReply> {
  const sm = sageMakerFake(ctx.state);
  const endpoint = sm.endpoints.get(String(p.EndpointName));
  // During a CANARY or LINEAR update, the new fleet answers its share of the invocations.
  const serving = endpoint ? pickFleet(endpoint) : undefined;
  if (!endpoint || !serving || endpoint.status === 'Creating' || endpoint.status === 'Failed' || endpoint.status === 'Deleting') {
    sm.invocations.push({ endpointName: String(p.EndpointName), status: 400 });
    throw new AwsError('ValidationError', `Endpoint ${String(p.EndpointName)} of account ${ctx.accountId} not found.`);
  }
  const answer = (status: number, body: Buffer, contentType: string): WireReply => {
    sm.invocations.push({ endpointName: endpoint.name, configName: serving.configName, status });
    if (status === 200) {
      return {
        status: 200,
        headers: { 'content-type': contentType, 'x-amzn-invoked-production-variant': serving.variantName, 'x-amzn-requestid': req.requestId },
        body,
      };
    }
    return modelError(ctx, endpoint.name, status, body.toString('utf8'), req);
  };
  if (serving.broken) return answer(500, Buffer.from(JSON.stringify({ error: serving.broken })), 'application/json');
  // InvokeEndpoint without ContentType reaches the container as application/octet-stream.
  const headers: Record<string, string> = { 'content-type': String(p.ContentType ?? 'application/octet-stream') };
  if (p.Accept !== undefined) headers.accept = String(p.Accept);
  const res = await fetch(`${serving.url}/invocations`, { method: 'POST', headers, body: req.body });
  return answer(res.status, Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? 'application/octet-stream');
}

/** The ModelError (424) SageMaker Runtime answers when the container answers an error. */
function modelError(ctx: FakeContext, endpointName: string, status: number, message: string, req: WireRequest): WireReply {
  const logGroup = `/aws/sagemaker/Endpoints/${endpointName}`;
  const kind = status >= 500 ? 'server' : 'client';
  return {
    status: 424,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError', 'x-amzn-requestid': req.requestId },
    body: JSON.stringify({
      message: `Received ${kind} error (${status}) from primary with message "${message}". See https://${ctx.region}.console.aws.amazon.com/cloudwatch/home?region=${ctx.region}#logEventViewer:group=${logGroup} in account ${ctx.accountId} for more information.`,
      OriginalStatusCode: status,
      OriginalMessage: message,
      LogStreamArn: `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${logGroup}`,
    }),
  };
}

/** restJson1 errors of SageMaker Runtime: the code in `x-amzn-errortype`. */
function runtimeErrorReply(error: AwsError, req: WireRequest): WireReply {
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code, 'x-amzn-requestid': req.requestId },
    body: JSON.stringify({ message: error.message, ...error.fields }),
  };
}

/**
 * SageMaker: the control plane (JSON 1.1, `x-amz-target: SageMaker.<Action>`) and the runtime's
 * InvokeEndpoint (`POST /endpoints/{name}/invocations`), both signed as `sagemaker`. Endpoints
 * run the uploaded model.tar.gz with the project's Node runtime; see `sageMakerFake(state)` for
 * the state, the transition delay and the faults.
 */
export const sagemaker: AwsServiceModule = {
  name: 'sagemaker',
  signingNames: ['sagemaker'],
  targetPrefixes: ['SageMaker'],
  claims: (req) => req.method === 'POST' && INVOKE.test(req.path),
  parse(req): ParsedCall {
    const invoke = INVOKE.exec(req.path);
    if (invoke && req.method === 'POST') {
      return {
        action: 'InvokeEndpoint',
        params: {
          EndpointName: invoke[1],
          ContentType: headerValue(req.headers, 'content-type'),
          Accept: headerValue(req.headers, 'accept'),
          TargetVariant: headerValue(req.headers, 'x-amzn-sagemaker-target-variant'),
        },
      };
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    return { action: target.slice(target.indexOf('.') + 1), params: parseJsonBody(req) };
  },
  async handle(call, req, ctx) {
    if (call.action === 'InvokeEndpoint') return invokeEndpoint(ctx, call.params, req);
    const handler = HANDLERS[call.action];
    if (!handler) throw new AwsError('UnknownOperationException', `The fake does not implement SageMaker ${call.action}`);
    return handler(call.params, ctx);
  },
  errorReply: (error, req) => (INVOKE.test(req.path) ? runtimeErrorReply(error, req) : jsonErrorReply(error, req)),
  throttlingError: () => new AwsError('ThrottlingException', 'Rate exceeded'),
};
