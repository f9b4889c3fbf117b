/**
 * The React Native client's own part, as TypeScript text placed after the shared CLIENT_CORE:
 * `createClient` over onnxruntime-react-native. Type-checked against that package's types by the
 * tests. No template literals inside: this is itself a template string.
 */
export const RN_CLIENT_RUNTIME = String.raw`
export interface ClientOptions {
  /**
   * The model: a local file path or URI of the asset, or its bytes. With Expo:
   * (await Asset.fromModule(modelAsset).downloadAsync()).localUri; in a bare app, copy the asset
   * to the document folder (react-native-fs) and pass that path.
   */
  model: string | Uint8Array;
  /** Execution providers in order of preference. @default MODEL.executionProviders */
  executionProviders?: readonly string[];
}

export interface ModelClient {
  /** Milliseconds to create the session. */
  readonly sessionCreateMs: number;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  release(): Promise<void>;
}

/** Creates the onnxruntime-react-native session and returns a typed client. */
export async function createClient(options: ClientOptions): Promise<ModelClient> {
  const started = Date.now();
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: (options.executionProviders ?? MODEL.executionProviders) as InferenceSession.SessionOptions['executionProviders'],
    graphOptimizationLevel: 'all',
  };
  const session = typeof options.model === 'string'
    ? await InferenceSession.create(options.model, sessionOptions)
    : await InferenceSession.create(options.model, sessionOptions);
  const sessionCreateMs = Date.now() - started;
  return {
    sessionCreateMs,
    async run(inputs) {
      const results = await session.run(toFeeds(Tensor as unknown as OrtTensorConstructor, inputs) as unknown as InferenceSession.FeedsType);
      return fromResults(results as unknown as Record<string, OrtTensor>);
    },
    release: () => session.release(),
  };
}
`;
