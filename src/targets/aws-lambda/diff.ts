/** What deploying this plan would change on aws-lambda: CloudFormation's diff of the first-phase stack against the deployed one. */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { lambdaStackArtifacts } from '../../../infra/lambda-target-stack.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { diffStack, stackTargetDiff } from '../../kits/aws/diff-stack.js';
import type { BuildResult, TargetDiff } from '../driver.js';
import type { LambdaArtifacts, LambdaContext } from './build.js';
import { liveVersionOf, previousVersionOf } from './rollout.js';
import { synthChecked } from './synth.js';

/** Replacing or deleting one of these takes the model off its URL or its callers' qualifier. */
export const LAMBDA_SERVING_TYPES: ReadonlySet<string> = new Set(['AWS::Lambda::Function', 'AWS::Lambda::Alias', 'AWS::Lambda::Url']);

/**
 * Synthesises the stack as a deploy's first phase would (the `live` alias on the version it
 * serves), so an unchanged project diffs as unchanged, and compares it with the deployed stack.
 * When a new version would be published, the alias move of the second phase is added as a change.
 */
export async function diffLambda(ctx: LambdaContext, build: BuildResult): Promise<TargetDiff> {
  const { plan } = ctx;
  const artifacts = build.outputs as LambdaArtifacts;
  const deployed = await describeStack({ stackName: plan.stackName, region: plan.region });
  const liveVersion = liveVersionOf(deployed?.outputs);
  const previousVersion = previousVersionOf(deployed?.outputs);
  // Its own assembly: `cdk.out/<stack>` stays what `synth` and `deploy` wrote.
  const outdir = path.join(ctx.workDir, 'cdk.diff');
  rmSync(outdir, { recursive: true, force: true });
  const synth = synthChecked({ plan, artifacts: lambdaStackArtifacts(artifacts), aliasVersion: liveVersion, ...(previousVersion ? { previousVersion } : {}), outdir, io: ctx.io });
  const result = await diffStack({ assemblyDir: synth.assemblyDir, stackName: plan.stackName, region: plan.region, io: ctx.io, deployed: deployed !== undefined });
  const diff = stackTargetDiff(result, LAMBDA_SERVING_TYPES);
  const published = result.changes.some((c) => c.type === 'AWS::Lambda::Version' && c.action === 'create');
  const alias = aliasLogicalId(synth.templateFile);
  if (liveVersion && published && alias && !diff.changes.some((c) => c.resource === alias)) {
    diff.changes.push({ resource: alias, action: 'update', detail: `AWS::Lambda::Alias: the ${plan.aliasName} alias moves from version ${liveVersion} to the new version once it passes its smoke test (a second stack update)` });
  }
  return diff;
}

function aliasLogicalId(templateFile: string): string | undefined {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources?: Record<string, { Type?: string }> };
  return Object.entries(template.Resources ?? {}).find(([, r]) => r.Type === 'AWS::Lambda::Alias')?.[0];
}
