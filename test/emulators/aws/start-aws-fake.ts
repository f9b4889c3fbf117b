import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapEnvironment, type BootstrapOptions } from './bootstrap.js';
import { defaultProvisioners, type ResourceProvisioner } from './cfn-resources.js';
import { cloudFormationIdle } from './cloudformation.js';
import type { FakeContext } from './_context.js';
import { Faults } from './faults.js';
import { inProcessFunctionRunner, type FunctionRunner } from './function-runner.js';
import { LambdaRuntime } from './_lambda-runtime.js';
import { lambdaLogs } from './_lambda-logs.js';
import { DEFAULT_SERVICES, pickService } from './_router.js';
import type { AwsServiceModule, ParsedCall } from './_service.js';
import { createState, type FakeState } from './state.js';
import { applyEnv } from '../_apply-env.js';
import {
  AwsError, decodeAwsChunked, isAwsChunked, newRequestId, parseCredentialScope, type WireReply, type WireRequest,
} from './_wire.js';

export interface AwsFakeOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Runs deployed functions. @default inProcessFunctionRunner() */
  readonly functionRunner?: FunctionRunner;
  /** CloudFormation provisioners to add or replace, by resource type. */
  readonly provisioners?: Readonly<Record<string, ResourceProvisioner>>;
  /** Extra service modules, consulted before the built-in ones. */
  readonly services?: readonly AwsServiceModule[];
}

/** One request the fake answered, in the order they arrived. */
export interface RecordedCall {
  readonly service: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
  /** When the request arrived. */
  readonly at: Date;
  /** The HTTP status answered (set once the answer is sent). */
  status?: number;
}

export interface AwsFake {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /**
   * The environment SDK clients and toolkit-lib need: endpoint URLs, dummy credentials, region,
   * `AWS_EC2_METADATA_DISABLED`, config files that do not exist (so no developer profile leaks
   * in) and `CDK_HOME` (toolkit-lib's account cache) inside the fake's scratch folder.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly calls: RecordedCall[];
  readonly faults: Faults;
  readonly state: FakeState;
  /** Errors inside the fake itself (a bug, not an AWS error); a test should expect none. */
  readonly internalErrors: Error[];
  /** Creates what `cdk bootstrap` would: staging bucket, version parameter, roles, CDKToolkit. */
  bootstrap(options?: BootstrapOptions): void;
  /** Sets `env` on `process.env` (removing AWS_PROFILE, AWS_SESSION_TOKEN and per-service endpoints); returns the undo. */
  applyEnv(): () => void;
  /** Settles when no stack operation is in progress. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: WireReply): void {
  const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
  const headers: Record<string, string> = { ...reply.headers };
  if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(body);
}

/**
 * Starts a wire-level AWS fake on 127.0.0.1: STS, SSM, S3, CloudFormation and Lambda (API,
 * invoke and Function URLs) on one port, for the real SDK clients and toolkit-lib.
 */
export async function startAwsFake(options: AwsFakeOptions = {}): Promise<AwsFake> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const workDir = await mkdtemp(join(tmpdir(), 'aws-fake-'));
  const state = createState();
  const faults = new Faults();
  const provisioners = defaultProvisioners();
  for (const [type, p] of Object.entries(options.provisioners ?? {})) provisioners.set(type, p);
  const services = [...(options.services ?? []), ...DEFAULT_SERVICES];
  let endpoint = '';
  const lambdaRuntime = new LambdaRuntime(lambdaLogs(options.functionRunner ?? inProcessFunctionRunner(), state), faults, state, workDir, { region, accountId, get endpoint() { return endpoint; } });
  const calls: RecordedCall[] = [];
  const internalErrors: Error[] = [];
  const ctx: FakeContext = {
    region, accountId, state, faults, provisioners, lambdaRuntime, workDir,
    get endpoint() { return endpoint; },
  };

  async function answer(req: WireRequest): Promise<WireReply> {
    const service = pickService(services, req);
    if (!service) {
      const target = String(req.headers['x-amz-target'] ?? `${req.method} ${req.path}`);
      calls.push({ service: req.scope?.service ?? 'unknown', action: target, params: {}, at: new Date(), status: 400 });
      return { status: 400, headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' },
        body: JSON.stringify({ __type: 'UnknownOperationException', message: `The AWS fake does not serve ${target}` }) };
    }
    let call: ParsedCall;
    try {
      call = service.parse(req);
    } catch (e) {
      return service.errorReply(e instanceof AwsError ? e : new AwsError('SerializationException', String(e)), req);
    }
    const record: RecordedCall = { service: service.name, action: call.action, params: call.params, at: new Date() };
    calls.push(record);
    let reply: WireReply;
    try {
      const expired = req.scope ? faults.expiredCredentials(service.name) : undefined;
      if (expired) throw new AwsError(expired.code, expired.message, expired.status ?? 400);
      if (faults.takeThrottle(service.name, call.action)) throw service.throttlingError();
      const failure = faults.takeCallFailure(service.name, call.action);
      if (failure) throw new AwsError(failure.code, failure.message, failure.status ?? 400, failure.fields ?? {});
      reply = await service.handle(call, req, ctx);
    } catch (e) {
      if (!(e instanceof AwsError)) internalErrors.push(e as Error);
      // A fake bug answers a non-retryable 400 so the SDK does not back off for minutes.
      const error = e instanceof AwsError ? e : new AwsError('FakeInternalError', (e as Error).stack ?? String(e));
      reply = service.errorReply(error, req);
    }
    record.status = reply.status;
    return reply;
  }

  const server = createServer((req, res) => {
    void (async () => {
      try {
        let body = await readBody(req);
        if (isAwsChunked(req.headers)) body = decodeAwsChunked(body);
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rawPath = (req.url ?? '/').split('?')[0]!;
        send(res, await answer({
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          rawPath,
          query: url.searchParams,
          rawQuery: url.search.replace(/^\?/, ''),
          headers: req.headers,
          body,
          scope: parseCredentialScope(req.headers.authorization),
          requestId: newRequestId(),
        }));
      } catch (e) {
        internalErrors.push(e as Error);
        if (!res.headersSent) send(res, { status: 400, body: String(e) });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: endpoint,
    AWS_ACCESS_KEY_ID: `AKIA${accountId}FAKE`,
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-tests',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
    CDK_HOME: join(workDir, 'cdk-home'),
  };

  return {
    endpoint, region, accountId, env, calls, faults, state, internalErrors,
    bootstrap: (o) => bootstrapEnvironment(ctx, o),
    applyEnv: () => applyEnv(env, ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM']),
    idle: () => cloudFormationIdle(ctx),
    async stop() {
      faults.reset();
      await cloudFormationIdle(ctx);
      await lambdaRuntime.stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
