/** The onnxruntime-react-native release the generated package is written and type-checked against. */
export const ORT_REACT_NATIVE_VERSION = '1.24.3';

/**
 * What the ONNX Runtime core of that release loads, measured on the same core built for
 * WebAssembly (onnxruntime-web 1.24.1): ai.onnx up to opset 25, ai.onnx.ml up to 5, IR version up
 * to 13 ("Current official support for domain ai.onnx is till opset 25"). onnxruntime-node 1.30 goes
 * to opset 26, so a model that runs here can still fail to load in the app.
 */
export const ORT_MOBILE_CORE = {
  version: '1.24',
  maxIrVersion: 13,
  maxOpsets: { 'ai.onnx': 25, 'ai.onnx.ml': 5 } as Readonly<Record<string, number>>,
  minOpset: 7,
};

/**
 * Operator domains the full mobile packages (onnxruntime-android, onnxruntime-c) register; a node
 * of any other domain is a custom operator the app would have to register itself.
 */
export const ORT_MOBILE_DOMAINS = ['ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'com.microsoft.nchwc', 'com.ms.internal.nhwc', 'ai.onnx.preview.training', 'com.microsoft.experimental'] as const;
