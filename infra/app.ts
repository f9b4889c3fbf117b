/**
 * The CDK app that `cdk.json` runs: one stack per aws-lambda target of the deploy-model config.
 *
 *   npx cdk synth -c stage=prod [-c config=path/to/deploy-model.config.ts] [-c target=lambda] [-c aliasVersion=7]
 *
 * It loads, plans and builds through the programmatic Toolkit (the same checks, plan and cached
 * build as `deploy-model build`), then builds each target's stack from its plan. deploy-model's own
 * CLI does not go through here; this is for teams that drive deploys with the CDK CLI.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployModelError, Toolkit } from '../src/index.js';
import type { AwsLambdaPlan, LambdaArtifacts } from '../src/targets/aws-lambda/index.js';
import { buildLambdaStack, lambdaStackArtifacts } from './lambda-target-stack.js';

// aws-cdk-lib's built-in CloudFormation validation adds over a second per synth and duplicates
// what cdk-nag and CloudFormation itself check; CDK_VALIDATION cannot turn it back on here.
const app = new App({ builtinCloudFormationValidation: false });

const context = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null ? undefined : String(v);
};

const toolkit = new Toolkit();
const project = await toolkit.load({ cwd: process.cwd(), configFile: context('config'), stage: context('stage') ?? 'dev' });
const { loaded } = project;
const names = Object.entries(loaded.config.targets)
  .filter(([name, target]) => target.type === 'aws-lambda' && (context('target') === undefined || name === context('target')))
  .map(([name]) => name);
if (names.length === 0) {
  throw new DeployModelError('CDK_APP_NO_TARGETS', `${loaded.configFile} has no aws-lambda target${context('target') ? ` named '${context('target')}'` : ''}. Add one ({ type: 'aws-lambda', region: 'eu-west-1' }) or pass -c target=NAME of an existing one.`, { kind: 'usage' });
}
const aliasVersion = context('aliasVersion');
if (aliasVersion !== undefined && names.length > 1) {
  throw new DeployModelError('CDK_APP_ALIAS_VERSION_AMBIGUOUS', `-c aliasVersion=${aliasVersion} needs -c target=NAME: the config has ${names.length} aws-lambda targets (${names.join(', ')}).`, { kind: 'usage' });
}

const plans = await toolkit.plan(project, names);
const builds = await toolkit.build(project, names);
for (const name of names) {
  const plan = plans[name] as AwsLambdaPlan;
  buildLambdaStack(app, { plan, artifacts: lambdaStackArtifacts(builds[name]!.outputs as LambdaArtifacts), aliasVersion });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
