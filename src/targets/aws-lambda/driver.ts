import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { buildFunctionArtifact } from '../../bundling/build-function-artifact.js';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import type { TargetContext, TargetDriver } from '../driver.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaSizeProblems } from './limits.js';

type Ctx = TargetContext<AwsLambdaTargetConfig>;

function notYet(what: string): never {
  throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `${what} for aws-lambda targets is not available in this version of deploy-model. Use \`deploy-model build --target NAME\` to produce the artifacts, or the local target to run them.`);
}

export const awsLambdaDriver: TargetDriver<AwsLambdaTargetConfig> = {
  type: 'aws-lambda',

  async validate(ctx: Ctx) {
    return lambdaSizeProblems(ctx);
  },

  async build(ctx: Ctx) {
    const fn = await buildFunctionArtifact({ modelPath: ctx.signature.file, signature: ctx.signature, outDir: path.join(ctx.workDir, 'function'), io: ctx.io });
    const layer = await buildOrtLayer({ architecture: ctx.target.architecture, outDir: path.join(ctx.workDir, 'layer'), cacheDir: path.join(ctx.cacheDir, 'layers') });
    return {
      artifacts: [
        { kind: 'function.zip', file: fn.zip.file, bytes: fn.zip.bytes, sha256: fn.zip.sha256 },
        { kind: `layer.zip (${ctx.target.architecture})`, file: layer.zip.file, bytes: layer.zip.bytes, sha256: layer.zip.sha256 },
      ],
    };
  },

  async deploy() { return notYet('deploy'); },
  async connect() { return notYet('smoke and invoke'); },
  async status() { return notYet('status'); },
  async destroy() { return notYet('destroy'); },
};
