// The react-native target's config schema.
import { z } from 'zod';

/** Execution providers onnxruntime-react-native can be asked for; unavailable ones fall back to CPU in the app. */
export const RN_EXECUTION_PROVIDERS = ['cpu', 'xnnpack', 'coreml', 'nnapi'] as const;
export type RnExecutionProvider = (typeof RN_EXECUTION_PROVIDERS)[number];

export const reactNativeTargetSchema = z
  .object({
    type: z.literal('react-native'),
    /**
     * The model file shipped as an asset: `onnx` as it is, or `ort` (ONNX Runtime's format,
     * converted by onnxruntime-node at build; smaller to load, but written by a newer ONNX Runtime
     * than the one the app may run, so check it on a device).
     * @default 'onnx'
     */
    modelFormat: z.enum(['onnx', 'ort']).default('onnx')
      .describe("The model asset: 'onnx' as it is, or 'ort' (converted by onnxruntime-node at build). Default: 'onnx'."),
    /**
     * Name of the generated package (its package.json `name`), to add to the app as a local dependency.
     * @default - '<name>-model'
     */
    packageName: z.string().regex(/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/, 'must be an npm package name, e.g. ocr-det-model or @acme/ocr-det-model').max(214).optional()
      .describe("Name of the generated package, e.g. @acme/ocr-det-model. Default: '<name>-model'."),
    /**
     * Execution providers the client asks for, in order; the app falls back to CPU where one is
     * missing (CoreML on iOS, NNAPI on Android, XNNPACK on both).
     * @default ['cpu']
     */
    executionProviders: z.array(z.enum(RN_EXECUTION_PROVIDERS)).min(1).default(['cpu'])
      .describe("Execution providers the client asks for, in order: 'cpu', 'xnnpack', 'coreml' (iOS), 'nnapi' (Android). Default: ['cpu']."),
    /**
     * Write the Expo settings: the config plugin entry for app.json and the Metro asset extensions.
     * @default true
     */
    expo: z.boolean().default(true)
      .describe('Write the Expo settings (config plugin entry for app.json) besides the Metro asset extensions. Default: true.'),
  })
  .strict()
  .describe('A package to drop into a React Native app: a typed client over onnxruntime-react-native, the model as an asset, the Metro and Expo settings. Built and type-checked here; the native build and on-device runs are the app\'s.');

export type ReactNativeTargetInput = z.input<typeof reactNativeTargetSchema>;
export type ReactNativeTargetConfig = z.output<typeof reactNativeTargetSchema>;
