/**
 * The AWS policies `deploy-model permissions` prints cover every call the drivers make with the CI
 * role's own credentials. GIVEN the AWS fake, with an observer that notes which credentials signed
 * each request; WHEN a target goes through the deploy cycle (test/cli/_permissions.ts); THEN each
 * call signed with the CI credentials (not with a bootstrap role's, which toolkit-lib assumes) is
 * allowed by the printed IAM policy, action and resource. A driver that starts calling a new API
 * fails here until src/permissions knows it.
 *
 * What CloudFormation does with the bootstrap's execution role is not the CI role's to hold, so
 * calls signed with an assumed role are only checked to come from an sts:AssumeRole the policy allows.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPolicyAllows, type AwsPolicyDocument, type AwsPolicyStatement } from '../../src/permissions/index.js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { findChromium } from '../../src/targets/web/find-chromium.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { localFunctionRunner, startAwsFake, type AwsFake, type AwsServiceModule, type RecordedCall } from '../emulators/aws/index.js';
import { sageMakerFake } from '../emulators/aws/sagemaker.js';
import { documentOf, printedPermissions, runDeployCycle, writeProject } from './_permissions.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/**
 * Operations whose IAM action has another name (AWS Service Authorization Reference), and those that
 * need no permission: "No permissions are required to perform this operation" (STS GetCallerIdentity).
 */
const IAM_ACTION: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction', 's3:ListObjectsV2': 's3:ListBucket', 's3:HeadObject': 's3:GetObject' };
const NO_PERMISSION = new Set(['sts:GetCallerIdentity']);

/** Actions the policy grants for paths the deploy cycle does not take, and where the code calls them. */
const UNREACHED: Record<string, string> = {
  'cloudformation:CancelUpdateStack': 'src/kits/aws/deploy-stack.ts cancels a stack update that runs past its timeout',
  'cloudformation:DeleteChangeSet': 'src/kits/aws/redeploy-template.ts deletes a change set that failed or had nothing to change',
  'sagemaker:DeleteTags': 'src/targets/aws-sagemaker/restore-previous.ts clears the tag naming the kept config when `deploy-model rollback` uses it; this flow does not roll back',
};

/** The resource ARN an operation acts on, from its parameters; undefined when the parameters do not name one. */
function resourceOf(call: RecordedCall): string | undefined {
  const p = call.params as Record<string, string | undefined>;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (call.service) {
    case 'sts': return p.RoleArn;
    case 'cloudformation': return p.StackName?.startsWith('arn:') ? p.StackName : p.StackName ? arn('cloudformation', `stack/${p.StackName}/00000000-0000-0000-0000-000000000000`) : undefined;
    case 'lambda': {
      if (!p.FunctionName) return undefined;
      const fn = p.FunctionName.startsWith('arn:') ? p.FunctionName : arn('lambda', `function:${p.FunctionName}`);
      return p.Qualifier ? `${fn}:${p.Qualifier}` : fn;
    }
    case 'sagemaker':
      if (p.ResourceArn) return p.ResourceArn;
      if (p.EndpointConfigName && call.action !== 'UpdateEndpoint' && call.action !== 'CreateEndpoint') return arn('sagemaker', `endpoint-config/${p.EndpointConfigName.toLowerCase()}`);
      if (p.EndpointName) return arn('sagemaker', `endpoint/${p.EndpointName.toLowerCase()}`);
      if (p.ModelName) return arn('sagemaker', `model/${p.ModelName.toLowerCase()}`);
      return undefined;
    default: return undefined;
  }
}

/** The CI role's calls that `policy` does not allow, with the IAM action and resource each was checked as. */
function refusedCalls(policy: AwsPolicyDocument, calls: readonly RecordedCall[]): Array<{ call: string; action: string; resource?: string }> {
  return needed(calls).filter((c) => !NO_PERMISSION.has(c.action) && !awsPolicyAllows(policy, c.action, c.resource).allowed);
}

/**
 * The IAM actions the calls need: each call's own, and iam:PassRole on a role a call hands to
 * CloudFormation (`RoleARN`), which IAM checks against the caller.
 */
function needed(calls: readonly RecordedCall[]): Array<{ call: string; action: string; resource?: string }> {
  return calls.flatMap((c) => {
    const call = `${c.service}:${c.action}`;
    const own = { call, action: IAM_ACTION[call] ?? call, resource: resourceOf(c) };
    return c.service === 'cloudformation' && typeof c.params.RoleARN === 'string' ? [own, { call, action: 'iam:PassRole', resource: c.params.RoleARN }] : [own];
  });
}

/** Notes, per index in `fake.calls`, the access key that signed the request (requests are recorded in the order they are routed). */
function signatureObserver(calls: () => RecordedCall[]): { module: AwsServiceModule; keys: Map<number, string | undefined> } {
  const keys = new Map<number, string | undefined>();
  const module: AwsServiceModule = {
    name: 'signature-observer', signingNames: [],
    claims(req) { keys.set(calls().length, req.scope?.accessKeyId); return false; },
    parse() { throw new Error('never routed'); },
    handle() { throw new Error('never routed'); },
    errorReply() { throw new Error('never routed'); },
    throttlingError() { throw new Error('never routed'); },
  };
  return { module, keys };
}

