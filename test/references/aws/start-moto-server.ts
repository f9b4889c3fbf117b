import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * moto (getmoto/moto, `moto_server`) as a second, independent AWS: its own implementations of
 * CloudFormation, S3, SSM, STS, IAM, Lambda, SageMaker and CloudWatch Logs behind one port, which
 * the real toolkit-lib and SDK clients reach through `AWS_ENDPOINT_URL`. moto accepts any
 * credentials and does not check signatures.
 */
export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly accountId: string;
  /** What a shell pointed at moto sets: endpoints, dummy credentials, no shared config files. */
  readonly env: Readonly<Record<string, string>>;
  /** What `cdk bootstrap` leaves that a deploy reads: the staging bucket and the version parameter. */
  bootstrap(region: string): Promise<void>;
  /** Calls a JSON 1.1 API (e.g. CloudWatch Logs) that has no SDK client among the project's dependencies. */
  json<T = any>(signingName: string, target: string, body: Record<string, unknown>, region: string): Promise<T>;
  /** Stops the server this helper started (by its pid) and removes its scratch folder. */
  stop(): Promise<void>;
}

/** moto's default account: every ARN it makes carries it. */
export const MOTO_ACCOUNT = '123456789012';

/** Why moto_server cannot run here, or undefined when it can. */
export function motoMissing(): string | undefined {
  const probe = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? 'moto_server is not on PATH (pip install "moto[server]==5.2.1"; CI machines have it)' : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it answers. */
export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const scratch = mkdtempSync(path.join(tmpdir(), 'dm-moto-'));
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20_000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch { /* not listening yet */ }
    if (i >= 300) {
      child.kill('SIGTERM');
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    // toolkit-lib hands CloudFormation a template URL on this endpoint; moto fetches it from its own
    // S3 only when the host is `localhost` (DESIGN.md section 8).
    AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: `http://localhost:${port}`,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(scratch, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'no-aws-credentials'),
    CDK_HOME: path.join(scratch, 'cdk-home'),
  };
  const clientConfig = (region: string) => ({
    region, endpoint, forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });

  return {
    endpoint,
    accountId: MOTO_ACCOUNT,
    env,
    async bootstrap(region) {
      const s3 = new S3Client(clientConfig(region));
      const ssm = new SSMClient(clientConfig(region));
      try {
        await s3.send(new CreateBucketCommand({
          Bucket: `cdk-hnb659fds-assets-${MOTO_ACCOUNT}-${region}`,
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
        }));
        await ssm.send(new PutParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '30', Type: 'String', Overwrite: true }));
      } finally {
        s3.destroy();
        ssm.destroy();
      }
    },
    async json(signingName, target, body, region) {
      const res = await fetch(`${endpoint}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': target,
          // moto routes a request by the service in the credential scope and checks no signature.
          authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/${signingName}/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${target}: HTTP ${res.status} ${text}`);
      return JSON.parse(text);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
