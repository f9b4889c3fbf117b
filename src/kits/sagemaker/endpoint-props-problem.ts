/** The rules of SageMaker (and of Triton's images) that the endpoint construct checks its props against. */
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Duration } from 'aws-cdk-lib';
import { sageMakerInstanceTypeProblem, sageMakerVolumeSizeProblem } from './instance-types.js';
import { SAGEMAKER_ENDPOINT_NAME } from './names.js';

/** The retention periods CloudWatch Logs accepts, in days. */
const RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

/** The construct props these rules read (a subset of TritonSageMakerEndpointProps). */
export interface CheckedEndpointProps {
  readonly instanceType: string;
  readonly instanceCount: number;
  /** Undefined when an image override makes the Triton release unknown. */
  readonly tritonVersion?: string;
  readonly volumeSizeGb?: number;
  readonly endpointName?: string;
  readonly modelName: string;
  readonly startupHealthCheckTimeout?: Duration;
  readonly modelDownloadTimeout?: Duration;
  readonly logRetention?: number;
  readonly bakingPeriod?: Duration;
}

export interface EndpointPropsProblem {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** The first rule of SageMaker (or of Triton's images) the construct props break, or undefined. */
export function endpointPropsProblem(p: CheckedEndpointProps): EndpointPropsProblem | undefined {
  const typeProblem = sageMakerInstanceTypeProblem(p.instanceType, 'tensorrt', p.tritonVersion);
  if (typeProblem) return { code: 'SAGEMAKER_INSTANCE_TYPE', message: `${typeProblem}.`, details: { instanceType: p.instanceType } };
  const volumeProblem = p.volumeSizeGb === undefined ? undefined : sageMakerVolumeSizeProblem(p.instanceType);
  if (volumeProblem) return { code: 'SAGEMAKER_VOLUME_SIZE', message: `${volumeProblem}.`, details: { instanceType: p.instanceType, volumeSizeGb: p.volumeSizeGb } };
  if (!Number.isInteger(p.instanceCount) || p.instanceCount < 1) {
    return { code: 'SAGEMAKER_INSTANCE_COUNT', message: `instanceCount ${p.instanceCount} must be a whole number of at least 1.`, details: { instanceCount: p.instanceCount } };
  }
  if (p.endpointName !== undefined && (!SAGEMAKER_ENDPOINT_NAME.test(p.endpointName) || p.endpointName.length > 63)) {
    return { code: 'SAGEMAKER_ENDPOINT_NAME', message: `endpointName '${p.endpointName}' is not a SageMaker endpoint name: letters, digits and hyphens, starting and ending with a letter or digit, at most 63 characters.`, details: { endpointName: p.endpointName } };
  }
  if (!/^[a-zA-Z0-9_.-]+$/.test(p.modelName)) {
    return { code: 'SAGEMAKER_MODEL_NAME', message: `modelName '${p.modelName}' is not a Triton model folder name (letters, digits, '_', '.', '-').`, details: { modelName: p.modelName } };
  }
  for (const [what, d] of [['startupHealthCheckTimeout', p.startupHealthCheckTimeout], ['modelDownloadTimeout', p.modelDownloadTimeout]] as const) {
    if (d !== undefined && (d.toSeconds() < 60 || d.toSeconds() > 3600)) {
      return { code: 'SAGEMAKER_TIMEOUT', message: `${what} of ${d.toSeconds()} s is outside SageMaker's range of 60 to 3600 s.`, details: { [what]: d.toSeconds() } };
    }
  }
  if (p.logRetention !== undefined && !RETENTION_DAYS.includes(p.logRetention)) {
    return { code: 'SAGEMAKER_LOG_RETENTION', message: `log retention ${p.logRetention} days is not one CloudWatch Logs accepts. Use one of ${RETENTION_DAYS.join(', ')}.`, details: { logRetention: p.logRetention } };
  }
  const baking = p.bakingPeriod?.toSeconds();
  if (baking !== undefined && (baking < 0 || baking > 3600)) {
    return { code: 'SAGEMAKER_BAKING_PERIOD', message: `bakingPeriod of ${baking} s is outside SageMaker's range of 0 to 3600 s.`, details: { bakingPeriod: baking } };
  }
  return undefined;
}