/** The resource types in the synthesised template that a statement's `*` resources stand for. */
const TAGGED_TYPES: Array<[RegExp, string]> = [[/:function:\*$/, 'AWS::Lambda::Function'], [/:endpoint-config\/\*$/, 'AWS::SageMaker::EndpointConfig'], [/:model\/\*$/, 'AWS::SageMaker::Model']];

/** Each tag condition names tags that the resources it stands for carry in the synthesised template. */
function expectTagConditionsHold(policy: AwsPolicyDocument, templateFile: string): void {
  const resources = Object.values(JSON.parse(readFileSync(templateFile, 'utf8')).Resources as Record<string, { Type: string; Properties?: { Tags?: Array<{ Key: string; Value: string }> } }>);
  const conditional = policy.Statement.filter((s: AwsPolicyStatement) => Object.keys(s.Condition?.StringEquals ?? {}).some((k) => k.startsWith('aws:ResourceTag/')));
  for (const statement of conditional) {
    const wanted = Object.entries(statement.Condition!.StringEquals ?? {}).map(([k, v]) => [k.replace(/^aws:ResourceTag\//, ''), v]);
    for (const r of [statement.Resource].flat()) {
      const type = TAGGED_TYPES.find(([re]) => re.test(r!))?.[1];
      expect(type, `a statement scoped by tags on ${r}`).toBeDefined();
      const ofType = resources.filter((res) => res.Type === type);
      expect(ofType.length, `${type} in ${templateFile}`).toBeGreaterThan(0);
      for (const res of ofType) {
        const tags = Object.fromEntries((res.Properties?.Tags ?? []).map((t) => [t.Key, t.Value]));
        for (const [key, value] of wanted) expect(tags[key as string], `${type} tag ${key}`).toBe(value);
      }
    }
  }
}

/** The bootstrap roles the synthesised assembly names, in this account and region. */
function assemblyRoles(dir: string, stack: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'cdk.out', stack, 'manifest.json'), 'utf8'));
  const roles: string[] = [];
  for (const artifact of Object.values(manifest.artifacts) as Array<{ type: string; properties?: Record<string, any> }>) {
    if (artifact.type === 'aws:cloudformation:stack') roles.push(artifact.properties!.assumeRoleArn, artifact.properties!.lookupRole.arn);
    if (artifact.type === 'cdk:asset-manifest') {
      const assets = JSON.parse(readFileSync(path.join(dir, 'cdk.out', stack, artifact.properties!.file), 'utf8'));
      for (const file of Object.values(assets.files ?? {}) as Array<{ destinations: Record<string, { assumeRoleArn: string }> }>) {
        for (const d of Object.values(file.destinations)) roles.push(d.assumeRoleArn);
      }
    }
  }
  return [...new Set(roles)].map((r) => r.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::AccountId}', ACCOUNT).replaceAll('${AWS::Region}', REGION));
}

/**
 * The web site on AWS: the fake has no CloudFront, so the distribution gets a domain on a closed
 * loopback port and every smoke test fails (as in test/targets/web/aws.test.ts), which drives the
 * paths CI meets: a first deploy kept, a later one taken back by deploying the previous template
 * again, status, smoke, diff, destroy.
 */
async function webCycle(dir: string, entry: Record<string, unknown>): Promise<void> {
  const toolkit = new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });
  const load = () => toolkit.load({ cwd: dir });
  await writeProject(dir, entry, 'add');
  expect((await toolkit.deploy(await load())).targets[0]).toMatchObject({ status: 'failed', promoted: true });
  await writeProject(dir, entry, 'unnamed-dim');
  expect((await toolkit.deploy(await load())).targets[0]).toMatchObject({ status: 'failed', promoted: false, details: { restoredVersion: expect.any(String) } });
  const project = await load();
  await toolkit.diff(project);
  expect((await toolkit.status(project))[0]).toMatchObject({ state: 'running' });
  expect((await toolkit.smoke(project)).targets[0]).toMatchObject({ status: 'failed' });
  expect((await toolkit.destroy(project))[0]).toMatchObject({ removed: true });
  expect((await toolkit.destroy(project))[0]).toMatchObject({ removed: false });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Case {
  type: string;
  entry: Record<string, unknown>;
  withSageMaker?: boolean;
  web?: boolean;
  skip?: string;
}

const CASES: Case[] = [
  { type: 'aws-lambda', entry: { type: 'aws-lambda', region: REGION } },
  { type: 'aws-sagemaker', entry: { type: 'aws-sagemaker', region: REGION, instanceType: 'ml.g5.xlarge' }, withSageMaker: true },
  {
    type: 'web (host aws)', entry: { type: 'web', host: 'aws', region: REGION, threads: 2 }, web: true,
    ...(findChromium() ? {} : { skip: 'Chromium is not installed (apt-get install chromium; CI installs it)' }),
  },
];

