/** `deploy-model logs` through the CLI: the local target, Lambda and SageMaker on the AWS fake, Vertex AI and Azure ML on their fakes, and the targets whose logs are elsewhere. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_FILE } from '../../src/targets/web/serve-locally.js';
import { startLocalSite, stopLocalSite } from '../../src/targets/web/start-local-site.js';
import { BIN, runCli, type CliRun } from '../_helpers/run-cli.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../emulators/aws/index.js';
import { startAzureFake, type AzureFake } from '../emulators/azure/index.js';
import { startVertexFake, type VertexFake } from '../emulators/vertex/index.js';

// GIVEN a project whose model is the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]),
// with a target of every type. The CLI runs as a child process (`npm run build` first).

interface LogLineJson { time: string; source?: string; message: string }

const TARGETS = `{
    local: { type: 'local' },
    lambda: { type: 'aws-lambda', region: 'us-east-1' },
    sm: { type: 'aws-sagemaker', region: 'us-east-1', instanceType: 'ml.g5.xlarge' },
    vertex: { type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4', image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://my-staging/models' },
    azure: { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' },
    image: { type: 'container' },
    site: { type: 'web', host: 'aws', region: 'us-east-1' },
    www: { type: 'web' },
    app: { type: 'react-native' },
  }`;

let dir: string;
let input: string;

/** JSON Lines: one object a line, each with an ISO time. */
function jsonLines(run: CliRun): LogLineJson[] {
  const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLineJson);
  for (const l of lines) expect(new Date(l.time).toISOString()).toBe(l.time);
  return lines;
}

/**
 * Runs `deploy-model ARGS --follow --json --since <now>` as a child, runs `act`, waits until the child printed a
 * line matching `until` (a REPORT line), sends SIGINT as Ctrl-C does, and returns the JSON lines it printed; it must exit 0.
 */
