/**
 * `deploy-model permissions` as a user runs it: one document per --format, the trust for GitHub and
 * GitLab, coded errors with the fix for bad input, and a generator for every registered target type.
 * That the documents cover the calls each driver makes is checked against the fakes in
 * permissions-aws, permissions-gcp and permissions-azure.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployModelError } from '../../src/errors.js';
import {
  awsPolicyAllows, azureRoleAllows, PERMISSION_TARGET_TYPES, targetPermissions, wildcardMatches, resolveCiIdentity, resolveCloudIds,
  type AwsPolicyDocument, type AzureRoleDefinition,
} from '../../src/permissions/index.js';
import { KNOWN_TARGET_TYPES } from '../../src/targets/registry.js';
import type { TargetPlanBase } from '../../src/targets/target-module.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { runCli } from '../_helpers/run-cli.js';

const TARGETS = {
  local: { type: 'local' },
  lambda: { type: 'aws-lambda', region: 'eu-west-1' },
  sagemaker: { type: 'aws-sagemaker', region: 'eu-west-1', instanceType: 'ml.g5.xlarge' },
  vertex: { type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4', image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://my-staging/models' },
  azure: { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3', authMode: 'aml_token' },
  image: { type: 'container', push: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adder' },
};

let dir: string;
const cli = (...args: string[]) => runCli(['permissions', ...args], { cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-permissions-cli-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'adder', model: { path: './model.onnx' }, targets: ${JSON.stringify(TARGETS)} };\n`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('deploy-model permissions prints each target\'s documents', { timeout: 120_000 }, () => {
  it('aws-lambda: the IAM policy and the GitHub trust policy, named from the plan', async () => {
    // WHEN
    const [policyRun, trustRun, text] = await Promise.all([
      cli('--target', 'lambda', '--format', 'policy', '--account', '123456789012'),
      cli('--target', 'lambda', '--format', 'trust', '--account', '123456789012', '--repo', 'acme/ocr', '--pull-requests'),
      cli('--target', 'lambda', '--repo', 'acme/ocr'),
    ]);
    // THEN
    expect(policyRun.code, policyRun.stderr).toBe(0);
    const policy = JSON.parse(policyRun.stdout) as AwsPolicyDocument;
    expect(awsPolicyAllows(policy, 'sts:AssumeRole', 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1').allowed).toBe(true);
    expect(awsPolicyAllows(policy, 'sts:AssumeRole', 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1').allowed).toBe(false);
    expect(awsPolicyAllows(policy, 'cloudformation:DescribeStacks', 'arn:aws:cloudformation:eu-west-1:123456789012:stack/adder-dev-lambda/1').allowed).toBe(true);
    expect(awsPolicyAllows(policy, 'cloudformation:DescribeStacks', 'arn:aws:cloudformation:eu-west-1:123456789012:stack/adder-prod-lambda/1').allowed).toBe(false);
    expect(awsPolicyAllows(policy, 'cloudformation:ExecuteChangeSet').allowed).toBe(false);
    expect(awsPolicyAllows(policy, 'lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:x:7')).toEqual({ allowed: true, statement: 'InvokeForSmokeTest', conditional: true });
    expect(policy.Statement.find((s) => s.Sid === 'InvokeForSmokeTest')!.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/deploy-model:name': 'adder', 'aws:ResourceTag/deploy-model:stage': 'dev', 'aws:ResourceTag/deploy-model:target': 'lambda' },
    });
    expect(trustRun.code, trustRun.stderr).toBe(0);
    expect(JSON.parse(trustRun.stdout).Statement).toEqual([{
      Sid: 'GitHubActions', Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': ['repo:acme/ocr:ref:refs/heads/main', 'repo:acme/ocr:pull_request'],
      } },
    }]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('lambda (aws-lambda)');
    expect(text.stdout).toMatch(/cfn-exec-role-ACCOUNT_ID-eu-west-1/);
    expect(text.stdout).toContain('Replace ACCOUNT_ID (or pass --account)');
    expect(text.stdout).toContain('aws iam create-role --role-name deploy-model-adder-dev-lambda --assume-role-policy-document file://trust-policy.json');
  });

  it('aws-sagemaker: GitLab trust, merge requests matched by a pattern, a self-managed instance', async () => {
    const run = await cli('--target', 'sagemaker', '--format', 'trust', '--ci-provider', 'gitlab', '--repo', 'acme/ml/ocr', '--pull-requests', '--gitlab-url', 'https://gitlab.example.com', '--account', '123456789012');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).Statement[0]).toMatchObject({
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com' },
      Condition: { StringEquals: { 'gitlab.example.com:aud': 'https://gitlab.example.com' }, StringLike: { 'gitlab.example.com:sub': 'project_path:acme/ml/ocr:ref_type:branch:ref:*' } },
    });
    const policy = JSON.parse((await cli('--target', 'sagemaker', '--format', 'policy')).stdout) as AwsPolicyDocument;
    expect(awsPolicyAllows(policy, 'sagemaker:InvokeEndpoint', 'arn:aws:sagemaker:eu-west-1:ACCOUNT_ID:endpoint/adder-dev-sagemaker').allowed).toBe(true);
    expect(awsPolicyAllows(policy, 'sagemaker:InvokeEndpoint', 'arn:aws:sagemaker:eu-west-1:ACCOUNT_ID:endpoint/other').allowed).toBe(false);
  });

  it('gcp-vertex: the custom roles as gcloud takes them, and Workload Identity Federation for the repository', async () => {
    const [role, trust, setup] = await Promise.all([
      cli('--target', 'vertex', '--format', 'policy'),
      cli('--target', 'vertex', '--format', 'trust', '--repo', 'acme/ocr', '--project-number', '42'),
      cli('--target', 'vertex', '--format', 'setup', '--ci-provider', 'gitlab', '--repo', 'acme/ml/ocr'),
    ]);
    expect(role.code, role.stderr).toBe(0);
    expect(parseYaml(role.stdout)).toMatchObject({ title: 'deploy-model Vertex AI', stage: 'GA', includedPermissions: expect.arrayContaining(['aiplatform.endpoints.deploy', 'aiplatform.models.upload']) });
    expect(JSON.parse(trust.stdout)).toMatchObject({
      workloadIdentityProvider: 'projects/42/locations/global/workloadIdentityPools/deploy-model-ci/providers/github',
      issuerUri: 'https://token.actions.githubusercontent.com',
      attributeCondition: "assertion.repository=='acme/ocr' && assertion.ref=='refs/heads/main'",
      serviceAccount: 'deploy-model-ci@my-project.iam.gserviceaccount.com',
      member: 'principalSet://iam.googleapis.com/projects/42/locations/global/workloadIdentityPools/deploy-model-ci/attribute.repository/acme/ocr',
    });
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout).toContain('gcloud storage buckets add-iam-policy-binding gs://my-staging ');
    expect(setup.stdout).toContain("--issuer-uri=\"https://gitlab.com\"");
    expect(setup.stdout).toContain("--attribute-condition=\"assertion.project_path=='acme/ml/ocr' && assertion.ref_type=='branch' && assertion.ref=='main'\"");
  });

  it('azure-ml: the custom role (token auth: token/action, no listKeys) and the federated credentials', async () => {
    const [role, trust] = await Promise.all([
      cli('--target', 'azure', '--format', 'policy'),
      cli('--target', 'azure', '--format', 'trust', '--repo', 'acme/ocr', '--branch', 'release', '--pull-requests'),
    ]);
    const definition = JSON.parse(role.stdout) as AzureRoleDefinition;
    expect(definition).toMatchObject({ Name: 'deploy-model adder-dev-azure', IsCustom: true, AssignableScopes: ['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg'] });
    expect(azureRoleAllows(definition, 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/token/action')).toBe(true);
    expect(azureRoleAllows(definition, 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action')).toBe(false);
    expect(azureRoleAllows(definition, 'Microsoft.MachineLearningServices/workspaces/write')).toBe(false);
    expect(azureRoleAllows(definition, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', { data: true })).toBe(true);
    expect(JSON.parse(trust.stdout)).toEqual([
      { name: 'deploy-model-github-release', issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/ocr:ref:refs/heads/release', audiences: ['api://AzureADTokenExchange'], description: 'Pipelines of acme/ocr on release' },
      { name: 'deploy-model-github-pull-requests', issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/ocr:pull_request', audiences: ['api://AzureADTokenExchange'], description: 'Pull requests of acme/ocr' },
    ]);
  });

  it('local and container need no cloud identity; container names the registry login', async () => {
    const run = await cli('--target', 'local', '--target', 'image', '--json');
    expect(run.code, run.stderr).toBe(0);
    const [local, image] = run.json().targets;
    expect(local).toMatchObject({ type: 'local', cloud: 'none', documents: [], setup: [] });
    expect(image).toMatchObject({ type: 'container', cloud: 'none', documents: [], setup: [expect.stringMatching(/^docker login 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com /)] });
    expect(image.notes[0]).toContain('aws ecr get-login-password --region eu-west-1');
  });
});

describe('bad input is a coded error that says the fix', { timeout: 120_000 }, () => {
  it('a missing or unknown target, an option out of shape, a format the target has not', async () => {
    const runs = await Promise.all([
      cli('--json'),
      cli('--target', 'nope', '--json'),
      cli('--target', 'lambda', '--ci-provider', 'bitbucket', '--json'),
      cli('--target', 'lambda', '--repo', 'just-a-name', '--json'),
      cli('--target', 'lambda', '--account', '1234', '--json'),
      cli('--target', 'vertex', '--project-number', 'my-project', '--json'),
      cli('--target', 'lambda', '--branch', 'release/*', '--json'),
      cli('--target', 'lambda', '--format', 'bucket-role'),
      cli('--target', 'local', '--format', 'policy'),
      cli('--target', 'lambda', '--target', 'sagemaker', '--format', 'policy'),
    ]);
    const errors = runs.map((r) => ({ code: r.code, error: r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout).error.code : /error (\w+)/.exec(r.stderr)?.[1] }));
    expect(errors).toEqual([
      { code: 2, error: 'PERMISSIONS_TARGET_REQUIRED' },
      { code: 2, error: 'TARGET_UNKNOWN' },
      { code: 2, error: 'PERMISSIONS_OPTION_INVALID' },
      { code: 2, error: 'PERMISSIONS_OPTION_INVALID' },
      { code: 2, error: 'PERMISSIONS_OPTION_INVALID' },
      { code: 2, error: 'PERMISSIONS_OPTION_INVALID' },
      { code: 2, error: 'PERMISSIONS_OPTION_INVALID' },
      { code: 2, error: 'PERMISSIONS_FORMAT_UNKNOWN' },
      { code: 2, error: 'PERMISSIONS_NONE' },
      { code: 2, error: 'PERMISSIONS_ONE_TARGET' },
    ]);
    expect(runs[0]!.json().error.message).toContain('Fix: pass one of --target local, --target lambda, --target sagemaker, --target vertex, --target azure, --target image');
    expect(runs[3]!.json().error.message).toContain('Fix: pass --repo OWNER/REPO');
    expect(runs[7]!.stderr).toContain('Fix: pass one of text, json, setup, policy, trust');
    expect(runs[8]!.stderr).toMatch(/needs no cloud permissions.*Fix: run `deploy-model permissions --target local` without --format/s);
  });

  it('a target type permissions does not cover is refused with PERMISSIONS_UNSUPPORTED', async () => {
    const plan = { type: 'edge-tpu', targetName: 'coral', stage: 'dev', resourceName: 'adder-dev-coral' } as TargetPlanBase;
    const options = { identity: resolveCiIdentity({}), ids: resolveCloudIds({}), stage: 'dev' };
    await expect(targetPermissions(plan, options)).rejects.toThrow(DeployModelError);
    await expect(targetPermissions(plan, options)).rejects.toMatchObject({ code: 'PERMISSIONS_UNSUPPORTED', message: expect.stringContaining('Fix: ') });
  });

  it('--help says what it prints, for which targets, with examples', async () => {
    const run = await cli('--help');
    expect(run.code).toBe(0);
    for (const text of ['--target <name>', '--format <format>', '--ci-provider <provider>', '--repo <path>', '--branch <name>', '--pull-requests', '--account <id>', '--project-number <number>', 'Examples:', 'docs/ci.md']) {
      expect(run.stdout).toContain(text);
    }
  });
});

describe('the generators and the evaluator', () => {
  it('every registered target type has a permissions generator', () => {
    expect(KNOWN_TARGET_TYPES.filter((t) => !PERMISSION_TARGET_TYPES.includes(t))).toEqual([]);
  });

  it('IAM wildcards: * and ? in actions (any case) and resources (exact case); Deny wins', () => {
    expect(wildcardMatches('cloudformation:Describe*', 'cloudformation:describestacks', { ignoreCase: true })).toBe(true);
    expect(wildcardMatches('arn:aws:s3:::b/?', 'arn:aws:s3:::b/x')).toBe(true);
    expect(wildcardMatches('arn:aws:s3:::b/?', 'arn:aws:s3:::b/xy')).toBe(false);
    expect(wildcardMatches('arn:aws:sagemaker:*:*:endpoint/a', 'arn:aws:sagemaker:r:1:endpoint/A')).toBe(false);
    const policy: AwsPolicyDocument = { Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Sid: 'NoDelete', Effect: 'Deny', Action: 's3:Delete*', Resource: 'arn:aws:s3:::keep/*' },
    ] };
    expect(awsPolicyAllows(policy, 's3:PutObject', 'arn:aws:s3:::keep/a').allowed).toBe(true);
    expect(awsPolicyAllows(policy, 's3:DeleteObject', 'arn:aws:s3:::keep/a')).toEqual({ allowed: false, statement: 'NoDelete' });
    expect(awsPolicyAllows(policy, 's3:DeleteObject', 'arn:aws:s3:::other/a').allowed).toBe(true);
  });

  it('Azure: NotActions and NotDataActions subtract', () => {
    const role: AzureRoleDefinition = { Name: 'r', IsCustom: true, Description: '', AssignableScopes: ['/'], Actions: ['Microsoft.X/things/*'], NotActions: ['Microsoft.X/things/delete'], DataActions: ['Microsoft.X/blobs/*'], NotDataActions: ['Microsoft.X/blobs/delete'] };
    expect(azureRoleAllows(role, 'microsoft.x/things/write')).toBe(true);
    expect(azureRoleAllows(role, 'Microsoft.X/things/delete')).toBe(false);
    expect(azureRoleAllows(role, 'Microsoft.X/blobs/read')).toBe(false);
    expect(azureRoleAllows(role, 'Microsoft.X/blobs/read', { data: true })).toBe(true);
    expect(azureRoleAllows(role, 'Microsoft.X/blobs/delete', { data: true })).toBe(false);
  });
});
