import { Duration, Size, Stack, Tags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { servingEnv } from '../../../handlers/serving-env.js';
import { OnnxModelFunction } from '../../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../../infra/onnx-runtime-layer.js';
import type { ProjectConfig } from '../../config/schema.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaStackName } from './stack-name.js';

export { lambdaStackName } from './stack-name.js';

/** What the build stage produced for one aws-lambda target. */
export interface LambdaStackArtifacts {
  /** The function zip (handler bundle + model). */
  readonly functionZip: string;
  /** The onnxruntime-node layer zip for the target's architecture. */
  readonly layerZip: string;
  /** Size of the .onnx model in bytes (drives the memory default). */
  readonly modelBytes: number;
  /**
   * Unzipped sizes, when the builders measured them.
   * @default - read from each zip's central directory
   */
  readonly unzippedBytes?: { readonly function?: number; readonly layer?: number };
}

export interface BuildLambdaStackOptions {
  readonly config: ProjectConfig;
  readonly targetName: string;
  readonly target: AwsLambdaTargetConfig;
  readonly stage: string;
  readonly artifacts: LambdaStackArtifacts;
  /**
   * Keep the `live` alias on this version (phase 1 of a deploy: publish and smoke-test the new
   * version first).
   * @default - the alias moves to the new version
   */
  readonly aliasVersion?: string;
}

/** The stack of one aws-lambda target. */
export class LambdaTargetStack extends Stack {
  readonly model: OnnxModelFunction;
  readonly layer: OnnxRuntimeLayer;

  constructor(scope: Construct, options: BuildLambdaStackOptions) {
    const { config, targetName, target, stage, artifacts } = options;
    const stackName = lambdaStackName(config.name, stage, targetName);
    super(scope, stackName, {
      stackName,
      // Region only: the account stays agnostic so synth needs no credentials.
      env: { region: target.region },
      description: `deploy-model ${config.name}: target ${targetName} (aws-lambda), stage ${stage}`,
    });
    Tags.of(this).add('deploy-model:name', config.name);
    Tags.of(this).add('deploy-model:stage', stage);
    Tags.of(this).add('deploy-model:target', targetName);

    const architecture = target.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    this.layer = new OnnxRuntimeLayer(this, 'OnnxRuntime', {
      code: artifacts.layerZip,
      architecture,
      unzippedBytes: artifacts.unzippedBytes?.layer,
    });
    this.model = new OnnxModelFunction(this, 'Model', {
      code: artifacts.functionZip,
      unzippedBytes: artifacts.unzippedBytes?.function,
      modelBytes: artifacts.modelBytes,
      modelName: config.name,
      environment: servingEnv({ modelName: config.name, runtime: config.runtime, entry: 'lambda' }),
      layer: this.layer,
      architecture,
      memorySize: target.memoryMb,
      timeout: Duration.seconds(target.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(target.ephemeralStorageMb),
      reservedConcurrentExecutions: target.reservedConcurrency,
      provisionedConcurrentExecutions: target.provisionedConcurrency,
      logRetention: target.logRetentionDays,
      urlAuth: target.url.auth,
      aliasVersion: options.aliasVersion,
    });
    this.model.addStackOutputs();
  }
}

/** Builds the stack `<name>-<stage>-<target>` of one aws-lambda target into `scope` (an App or Stage). */
export function buildLambdaStack(scope: Construct, options: BuildLambdaStackOptions): LambdaTargetStack {
  return new LambdaTargetStack(scope, options);
}