async function followWhile(args: string[], env: Record<string, string | undefined>, act: () => Promise<void>, until = /"REPORT RequestId/): Promise<LogLineJson[]> {
  // From now, whenever the child starts to read: what `act` makes comes whole, nothing before it.
  const since = new Date().toISOString();
  const child = spawn(process.execPath, [BIN, ...args, '--follow', '--json', '--since', since], {
    cwd: dir, env: { ...process.env, NO_COLOR: '1', CI: '', DEPLOY_MODEL_LOGS_POLL_MS: '50', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await act();
    const deadline = Date.now() + 30_000;
    while (!until.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited, stderr).toBe(0);
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLineJson);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-logs-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: ${TARGETS},
    smoke: { requests: 2 },
  };\n`);
  input = path.join(dir, 'input.json');
  await writeFile(input, JSON.stringify({ x: [[1, 2, 3, 4]] }));
});

afterAll(async () => {
  if (!dir) return;
  await runCli(['destroy', '--target', 'local', '--yes'], { cwd: dir });
  await rm(dir, { recursive: true, force: true });
});

describe('logs --target local', { timeout: 180_000 }, () => {
  it('says NOT_DEPLOYED before the first deploy', async () => {
    const run = await runCli(['logs', '--target', 'local'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/NOT_DEPLOYED: Target 'local' \(stage dev\) has no logs: it was never deployed on this machine .*Run `deploy-model deploy --target local` first/);
  });

  it("prints the daemon's lines and the function's START, END and REPORT lines, oldest first; --json gives JSON Lines", async () => {
    // GIVEN a deployed local target, invoked once after its smoke test
    const deploy = await runCli(['deploy', '--target', 'local'], { cwd: dir });
    expect(deploy.code, deploy.stderr).toBe(0);
    const invoke = await runCli(['invoke', '--target', 'local', '--input', input], { cwd: dir });
    expect(invoke.code, invoke.stderr).toBe(0);

    // WHEN
    const json = await runCli(['logs', '--target', 'local', '--json'], { cwd: dir });
    const text = await runCli(['logs', '--target', 'local'], { cwd: dir });

    // THEN every line has a time, a source and a message, in time order
    expect(json.code, json.stderr).toBe(0);
    const lines = jsonLines(json);
    const times = lines.map((l) => l.time);
    expect(times).toEqual([...times].sort());
    expect(lines.filter((l) => l.source === 'daemon').map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^version [0-9a-f]{12} now serves http:\/\/127\.0\.0\.1:\d+$/)]));
    const fn = lines.filter((l) => l.source !== 'daemon');
    expect(new Set(fn.map((l) => l.source)).size).toBe(1);
    expect(fn[0]!.source).toMatch(/^[0-9a-f]{12}$/);
    expect(fn.map((l) => l.message.split(' ')[0])).toEqual(expect.arrayContaining(['INIT_START', 'START', 'END', 'REPORT']));
    // two smoke requests (and the warmup) and the invoke: at least three REPORT lines
    expect(fn.filter((l) => l.message.startsWith('REPORT RequestId: ')).length).toBeGreaterThanOrEqual(3);
    // the text form: TIME  SOURCE  MESSAGE, the same lines
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trimEnd().split('\n')).toEqual(lines.map((l) => [l.time, l.source, l.message].filter(Boolean).join('  ')));
  });

  it('--since keeps the lines written from then on', async () => {
    const all = jsonLines(await runCli(['logs', '--target', 'local', '--json'], { cwd: dir }));
    // GIVEN the time of the last REPORT line, the invoke's
    const last = all.filter((l) => l.message.startsWith('REPORT')).at(-1)!;
    // WHEN reading from that time on
    const run = await runCli(['logs', '--target', 'local', '--json', '--since', last.time], { cwd: dir });
    // THEN only the lines of that time or later come
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run);
    expect(lines).toEqual(all.filter((l) => l.time >= last.time));
    expect(lines.length).toBeLessThan(all.length);
    // AND a duration counts back from now
    expect(jsonLines(await runCli(['logs', '--target', 'local', '--json', '--since', '1h'], { cwd: dir }))).toEqual(all);
  });

  it('--follow prints what the function writes next, until Ctrl-C, and exits 0', async () => {
    // WHEN following from now, and the target is invoked
    const lines = await followWhile(['logs', '--target', 'local'], {}, async () => {
      const invoke = await runCli(['invoke', '--target', 'local', '--input', input], { cwd: dir });
      expect(invoke.code, invoke.stderr).toBe(0);
    });
    // THEN it printed that invoke's START, END and REPORT, and Ctrl-C ended it cleanly
    expect(lines.map((l) => l.message.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);
  });

  it('refuses a --since it cannot read, or in the future, as a usage error before reading the config', async () => {
    const words = await runCli(['logs', '--target', 'local', '--since', 'yesterday', '--config', 'missing.config.mjs'], { cwd: dir });
    expect(words.code).toBe(2);
    expect(words.stderr).toContain('LOGS_SINCE_INVALID: --since "yesterday" is neither a duration nor an ISO time. Fix: use a number and a unit (30s, 10m, 2h, 1d, 1w)');
    const future = await runCli(['logs', '--target', 'local', '--since', '2999-01-01T00:00:00Z'], { cwd: dir });
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('LOGS_SINCE_INVALID: --since 2999-01-01T00:00:00Z is in the future');
  });

  it('refuses an unknown target, naming the ones the config has', async () => {
    const run = await runCli(['logs', '--target', 'nope'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nope/);
    expect(run.stderr).toMatch(/local/);
  });
});

describe('logs of the targets whose logs deploy-model does not read: where they are, with the commands', { timeout: 120_000 }, () => {
  const cases: Array<[target: string, where: RegExp, command: RegExp]> = [
    ['image', /which are where its image runs: a deploy runs the image on this machine only for the smoke test/, /^kubectl logs -l app\.kubernetes\.io\/name=adder /],
    ['site', /which are not kept: the site is static files in S3 behind CloudFront/, /^$/],
    ['app', /which are on the devices that run the app/, /^adb logcat/],
  ];

  it.each(cases)('%s: TARGET_ACTION_UNAVAILABLE (exit 2), with no credentials and no network', async (target, where, command) => {
    // WHEN no cloud credential or endpoint is set at all
    const bare = Object.fromEntries(Object.keys(process.env).filter((k) => /^(AWS_|GOOGLE_|AZURE_|CLOUDSDK_)/.test(k)).map((k) => [k, undefined]));
    const run = await runCli(['logs', '--target', target, '--json'], { cwd: dir, env: { ...bare, HOME: dir } });
    // THEN the error says where the logs are, and --json carries the same in its details
    expect(run.code).toBe(2);
    const { error } = run.json<{ error: { code: string; message: string; details: { where: string; commands: string[] } } }>();
    expect(error.code).toBe('TARGET_ACTION_UNAVAILABLE');
    expect(error.message).toMatch(new RegExp(`^Target '${target}' \\([a-z-]+\\): deploy-model does not read its logs, `));
    expect(error.message).toMatch(where);
    const commands = error.details.commands;
    expect(commands.some((c) => command.test(c)) || (commands.length === 0 && command.test(''))).toBe(true);
  });
});

describe("logs --target NAME of a web target on host 'local'", { timeout: 120_000 }, () => {
  it("prints the local web server's own lines", async () => {
    // GIVEN the target's local web server started as its deploy starts it (a one-page release)
    const release = path.join(dir, 'release');
    await mkdir(path.join(release, 'site'), { recursive: true });
    await writeFile(path.join(release, 'site', 'index.html'), '<!doctype html><title>adder</title>\n');
    await writeFile(path.join(release, SERVE_FILE), JSON.stringify({ files: [{ path: 'index.html', headers: {} }], siteHeaders: {} }));
    const stateDir = path.join(dir, '.deploy-model', 'state');
    const site = await startLocalSite({ outDir: release, version: 'v1', stateDir, key: 'adder-dev-www' });
    try {
      // WHEN
      const run = await runCli(['logs', '--target', 'www', '--json'], { cwd: dir });
      // THEN
      expect(run.code, run.stderr).toBe(0);
      expect(jsonLines(run).map((l) => [l.source, l.message])).toEqual([['server', `serving version v1 from ${path.join(release, 'site')} at ${site.url}`]]);
    } finally {
      await stopLocalSite(stateDir, 'adder-dev-www');
    }
  });
});

describe('logs of the AWS targets: CloudWatch Logs on the AWS fake', { timeout: 240_000 }, () => {
  let fake: AwsFake;
  let restoreEnv: () => void;
  /** Variables of the developer's shell that would point the CLI elsewhere than the fake. */
  const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', 'AWS_ENDPOINT_URL_SAGEMAKER'].map((k) => [k, undefined]));
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 180_000 });

  /** An output of the deployed aws-lambda target's stack. */
  async function stackOutput(key: string): Promise<string> {
    const cfn = new CloudFormationClient({});
    try {
      const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: 'adder-dev-lambda' }))).Stacks!;
      return stack!.Outputs!.find((o) => o.OutputKey === key)!.OutputValue!;
    } finally {
      cfn.destroy();
    }
  }

  beforeAll(async () => {
    fake = await startAwsFake({ functionRunner: localFunctionRunner() });
    restoreEnv = fake.applyEnv();
    fake.bootstrap();
  });

  afterAll(async () => {
    restoreEnv?.();
    await fake?.stop();
  });

  it("aws-lambda: NOT_DEPLOYED before the stack exists, then the function's lines from its log group, one stream per environment", async () => {
    const before = await cli(['logs', '--target', 'lambda']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/NOT_DEPLOYED: Target 'lambda' \(stage dev\) has no function whose logs to read: stack adder-dev-lambda does not exist in us-east-1/);

    // GIVEN the target deployed (its smoke test invokes the new version)
    const deploy = await cli(['deploy', '--target', 'lambda']);
    expect(deploy.code, deploy.stderr).toBe(0);

    // WHEN
    const from = fake.calls.length;
    const run = await cli(['logs', '--target', 'lambda', '--json']);

    // THEN the lines come from the stack's log group through FilterLogEvents, from an hour ago on
    expect(run.code, run.stderr).toBe(0);
    const reads = fake.calls.slice(from).filter((c) => c.service === 'logs');
    expect(reads.map((c) => c.action)).toEqual(['FilterLogEvents']);
    expect(reads[0]!.params.logGroupName).toBe(await stackOutput('LogGroupName'));
    expect(Number(reads[0]!.params.startTime)).toBeGreaterThan(Date.now() - 3_700_000);
    const lines = jsonLines(run);
    // Lambda's stream names: 2024/05/01/[<version>]<32 hex>
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.source).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\d+\][0-9a-f]{32}$/);
    expect(lines.map((l) => l.message.split(' ')[0])).toEqual(expect.arrayContaining(['START', 'END', 'REPORT']));
    // CloudWatch keeps each line's newline; the output does not double it
    expect(lines.every((l) => !l.message.endsWith('\n'))).toBe(true);
  });

  it('aws-lambda --follow: the lines of an invoke made while it follows, each once, until Ctrl-C', async () => {
    const lambda = new LambdaClient({});
    try {
      const lines = await followWhile(['logs', '--target', 'lambda'], { ...CLEARED, ...fake.env }, async () => {
        const r = await lambda.send(new InvokeCommand({
          FunctionName: await stackOutput('FunctionName'), Qualifier: 'live',
          Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] })),
        }));
        expect(r.FunctionError).toBeUndefined();
      });
      expect(lines.map((l) => l.message.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);
      // one request's three lines
      expect(new Set(lines.map((l) => /RequestId: ([0-9a-f-]+)/.exec(l.message)?.[1])).size).toBe(1);
    } finally {
      lambda.destroy();
    }
  });

  it("aws-lambda after destroy: the log group CloudFormation kept (DeletionPolicy Retain) stays readable", async () => {
    // GIVEN the lines read while the stack exists
    const before = jsonLines(await cli(['logs', '--target', 'lambda', '--json']));
    const group = await stackOutput('LogGroupName');

    // WHEN the target is destroyed
    const destroy = await cli(['destroy', '--target', 'lambda', '--yes']);
    expect(destroy.code, destroy.stderr).toBe(0);
    const after = await cli(['logs', '--target', 'lambda', '--json', '--verbose']);

    // THEN the same lines come from the same group, found through the deleted stack's events
    expect(after.code, after.stderr).toBe(0);
    expect(jsonLines(after)).toEqual(before);
    expect(after.stderr).toContain(`CloudWatch Logs group ${group} in us-east-1, kept after stack adder-dev-lambda was deleted`);
  });

  it("aws-sagemaker: NOT_DEPLOYED before anything exists, then what the endpoint's instances print, also after destroy", async () => {
    const before = await cli(['logs', '--target', 'sm']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/NOT_DEPLOYED: Target 'sm' \(stage dev\) has no logs: there is no stack adder-dev-sm and no log group \/aws\/sagemaker\/Endpoints\/adder-dev-sm in us-east-1/);

    // GIVEN the target deployed: the fake's SageMaker serves the endpoint from the Triton archive
    const deploy = await cli(['deploy', '--target', 'sm']);
    expect(deploy.code, deploy.stderr).toBe(0);

    // WHEN / THEN its container's lines, one stream per instance (`<variant>/i-<17 hex>`)
    const run = await cli(['logs', '--target', 'sm', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run);
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^I0000 model 'adder' is READY \(endpoint config /)]));
    for (const l of lines) expect(l.source).toMatch(/^AllTraffic\/i-[0-9a-f]{17}$/);

    // WHEN the target is destroyed THEN its logs stay readable
    const destroy = await cli(['destroy', '--target', 'sm', '--yes']);
    expect(destroy.code, destroy.stderr).toBe(0);
    const after = await cli(['logs', '--target', 'sm', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(jsonLines(after)).toEqual(lines);
  });

  it('aws-sagemaker --since reads back as far as asked: an event older than the default hour', async () => {
    // GIVEN an event written two hours ago to the endpoint's group
    const logs = new CloudWatchLogsClient({});
    try {
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/sagemaker/Endpoints/adder-dev-sm', logStreamName: 'AllTraffic/i-0123456789abcdef0' }));
      await logs.send(new PutLogEventsCommand({
        logGroupName: '/aws/sagemaker/Endpoints/adder-dev-sm', logStreamName: 'AllTraffic/i-0123456789abcdef0',
        logEvents: [{ timestamp: Date.now() - 7_200_000, message: 'two hours ago' }],
      }));
    } finally {
      logs.destroy();
    }
    // WHEN / THEN the default hour leaves it out, --since 3h has it first
    const hour = jsonLines(await cli(['logs', '--target', 'sm', '--json']));
    const three = jsonLines(await cli(['logs', '--target', 'sm', '--json', '--since', '3h']));
    expect(hour.map((l) => l.message)).not.toContain('two hours ago');
    expect(three.map((l) => [l.source, l.message])[0]).toEqual(['AllTraffic/i-0123456789abcdef0', 'two hours ago']);
    expect(three.slice(1)).toEqual(hour);
  });
});

describe("logs of azure-ml: the deployments' container logs on the Azure fake", { timeout: 240_000 }, () => {
  let fake: AzureFake;
  /** Variables of the developer's shell that would point the CLI elsewhere than the fake. */
  const CLEARED = Object.fromEntries(['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'DEPLOY_MODEL_AZURE_ARM_ENDPOINT', 'DEPLOY_MODEL_AZURE_BLOB_ENDPOINT'].map((k) => [k, undefined]));
  const env = () => ({ ...CLEARED, ...fake.env });
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: env(), timeoutMs: 180_000 });
  /** What the fake's `blue` deployment's Triton container printed, one line each. */
  const inferenceServer = () => fake.state.deployments.get('adder-dev-azure')!.get('blue')!.logs.InferenceServer;

  beforeAll(async () => {
    fake = await startAzureFake();
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it("NOT_DEPLOYED before the endpoint exists, then what the deployment's Triton container printed, through getLogs", async () => {
    const before = await cli(['logs', '--target', 'azure']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/NOT_DEPLOYED: Target 'azure' \(stage dev\) has no deployment taking traffic on online endpoint adder-dev-azure \(workspace mlws\)/);

    // GIVEN the target deployed: the fake serves deployment `blue` from the uploaded repository
    const deploy = await cli(['deploy', '--target', 'azure']);
    expect(deploy.code, deploy.stderr).toBe(0);

    // WHEN
    const from = fake.requests.length;
    const json = await cli(['logs', '--target', 'azure', '--json']);
    const text = await cli(['logs', '--target', 'azure']);

    // THEN the lines come from getLogs on the endpoint's deployment, its inference server's, with their own times
    expect(json.code, json.stderr).toBe(0);
    const reads = fake.requests.slice(from).filter((r) => r.path.endsWith('/getLogs'));
    expect(reads[0]).toMatchObject({ method: 'POST', path: expect.stringMatching(/\/onlineEndpoints\/adder-dev-azure\/deployments\/blue\/getLogs$/), body: { containerType: 'InferenceServer', tail: 5000 }, status: 200 });
    const lines = jsonLines(json);
    expect(lines.map((l) => [l.source, l.message])).toEqual(inferenceServer().map((l) => ['blue', l.slice(l.indexOf(' ') + 1)]));
    expect(lines.map((l) => l.time)).toEqual(inferenceServer().map((l) => l.slice(0, l.indexOf(' '))));
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(["I successfully loaded 'adder' version 1"]));
    // the text form: TIME  SOURCE  MESSAGE, the same lines
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trimEnd().split('\n')).toEqual(lines.map((l) => [l.time, l.source, l.message].join('  ')));
  });

  it('--since: the default hour leaves out older lines, --since 3h has them, an ISO time keeps what came from then on', async () => {
    // GIVEN the container printed a line two hours ago, before the others
    inferenceServer().unshift(`${new Date(Date.now() - 7_200_000).toISOString()} I two hours ago`);
    // WHEN / THEN
    const hour = jsonLines(await cli(['logs', '--target', 'azure', '--json']));
    const three = jsonLines(await cli(['logs', '--target', 'azure', '--json', '--since', '3h']));
    expect(hour.map((l) => l.message)).not.toContain('I two hours ago');
    expect(three[0]!.message).toBe('I two hours ago');
    expect(three.slice(1)).toEqual(hour);
    // AND an ISO time keeps the lines of that time or later
    const old = three[0]!.time;
    expect(jsonLines(await cli(['logs', '--target', 'azure', '--json', '--since', old]))).toEqual(three);
    const after = new Date(new Date(old).getTime() + 1).toISOString();
    expect(jsonLines(await cli(['logs', '--target', 'azure', '--json', '--since', after]))).toEqual(hour);
  });

  it('--follow prints what the container prints next, once, until Ctrl-C', async () => {
    const lines = await followWhile(['logs', '--target', 'azure'], env(), async () => {
      // Give the child time for its first read, then the container prints two lines.
      await new Promise((r) => setTimeout(r, 3000));
      inferenceServer().push(`${new Date().toISOString()} I first line while following`, `${new Date().toISOString()} I second line while following`);
    }, /second line while following/);
    // a line printed while following comes once, though every poll reads the whole tail again
    expect(lines.map((l) => [l.source, l.message])).toEqual([['blue', 'I first line while following'], ['blue', 'I second line while following']]);
  });
});

describe('logs of gcp-vertex: Cloud Logging entries:list on the Vertex fake', { timeout: 240_000 }, () => {
  let fake: VertexFake;
  const CLEARED = Object.fromEntries(['GOOGLE_APPLICATION_CREDENTIALS', 'DEPLOY_MODEL_VERTEX_ENDPOINT', 'DEPLOY_MODEL_GCS_ENDPOINT', 'DEPLOY_MODEL_LOGGING_ENDPOINT'].map((k) => [k, undefined]));
  const env = () => ({ ...CLEARED, ...fake.env });
  const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: env(), timeoutMs: 180_000 });
  /** Where the fake's deployed model runs: its endpoint's id and location, and the deployed model's id. */
  const deployed = () => {
    const endpoint = [...fake.state.endpoints.values()].find((e) => e.displayName === 'adder-dev-vertex')!;
    return { projectNumber: fake.state.projectNumber, location: 'us-central1', endpointId: endpoint.name.split('/').pop()!, deployedModelId: endpoint.deployedModels[0]!.id };
  };

  beforeAll(async () => {
    fake = await startVertexFake();
    fake.gcs.createBucket('my-staging');
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it("NOT_DEPLOYED before the endpoint exists, then what the deployed model's container printed, oldest first", async () => {
    const before = await cli(['logs', '--target', 'vertex']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/NOT_DEPLOYED: Target 'vertex' \(stage dev\) has no model serving on Vertex AI \(endpoint 'adder-dev-vertex' in my-project\/us-central1\)/);

    // GIVEN the target deployed: the fake's Vertex AI started the model's container, whose lines Cloud Logging keeps
    const deploy = await cli(['deploy', '--target', 'vertex']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const { endpointId, deployedModelId } = deployed();

    // WHEN
    const from = fake.logging.requests.length;
    const json = await cli(['logs', '--target', 'vertex', '--json']);
    const text = await cli(['logs', '--target', 'vertex']);

    // THEN one entries:list in the project, filtered on the endpoint, from an hour ago, oldest first
    expect(json.code, json.stderr).toBe(0);
    const request = fake.logging.requests[from]!;
    expect(request).toMatchObject({ resourceNames: ['projects/my-project'], orderBy: 'timestamp asc', pageSize: 1000 });
    const m = /^resource\.type="aiplatform\.googleapis\.com\/Endpoint" AND resource\.labels\.endpoint_id="(\d+)" AND timestamp>="(.+)"$/.exec(request.filter);
    expect(m?.[1]).toBe(endpointId);
    expect(Date.parse(m![2]!)).toBeGreaterThan(Date.now() - 3_700_000);
    // the entries of the endpoint's container, each with its time, the deployed model its source
    const entries = fake.logging.entries.filter((e) => e.resource.labels.endpoint_id === endpointId);
    const lines = jsonLines(json);
    expect(lines).toEqual(entries.map((e) => ({ time: e.timestamp, source: e.labels.deployed_model_id, message: e.textPayload })));
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^I Started HTTPService at 0\.0\.0\.0:\d+$/)]));
    expect(new Set(lines.map((l) => l.source))).toEqual(new Set([deployedModelId]));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trimEnd().split('\n')).toEqual(lines.map((l) => [l.time, l.source, l.message].join('  ')));
  });

  it('--since reads back as far as asked, page after page', async () => {
    // GIVEN 1,500 lines the container printed two hours ago: two pages of entries:list
    const at = deployed();
    const old = Date.now() - 7_200_000;
    for (let i = 0; i < 1500; i++) fake.logging.print(at, `I old line ${i}`, new Date(old + i));
    // WHEN / THEN the default hour leaves them out, --since 3h has them first, in order
    const hour = jsonLines(await cli(['logs', '--target', 'vertex', '--json']));
    const from = fake.logging.requests.length;
    const three = jsonLines(await cli(['logs', '--target', 'vertex', '--json', '--since', '3h']));
    expect(fake.logging.requests.slice(from).map((r) => Boolean(r.pageToken))).toEqual([false, true]);
    expect(hour.some((l) => l.message.startsWith('I old line'))).toBe(false);
    expect(three.slice(0, 1500).map((l) => l.message)).toEqual(Array.from({ length: 1500 }, (_, i) => `I old line ${i}`));
    expect(three.slice(1500)).toEqual(hour);
  });

  it('--follow prints what the container prints next, once, until Ctrl-C', async () => {
    const lines = await followWhile(['logs', '--target', 'vertex'], env(), async () => {
      await new Promise((r) => setTimeout(r, 3000));
      fake.logging.print(deployed(), 'I first line while following');
      fake.logging.print(deployed(), 'W second line while following');
    }, /second line while following/);
    expect(lines.map((l) => l.message)).toEqual(['I first line while following', 'W second line while following']);
  });
});
