import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaStackArtifacts } from '../../../infra/lambda-target-stack.js';
import type { AwsLambdaPlan, LambdaArtifacts } from '../../../src/targets/aws-lambda/index.js';
import { awsLambdaTargetSchema } from '../../../src/targets/aws-lambda/schema.js';
import { synthChecked } from '../../../src/targets/aws-lambda/synth.js';
import type { AwsSageMakerPlan } from '../../../src/targets/aws-sagemaker/plan.js';
import { synthChecked as synthSageMaker } from '../../../src/targets/aws-sagemaker/synth.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import {
  CFN_LINT_VERIFIED_VERSION, cfnLintMissing, cfnLintVersion, runCfnLint, suppressedBy, type CfnLintFinding, type CfnLintSuppression,
} from './run-cfn-lint.js';

// GIVEN one project with a target per AWS variant, synthesised by `Toolkit.synth` (what
// `deploy-model synth` runs), plus the template a Lambda deploy writes in its first phase (the live
// alias pinned to the version it serves); then one cfn-lint process over every template.

const LAMBDA_REGION = 'eu-west-1';
const SAGEMAKER_REGION = 'us-east-1';
const VPC = { subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroupIds: ['sg-0123456789abcdef0'] };

const TARGETS: Record<string, Record<string, unknown>> = {
  'lambda-x86': { type: 'aws-lambda', region: LAMBDA_REGION },
  'lambda-arm64': { type: 'aws-lambda', region: LAMBDA_REGION, architecture: 'arm64' },
  'lambda-public-url': { type: 'aws-lambda', region: LAMBDA_REGION, url: { auth: 'none' } },
  'lambda-provisioned': { type: 'aws-lambda', region: LAMBDA_REGION, provisionedConcurrency: 2 },
  'lambda-reserved': { type: 'aws-lambda', region: LAMBDA_REGION, reservedConcurrency: 4, provisionedConcurrency: 1 },
  'lambda-weights-s3': { type: 'aws-lambda', region: LAMBDA_REGION, weights: 's3' },
  sagemaker: { type: 'aws-sagemaker', region: SAGEMAKER_REGION, instanceType: 'ml.g5.xlarge' },
  'sagemaker-autoscaling': { type: 'aws-sagemaker', region: SAGEMAKER_REGION, instanceType: 'ml.g5.xlarge', instanceCount: 2, autoscaling: { min: 1, max: 4 } },
  'sagemaker-onnxruntime': { type: 'aws-sagemaker', region: SAGEMAKER_REGION, instanceType: 'ml.g5.xlarge', engine: 'onnxruntime' },
  'sagemaker-vpc': { type: 'aws-sagemaker', region: SAGEMAKER_REGION, instanceType: 'ml.p3.2xlarge', tritonVersion: '24.09', volumeSizeGb: 100, vpc: VPC },
};
/** Stack of the deploy's first phase: the x86 target in its own stage, alias pinned to version 3. */
const PINNED_STACK = 'adder-pinned-lambda-x86';
/** The sagemaker target in its own stage with its model kept in S3: an uncompressed S3Prefix ModelDataSource in the bootstrap bucket. */
const MODEL_IN_S3_STACK = 'adder-s3model-sagemaker';
const MODEL_IN_S3_PREFIX = `deploy-model/triton/${'0'.repeat(64)}/`;

/**
 * Findings of cfn-lint 1.51 that are wrong about our templates. Each names the upstream files that
 * show it; a suppression covers one rule at one path of one resource type, nothing else.
 */
const SUPPRESSIONS: CfnLintSuppression[] = [{
  rule: 'E3002',
  resourceType: 'AWS::ApplicationAutoScaling::ScalableTarget',
  path: 'Properties/Tags',
  reason: "CloudFormation added Tags to AWS::ApplicationAutoScaling::ScalableTarget (Application Auto Scaling tags scalable targets at RegisterScalableTarget), and aws-cdk-lib 2.276's CfnScalableTarget is taggable (aws-applicationautoscaling/lib/applicationautoscaling.generated.d.ts: `cdkTagManager`, `tags`, documented at aws-resource-applicationautoscaling-scalabletarget.html#cfn-applicationautoscaling-scalabletarget-tags), so the stack's tags reach it; cfn-lint 1.51.0 bundles a provider schema of the type without Tags and with additionalProperties false (cfnlint/data/schemas/resources/de001f7e2b117e91.json, used for us-east-1, eu-west-1 and 42 other regions)",
}];

