// Kept apart from the construct so that code reading a deployed stack (status, smoke) can name
// its outputs without loading aws-cdk-lib.

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
