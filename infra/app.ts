/**
 * The CDK app that `cdk.json` runs: one stack per aws-lambda target of the deploy-model config.
 *
 *   npx cdk synth -c stage=prod [-c config=path/to/deploy-model.config.ts] [-c target=lambda] [-c aliasVersion=7]
 *
 * deploy-model's own CLI does not go through here (it synthesises in-process with
 * `synthLambdaTarget`); this is for teams that drive deploys with the CDK CLI.
 */
import os from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../src/config/load-config.js';
import { DeployModelError } from '../src/errors.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { buildLambdaArtifacts } from '../src/targets/aws-lambda/build-lambda-artifacts.js';
import type { AwsLambdaTargetConfig } from '../src/targets/aws-lambda/schema.js';
import { buildLambdaStack } from '../src/targets/aws-lambda/stack.js';

// aws-cdk-lib's built-in CloudFormation validation adds over a second per synth and duplicates
// what cdk-nag and CloudFormation itself check; CDK_VALIDATION cannot turn it back on here.
const app = new App({ builtinCloudFormationValidation: false });

const context = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === null ? undefined : String(v);
};

const loaded = await loadConfig({ cwd: process.cwd(), configFile: context('config'), stage: context('stage') ?? 'dev' });
const { config, stage } = loaded;
const lambdaTargets = Object.entries(config.targets)
  .filter((entry): entry is [string, AwsLambdaTargetConfig] => entry[1].type === 'aws-lambda')
  .filter(([name]) => context('target') === undefined || name === context('target'));
if (lambdaTargets.length === 0) {
  throw new DeployModelError('CDK_APP_NO_TARGETS', `${loaded.configFile} has no aws-lambda target${context('target') ? ` named '${context('target')}'` : ''}. Add one ({ type: 'aws-lambda', region: 'eu-west-1' }) or pass -c target=NAME of an existing one.`, { kind: 'usage' });
}
const aliasVersion = context('aliasVersion');
if (aliasVersion !== undefined && lambdaTargets.length > 1) {
  throw new DeployModelError('CDK_APP_ALIAS_VERSION_AMBIGUOUS', `-c aliasVersion=${aliasVersion} needs -c target=NAME: the config has ${lambdaTargets.length} aws-lambda targets (${lambdaTargets.map(([n]) => n).join(', ')}).`, { kind: 'usage' });
}

const signature = await inspectModel(loaded.modelPath);
const layerCacheDir = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'deploy-model', 'layers');
for (const [targetName, target] of lambdaTargets) {
  const artifacts = await buildLambdaArtifacts({
    modelPath: loaded.modelPath,
    signature,
    target,
    workDir: path.join(loaded.rootDir, '.deploy-model', stage, targetName),
    layerCacheDir,
  });
  buildLambdaStack(app, { config, targetName, target, stage, artifacts, aliasVersion });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