/** Findings that are not defects, with why; the test fails on any other. */
const ACCEPTED = {
  lambdaRoleDependsOn: {
    rule: 'W3005', resourceType: 'AWS::Lambda::Function', path: 'DependsOn/0',
    reason: "aws-cdk-lib's lambda.Function adds a DependsOn on its execution role besides the GetAtt of the role's Arn (aws-lambda/lib/function.ts: `this.resource.node.addDependency(this.role)`): redundant, the order is the same",
  },
  weightsPolicyDependsOn: {
    rule: 'W3005', resourceType: 'AWS::Lambda::Function', path: 'DependsOn/1',
    reason: "the same redundant DependsOn on the execution role as lambdaRoleDependsOn, second in the list: with weights in S3 the role has a policy for them (iam.Role's DefaultPolicy), which the function depends on first",
  },
  weightsJoined: (where: 'policy' | 'environment') => (where === 'policy'
    ? { rule: 'I1022', resourceType: 'AWS::IAM::Policy', path: 'Properties/PolicyDocument/Statement/0/Resource/Fn::Join/0', reason: "the weights object's ARN joins the bootstrap bucket's name (a Fn::Sub) and the asset key: Fn::Join where cfn-lint prefers Fn::Sub, a matter of style" }
    : { rule: 'I1022', resourceType: 'AWS::Lambda::Function', path: 'Properties/Environment/Variables/DM_MODEL_OBJECTS/Fn::Join/0', reason: "DM_MODEL_OBJECTS is JSON naming the bootstrap bucket: Fn::Join where cfn-lint prefers Fn::Sub, a matter of style" }),
  modelSourceJoined: {
    rule: 'I1022', resourceType: 'AWS::SageMaker::Model', path: 'Properties/PrimaryContainer/ModelDataSource/S3DataSource/S3Uri/Fn::Join/0',
    reason: "the S3Prefix URI joins the bootstrap bucket's name (account and region) and the repository's prefix: Fn::Join where cfn-lint prefers Fn::Sub, a matter of style",
  },
  /** An output is no resource: cfn-lint names no type, and the path starts under Outputs/<name>. */
  modelSourceOutputJoined: {
    rule: 'I1022', path: 'Value/Fn::Join/0',
    reason: 'the ModelDataUrl output is the same joined S3Prefix URI',
  },
  joinedArn: (statement: number) => ({
    rule: 'I1022', resourceType: 'AWS::IAM::Role', path: `Properties/Policies/0/PolicyDocument/Statement/${statement}/Resource/Fn::Join/0`,
    reason: "Stack.formatArn writes the model object's and the image repository's ARNs as Fn::Join; cfn-lint prefers Fn::Sub, a matter of style",
  }),
};

const EXPECTED: Record<string, Array<{ rule: string; resourceType?: string; path: string }>> = {
  ...Object.fromEntries(Object.keys(TARGETS).filter((t) => t.startsWith('lambda')).map((t) => [`adder-dev-${t}`, [ACCEPTED.lambdaRoleDependsOn]])),
  [PINNED_STACK]: [ACCEPTED.lambdaRoleDependsOn],
  [MODEL_IN_S3_STACK]: [ACCEPTED.joinedArn(0), ACCEPTED.joinedArn(1), ACCEPTED.joinedArn(2), ACCEPTED.modelSourceJoined, ACCEPTED.modelSourceOutputJoined],
  'adder-dev-lambda-weights-s3': [ACCEPTED.weightsPolicyDependsOn, ACCEPTED.weightsJoined('policy'), ACCEPTED.weightsJoined('environment')],
  ...Object.fromEntries(Object.keys(TARGETS).filter((t) => t.startsWith('sagemaker')).map((t) => [`adder-dev-${t}`, [ACCEPTED.joinedArn(0), ACCEPTED.joinedArn(1)]])),
};

const missing = cfnLintMissing();
let dir: string;
let templates: Record<string, string>;
let findings: CfnLintFinding[];

