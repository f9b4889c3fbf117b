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
  lambdaStackArtifacts,
  LambdaTargetStack,
  type BuildLambdaStackOptions,
  type LambdaStackArtifacts,
  type LambdaStackFromConfig,
  type LambdaStackFromPlan,
} from './lambda-target-stack.js';
export { lambdaStackName, lambdaStackPlan, type AwsLambdaPlan, type LambdaStackPlan } from '../src/targets/aws-lambda/index.js';
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
  type SageMakerStackFromConfig,
  type SageMakerStackFromPlan,
} from './sagemaker-target-stack.js';
export { sageMakerStackPlan, type AwsSageMakerPlan, type SageMakerStackPlan } from '../src/targets/aws-sagemaker/index.js';
export { DEFAULT_SAGEMAKER_TRITON_VERSION, SAGEMAKER_TRITON_IMAGES, sageMakerTritonImage } from '../src/kits/sagemaker/triton-images.js';
export {
  buildModelFunctionZip,
  buildOnnxRuntimeLayerZip,
  buildTritonModelArchive,
  type BuildModelFunctionZipOptions,
  type BuildOnnxRuntimeLayerZipOptions,
  type BuildTritonModelArchiveOptions,
  type BuiltFile,
  type ModelFunctionZip,
  type OnnxRuntimeLayerZip,
  type TritonModelArchive,
  type TritonModelOptions,
} from './build-assets.js';
export { DeployModelError, isDeployModelError } from '../src/errors.js';
export {
  WebStaticSite,
  WEB_STATIC_SITE_CONTENT_TYPES,
  WEB_STATIC_SITE_OUTPUTS,
  type WebStaticSiteOutputKey,
  type WebStaticSiteProps,
} from './web-static-site.js';
export { buildWebStack, WebTargetStack, type BuildWebStackOptions } from './web-target-stack.js';
export { WEB_SITE_VERSION_OUTPUT } from './outputs.js';
export type { WebPlan, WebStackPlan } from '../src/targets/web/index.js';
