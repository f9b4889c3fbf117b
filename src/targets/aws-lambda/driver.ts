import path from 'node:path';
import { statSync } from 'node:fs';
import { DeployModelError } from '../../errors.js';
import type { TargetContext, TargetDriver } from '../driver.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaSizeProblems } from './limits.js';
import { buildLambdaArtifacts } from './build-lambda-artifacts.js';
import { synthLambdaTarget } from './synth.js';

type Ctx = TargetContext<AwsLambdaTargetConfig>;

function notYet(what: string): never {
  throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `${what} for aws-lambda targets is not available in this version of deploy-model. Use \`deploy-model synth --target NAME\` to write the CloudFormation assembly, or the local target to run the same artifacts.`);
}

function buildArtifacts(ctx: Ctx) {
  return buildLambdaArtifacts({ modelPath: ctx.signature.file, signature: ctx.signature, target: ctx.target, workDir: ctx.workDir, layerCacheDir: path.join(ctx.cacheDir, 'layers'), io: ctx.io });
}

export const awsLambdaDriver: TargetDriver<AwsLambdaTargetConfig> = {
  type: 'aws-lambda',

  async validate(ctx: Ctx) {
    return lambdaSizeProblems(ctx);
  },

  async build(ctx: Ctx) {
    const a = await buildArtifacts(ctx);
    return {
      artifacts: [
        { kind: 'function.zip', file: a.functionZip, bytes: statSync(a.functionZip).size },
        { kind: `layer.zip (${ctx.target.architecture})`, file: a.layerZip, bytes: statSync(a.layerZip).size },
      ],
    };
  },

  async synth(ctx: Ctx) {
    const artifacts = await buildArtifacts(ctx);
    const result = synthLambdaTarget({ config: ctx.config, targetName: ctx.targetName, target: ctx.target, stage: ctx.loaded.stage, artifacts, rootDir: ctx.loaded.rootDir, io: ctx.io });
    if (result.nagFindings.length > 0) {
      throw new DeployModelError('NAG_FINDINGS', `The ${result.stackName} stack has ${result.nagFindings.length} unacknowledged cdk-nag finding(s):\n${result.nagFindings.map((f) => `  - ${f.ruleId} at ${f.constructPath}: ${f.description}`).join('\n')}\nThis is a bug in deploy-model's stack; please report it.`, { kind: 'internal', details: { findings: result.nagFindings } });
    }
    return { artifacts: [{ kind: `CloudFormation template (${result.stackName})`, file: result.templateFile, bytes: statSync(result.templateFile).size }] };
  },

  async deploy() { return notYet('deploy'); },
  async connect() { return notYet('smoke and invoke'); },
  async status() { return notYet('status'); },
  async destroy() { return notYet('destroy'); },
};
