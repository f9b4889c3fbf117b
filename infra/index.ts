// `deploy-model/cdk`: the constructs for use in any CDK app, and the config-driven stack.
export {
  OnnxModelFunction,
  ONNX_MODEL_FUNCTION_OUTPUTS,
  LIVE_ALIAS_NAME,
  type OnnxModelFunctionProps,
  type OnnxModelFunctionOutputKey,
} from './onnx-model-function.js';
export {
  OnnxRuntimeLayer,
  ONNX_RUNTIME_LAYER_RUNTIMES,
  type OnnxRuntimeLayerProps,
  type BuildOnnxRuntimeLayerProps,
} from './onnx-runtime-layer.js';
export { assertLambdaPackageFits, LAMBDA_UNZIPPED_LIMIT_BYTES, type LambdaPackageSizes } from '../src/kits/aws/lambda-limits.js';
export {
  buildLambdaStack,
  lambdaStackName,
  LambdaTargetStack,
  type BuildLambdaStackOptions,
  type LambdaStackArtifacts,
} from '../src/targets/aws-lambda/stack.js';
export {
  TritonSageMakerEndpoint,
  TRITON_SAGEMAKER_ENDPOINT_OUTPUTS,
  TRITON_MODEL_NAME_ENV,
  VARIANT_NAME,
  type TritonSageMakerAutoscaling,
  type TritonSageMakerEndpointOutputKey,
  type TritonSageMakerEndpointProps,
} from './triton-sagemaker-endpoint.js';
export {
  buildSageMakerStack,
  SageMakerTargetStack,
  type BuildSageMakerStackOptions,
  type SageMakerStackArtifacts,
} from '../src/targets/aws-sagemaker/stack.js';
export { DEFAULT_SAGEMAKER_TRITON_VERSION, SAGEMAKER_TRITON_IMAGES, sageMakerTritonImage } from '../src/kits/sagemaker/triton-images.js';
