import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import { App, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SignatureV4 } from '@smithy/signature-v4';

/** An IoHost that records toolkit messages and answers every request with its default. */
export class RecordingToolkitHost implements IIoHost {
  readonly messages: Array<IoMessage<unknown>> = [];

  async notify(msg: IoMessage<unknown>): Promise<void> {
    this.messages.push(msg);
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    this.messages.push(msg);
    return msg.defaultResponse;
  }

  text(): string {
    return this.messages.map((m) => `${m.level} ${m.code ?? ''} ${m.message}`).join('\n');
  }
}

/** Writes a one-file Node handler that answers `{ answer, event }`. */
export async function writeHandler(answer: string): Promise<string> {
  const dir = await scratchDir('handler-');
  await writeFile(
    join(dir, 'index.mjs'),
    `export const handler = async (event) => ({ answer: ${JSON.stringify(answer)}, path: event.rawPath, event });\n`,
  );
  return dir;
}

export interface AppProps {
  readonly outdir: string;
  readonly account: string;
  readonly region: string;
  readonly codeDir: string;
}

/**
 * The smallest app with the shape of the aws-lambda target: function, published version (kept on
 * update), `live` alias and an IAM-authenticated Function URL on the alias.
 */
export function buildLambdaApp(props: AppProps): ReturnType<App['synth']> {
  const app = new App({ outdir: props.outdir, analyticsReporting: false, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'ModelStack', { env: { account: props.account, region: props.region } });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(props.codeDir),
    // Old versions stay (DeletionPolicy/UpdateReplacePolicy Retain) so they keep answering after an update.
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
  });
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
  const url = alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  new CfnOutput(stack, 'FunctionUrl', { value: url.url });
  new CfnOutput(stack, 'AliasArn', { value: alias.functionArn });
  new CfnOutput(stack, 'FunctionName', { value: fn.functionName });
  return app.synth();
}

const scratch: string[] = [];

/** A temporary folder, removed by `removeScratchDirs()`. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

export async function removeScratchDirs(): Promise<void> {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Signs a request for a Function URL with `AuthType: AWS_IAM`, as an IAM caller would. */
export async function signedFetch(url: string, init: { method: string; body?: string }, credentials: { accessKeyId: string; secretAccessKey: string }, region: string): Promise<Response> {
  const u = new URL(url);
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: NodeSha256 });
  const signed = await signer.sign({
    method: init.method, protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path: u.pathname,
    query: Object.fromEntries(u.searchParams), headers: { host: u.host, 'content-type': 'application/json' }, body: init.body,
  });
  return fetch(url, { method: init.method, headers: signed.headers, body: init.body });
}

class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = secret ? createHmac('sha256', toBuffer(secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret ? createHmac('sha256', toBuffer(this.secret)) : createHash('sha256');
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