for (const { type, entry, withSageMaker, web, skip } of CASES) {
  describe.skipIf(skip)(`${type}: the printed IAM policy covers what the CI role calls${skip ? ` (skipped: ${skip})` : ''}`, { timeout: 300_000 }, () => {
    let fake: AwsFake;
    let observer: ReturnType<typeof signatureObserver>;
    let stopSageMaker: (() => Promise<void>) | undefined;
    let restore: () => void;
    let dir: string;

    beforeAll(async () => {
      let calls: RecordedCall[] = [];
      observer = signatureObserver(() => calls);
      const domain = `127.0.0.1:${await closedPort()}`;
      fake = await startAwsFake({
        region: REGION, accountId: ACCOUNT, services: [observer.module],
        ...(withSageMaker || web ? {} : { functionRunner: localFunctionRunner() }),
        // The one attribute the web stack's outputs read of the distribution: where the site would be.
        ...(web ? { provisioners: { 'AWS::CloudFront::Distribution': { async create() { return { physicalId: 'E2EXAMPLE0DIST', attributes: { DomainName: domain } }; } } } } : {}),
      });
      calls = fake.calls;
      fake.bootstrap();
      if (withSageMaker) {
        const sm = sageMakerFake(fake.state);
        stopSageMaker = () => sm.close();
      }
      restore = fake.applyEnv();
      process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
      dir = await mkdtemp(path.join(os.tmpdir(), `dm-permissions-${type}-`));
    }, 120_000);

    afterAll(async () => {
      delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
      restore?.();
      await stopSageMaker?.();
      await fake?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('every call signed with the CI credentials is allowed by the policy, on its resource', async () => {
      // WHEN
      await (web ? webCycle(dir, entry) : runDeployCycle(dir, entry));
      const report = await printedPermissions(dir, ['--account', ACCOUNT, '--repo', 'acme/ocr'], fake.env);
      const policy = documentOf<AwsPolicyDocument>(report, 'policy');

      // THEN
      const ciKey = fake.env.AWS_ACCESS_KEY_ID;
      expect(fake.internalErrors).toEqual([]);
      const own = fake.calls.filter((_, i) => observer.keys.get(i) === ciKey);
      const assumed = fake.calls.filter((_, i) => observer.keys.get(i) !== ciKey);
      expect(own.length).toBeGreaterThan(10);
      // toolkit-lib did deploy through the bootstrap roles, not with the CI credentials.
      expect(assumed.map((c) => `${c.service}:${c.action}`)).toEqual(expect.arrayContaining(['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet']));
      // (The web site's rollback deploys its previous template with the CI role's own credentials.)
      if (!web) expect(own.map((c) => `${c.service}:${c.action}`)).not.toContain('cloudformation:ExecuteChangeSet');
      expect(refusedCalls(policy, own), 'calls the printed policy does not allow').toEqual([]);
      // The resources matter: the policy of another stage refuses this stage's stack and endpoint.
      const other = documentOf<AwsPolicyDocument>(await printedPermissions(dir, ['--account', ACCOUNT, '--stage', 'prod']), 'policy');
      expect(refusedCalls(other, own).map((c) => c.action)).toEqual(expect.arrayContaining(['cloudformation:DescribeStacks', 'cloudformation:DeleteStack', ...(withSageMaker ? ['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint'] : [])]));
      // Least: the cycle calls every action the policy grants, but for paths it cannot reach.
      const used = new Set(needed(own).map((c) => c.action.toLowerCase()));
      const granted = [...new Set(policy.Statement.flatMap((s) => [s.Action].flat()))];
      expect(granted.filter((a) => !used.has(a.toLowerCase()) && !UNREACHED[a]), 'actions no call needed').toEqual([]);
      // Each role toolkit-lib assumed is one the policy lets it assume.
      for (const c of own.filter((x) => x.action === 'AssumeRole')) expect(awsPolicyAllows(policy, 'sts:AssumeRole', String(c.params.RoleArn)).allowed).toBe(true);
      expect(own.some((c) => c.action === 'AssumeRole')).toBe(true);
    });

    it('the policy lets the CI role assume the roles the synthesised assembly names, and its tag conditions hold on the template', async () => {
      const report = await printedPermissions(dir, ['--account', ACCOUNT]);
      const policy = documentOf<AwsPolicyDocument>(report, 'policy');
      const stack = `adder-dev-t`;
      const roles = assemblyRoles(dir, stack);
      expect(roles.length).toBeGreaterThanOrEqual(3);
      for (const role of roles) expect(awsPolicyAllows(policy, 'sts:AssumeRole', role), role).toMatchObject({ allowed: true });
      expectTagConditionsHold(policy, path.join(dir, 'cdk.out', stack, `${stack}.template.json`));
    });
  });
}