const stackOf = (f: CfnLintFinding) => path.basename(f.template, '.template.json');
const key = (f: { rule: string; resourceType?: string; path: string }) => `${f.rule} ${f.resourceType} ${f.path}`;
/** The path under the resource, as EXPECTED names it. */
const local = (f: CfnLintFinding) => ({ ...f, path: f.path.split('/').slice(2).join('/') });

beforeAll(async () => {
  if (missing) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-cfn-lint-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'adder', model: { path: './model.onnx' }, targets: TARGETS })};\n`);
  const toolkit = new Toolkit();
  const project = await toolkit.load({ cwd: dir });
  const synthesised = await toolkit.synth(project);
  templates = Object.fromEntries(Object.entries(synthesised).map(([target, r]) => [`adder-dev-${target}`, r.artifacts[0]!.file]));

  // The first phase of a Lambda deploy synthesises with the alias kept on the live version.
  const pinned = await toolkit.load({ cwd: dir, stage: 'pinned' });
  const [ctx] = await toolkit.contexts(pinned, ['lambda-x86']);
  const built = (await toolkit.build(pinned, ['lambda-x86']))['lambda-x86']!;
  const synth = synthChecked({ plan: ctx!.plan as AwsLambdaPlan, artifacts: lambdaStackArtifacts(built.outputs as LambdaArtifacts), aliasVersion: '3', rootDir: dir });
  templates[PINNED_STACK] = synth.templateFile;

  // A model kept in S3: the stack names the repository's prefix instead of a model.tar.gz asset.
  const inS3 = await toolkit.load({ cwd: dir, stage: 's3model' });
  const [sagemakerCtx] = await toolkit.contexts(inS3, ['sagemaker']);
  templates[MODEL_IN_S3_STACK] = synthSageMaker({
    plan: sagemakerCtx!.plan as AwsSageMakerPlan, artifacts: { modelRepositoryPrefix: MODEL_IN_S3_PREFIX }, outdir: path.join(dir, 'cdk.s3model'),
  }).templateFile;

  findings = await runCfnLint(Object.values(templates), [LAMBDA_REGION, SAGEMAKER_REGION]);
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)(`cfn-lint over every template synth writes${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('synthesised one template per variant, through the toolkit', () => {
    expect(Object.keys(templates).sort()).toEqual(Object.keys(EXPECTED).sort());
    // The aws-lambda target has no VPC settings (its schema is strict), so there is no VPC variant of it.
    expect(awsLambdaTargetSchema.safeParse({ type: 'aws-lambda', region: LAMBDA_REGION, vpc: VPC }).success).toBe(false);
  });

  it('reports no error in any template, besides the suppressed schema gap', () => {
    const errors = findings.filter((f) => f.level === 'Error' && !suppressedBy(f, SUPPRESSIONS));
    expect(errors.map((f) => `${stackOf(f)}: ${key(f)}: ${f.message}`)).toEqual([]);
  });

  it('reports only the known warnings and informational findings, template by template', () => {
    const reported = Object.fromEntries(Object.keys(templates).map((stack) => [stack, findings
      .filter((f) => stackOf(f) === stack && f.level !== 'Error')
      .map((f) => key(local(f)))
      .sort()]));
    const expected = Object.fromEntries(Object.entries(EXPECTED).map(([stack, list]) => [stack, list.map(key).sort()]));
    expect(reported).toEqual(expected);
  });

  it('needs each suppression: the autoscaling template is the one with Tags on its scalable target', (ctx) => {
    // Another cfn-lint may know the property; then its suppression goes once checked there.
    if (cfnLintVersion() !== CFN_LINT_VERIFIED_VERSION) ctx.skip(`the suppressions were verified with cfn-lint ${CFN_LINT_VERIFIED_VERSION}, this is ${cfnLintVersion()}`);
    const suppressed = findings.filter((f) => suppressedBy(f, SUPPRESSIONS)).map((f) => `${stackOf(f)}: ${key(f)}`);
    expect(suppressed).toEqual([
      'adder-dev-sagemaker-autoscaling: E3002 AWS::ApplicationAutoScaling::ScalableTarget Resources/EndpointScalableTarget3226CE36/Properties/Tags',
    ]);
  });
});
