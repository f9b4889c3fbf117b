/** Synthesises one aws-sagemaker target into its own cloud assembly, with cdk-nag; no credentials, no network. */
import {
  buildSageMakerStack, sageMakerStackPlanOf, type SageMakerStackArtifacts, type SageMakerStackFromConfig, type SageMakerStackFromPlan,
} from '../../../infra/sagemaker-target-stack.js';
import { nagFindingsError, synthStack, type SynthStackOptions, type SynthStackResult } from '../../kits/aws/synth-stack.js';
import type { SageMakerArtifacts } from './build.js';

export type SynthSageMakerPlanOptions = SageMakerStackFromPlan & SynthStackOptions;
export type SynthSageMakerTargetOptions = SageMakerStackFromConfig & SynthStackOptions;

export interface SynthSageMakerTargetResult extends SynthStackResult {
  readonly endpointName: string;
}

/** The stack's artifacts from what the build recorded. */
export function sageMakerStackArtifacts(built: SageMakerArtifacts): SageMakerStackArtifacts {
  if (built.modelRepository) return { modelRepositoryPrefix: built.modelRepository.prefix };
  return { modelArchive: built.modelArchive, modelArchiveSha256: built.modelArchiveSha256 };
}

/** Writes the planned stack to `<rootDir>/cdk.out/<stack>` (or `outdir`) and returns cdk-nag's findings. */
export function synthSageMakerPlan(options: SynthSageMakerPlanOptions): SynthSageMakerTargetResult {
  const result = synthStack(options.plan.stackName, options, (app) => buildSageMakerStack(app, options));
  return { ...result, endpointName: options.plan.endpointName };
}

/** The same for a config's target entry, resolved by the target's planner (CDK apps hold no plan). */
export function synthSageMakerTarget(options: SynthSageMakerTargetOptions): SynthSageMakerTargetResult {
  const plan = sageMakerStackPlanOf(options);
  const result = synthStack(plan.stackName, options, (app) => buildSageMakerStack(app, options));
  return { ...result, endpointName: plan.endpointName };
}

/** Synthesises the plan, failing on a cdk-nag finding: our stack must pass AwsSolutionsChecks. */
export function synthChecked(options: SynthSageMakerPlanOptions): SynthSageMakerTargetResult {
  const result = synthSageMakerPlan(options);
  if (result.nagFindings.length > 0) throw nagFindingsError(result);
  return result;
}
