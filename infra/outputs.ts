/** The stack outputs of the constructs, kept apart from them so that status and smoke name them without loading aws-cdk-lib. */

/** Name of the alias that serves traffic; deploys move it only after the new version passed its smoke test. */
export const LIVE_ALIAS_NAME = 'live';

/**
 * Logical ids of the stack outputs written by `OnnxModelFunction.addStackOutputs()`. They are
 * stable so that `status` and the deploy flow can read them back from the deployed stack.
 */
export const ONNX_MODEL_FUNCTION_OUTPUTS = {
  functionName: 'FunctionName',
  aliasArn: 'AliasArn',
  functionUrl: 'FunctionUrl',
  newVersion: 'NewVersion',
  liveVersion: 'LiveVersion',
  logGroupName: 'LogGroupName',
} as const;

export type OnnxModelFunctionOutputKey = keyof typeof ONNX_MODEL_FUNCTION_OUTPUTS;

/**
 * Logical id of the aws-lambda stack output naming the version the `live` alias served before the
 * last promotion: what `deploy-model rollback` moves it back to. Absent until a second version is
 * promoted, and after a rollback.
 */
export const LAMBDA_PREVIOUS_VERSION_OUTPUT = 'PreviousVersion';

/** Logical ids of the stack outputs written by `TritonSageMakerEndpoint.addStackOutputs()`; `status` and deploy read them back. */
export const TRITON_SAGEMAKER_ENDPOINT_OUTPUTS = {
  endpointName: 'EndpointName',
  endpointConfigName: 'EndpointConfigName',
  modelName: 'ModelName',
  logGroupName: 'LogGroupName',
  modelDataUrl: 'ModelDataUrl',
} as const;

export type TritonSageMakerEndpointOutputKey = keyof typeof TRITON_SAGEMAKER_ENDPOINT_OUTPUTS;

/** Logical ids of the stack outputs written by `WebStaticSite.addStackOutputs()`; deploy and status read them back. */
export const WEB_STATIC_SITE_OUTPUTS = {
  bucketName: 'SiteBucketName',
  distributionId: 'DistributionId',
  domainName: 'DistributionDomainName',
  url: 'SiteUrl',
} as const;

export type WebStaticSiteOutputKey = keyof typeof WEB_STATIC_SITE_OUTPUTS;

/** The output of a web target's stack naming the version the site serves (the bundle's content hash). */
export const WEB_SITE_VERSION_OUTPUT = 'SiteVersion';
