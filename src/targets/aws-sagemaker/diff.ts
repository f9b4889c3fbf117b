/** What deploying this plan would change on aws-sagemaker: CloudFormation's diff of the stack against the deployed one. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { diffStack, stackTargetDiff } from '../../kits/aws/diff-stack.js';
import type { BuildResult, TargetDiff } from '../driver.js';
import type { SageMakerArtifacts, SageMakerContext } from './build.js';
import { sageMakerStackArtifacts, synthChecked } from './synth.js';

/**
 * Replacing or deleting one of these takes the endpoint down, or off the configuration it serves.
 * A replaced EndpointConfig is kept (`UpdateReplacePolicy: Retain`) and serves until SageMaker
 * moved the traffic blue/green, so `stackTargetDiff` does not count it as disruptive.
 */
export const SAGEMAKER_SERVING_TYPES: ReadonlySet<string> = new Set(['AWS::SageMaker::Endpoint', 'AWS::SageMaker::EndpointConfig']);

/** Synthesises the plan's stack into its own assembly and compares it with the deployed stack. */
export async function diffSageMaker(ctx: SageMakerContext, build: BuildResult): Promise<TargetDiff> {
  const { plan } = ctx;
  const deployed = await describeStack({ stackName: plan.stackName, region: plan.region });
  // Its own assembly: `cdk.out/<stack>` stays what `synth` and `deploy` wrote.
  const outdir = path.join(ctx.workDir, 'cdk.diff');
  rmSync(outdir, { recursive: true, force: true });
  const synth = synthChecked({ plan, artifacts: sageMakerStackArtifacts(build.outputs as SageMakerArtifacts), outdir, io: ctx.io });
  const result = await diffStack({ assemblyDir: synth.assemblyDir, stackName: plan.stackName, region: plan.region, io: ctx.io, deployed: deployed !== undefined });
  return stackTargetDiff(result, SAGEMAKER_SERVING_TYPES);
}
