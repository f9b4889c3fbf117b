/**
 * The web client's own part, as TypeScript text placed after CLIENT_CORE: onnxruntime-web's API
 * as the client uses it, and `createClient` (loading the runtime and the model from the bundle,
 * WebGPU checked against WASM). Type-checked with the DOM library by the tests, compiled to
 * client.js with esbuild at build. No template literals inside: this is itself a template string.
 */
export const CLIENT_RUNTIME = String.raw`
export interface OrtSessionOptions {
  executionProviders?: readonly string[];
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  externalData?: readonly { path: string; data: string }[];
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  readonly InferenceSession: {
    create(uri: string, options?: OrtSessionOptions): Promise<OrtSession>;
    create(buffer: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: OrtTensorConstructor;
  readonly env: { readonly versions: { readonly web?: string }; readonly wasm: { wasmPaths?: unknown; numThreads?: number } };
}

export type Backend = 'wasm' | 'webgpu';

export interface ClientOptions {
  /** Where the bundle is served. @default the folder of this module */
  baseUrl?: string | URL;
  /** An onnxruntime-web module already loaded (a bundler's, or Node's in tests). @default the bundle's own copy */
  ort?: OrtModule;
  /** The model's bytes or URL. @default MODEL.file under baseUrl */
  model?: string | Uint8Array;
  /** WebAssembly threads; more than 1 needs a cross-origin isolated page. @default MODEL.threads */
  threads?: number;
  /** 'auto' tries WebGPU and falls back to WASM. @default 'auto' when the bundle was built with WebGPU, else 'wasm' */
  backend?: Backend | 'auto';
  /** WebGPU is used only when its outputs on these inputs match WASM's within the tolerance. @default - WebGPU is not trusted */
  verify?: { inputs: ModelInputs; tolerance?: number };
}

export interface ModelClient {
  readonly backend: Backend;
  /** Why WebGPU was not used, when it was asked for. */
  readonly fallbackReason?: string;
  /** Milliseconds to create the session (and to check WebGPU against WASM, when tried). */
  readonly sessionCreateMs: number;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  release(): Promise<void>;
}

const now = (): number => globalThis.performance.now();

interface WebGpuNavigator { gpu?: { requestAdapter(): Promise<{ features: { has(name: string): boolean } } | null> } }

/** Why WebGPU cannot run this model here, or undefined when it may. */
async function webgpuProblem(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as WebGpuNavigator | undefined)?.gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is undefined)';
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'the browser found no WebGPU adapter';
  const float16 = [...SIGNATURE.inputs, ...SIGNATURE.outputs].some((s) => s.dtype === 'float16');
  if (float16 && !adapter.features.has('shader-f16')) return "the model has float16 tensors and the WebGPU adapter lacks the 'shader-f16' feature";
  return undefined;
}

function createSession(ort: OrtModule, model: string | Uint8Array, options: OrtSessionOptions): Promise<OrtSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** Runs the check inputs on WebGPU and on WASM; the reason WebGPU is not trusted, or undefined. */
async function webgpuMismatch(ort: OrtModule, gpu: OrtSession, model: string | Uint8Array, options: OrtSessionOptions, verify: ClientOptions['verify']): Promise<string | undefined> {
  if (!verify) return 'no inputs to check WebGPU against WASM were given (ClientOptions.verify)';
  const tolerance = verify.tolerance ?? MODEL.tolerance;
  const wasm = await createSession(ort, model, { ...options, executionProviders: ['wasm'] });
  try {
    const [a, b] = [await gpu.run(toFeeds(ort.Tensor, verify.inputs)), await wasm.run(toFeeds(ort.Tensor, verify.inputs))];
    for (const spec of SIGNATURE.outputs) {
      const diff = maxAbsDiff(a[spec.name]!.data as ArrayLike<unknown>, b[spec.name]!.data as ArrayLike<unknown>);
      if (!(diff <= tolerance)) return 'WebGPU output "' + spec.name + '" differs from WASM by ' + diff + ' (tolerance ' + tolerance + ')';
    }
    return undefined;
  } finally {
    await wasm.release();
  }
}

/**
 * Loads onnxruntime-web and the model from the bundle and returns a typed client. With WebGPU asked
 * for ('auto'), it is used only when the adapter fits the model and its outputs match WASM's.
 */
export async function createClient(options: ClientOptions = {}): Promise<ModelClient> {
  const base = options.baseUrl !== undefined ? new URL(String(options.baseUrl), globalThis.location?.href) : new URL('./', import.meta.url);
  const ort = options.ort ?? ((await import(/* @vite-ignore */ new URL(MODEL.ortModule, base).href)) as OrtModule);
  if (!options.ort) ort.env.wasm.wasmPaths = new URL(MODEL.ortDir, base).href;
  ort.env.wasm.numThreads = options.threads ?? MODEL.threads;
  const model = options.model ?? new URL(MODEL.file, base).href;
  const sessionOptions: OrtSessionOptions = {
    graphOptimizationLevel: 'all',
    ...(MODEL.externalData.length ? { externalData: MODEL.externalData.map((d) => ({ path: d.name, data: new URL(d.file, base).href })) } : {}),
  };
  const wanted = options.backend ?? (MODEL.webgpu ? 'auto' : 'wasm');
  const started = now();
  let session: OrtSession | undefined;
  let backend: Backend = 'wasm';
  let fallbackReason: string | undefined;
  if (wanted !== 'wasm') {
    fallbackReason = await webgpuProblem();
    if (!fallbackReason) {
      try {
        const gpu = await createSession(ort, model, { ...sessionOptions, executionProviders: ['webgpu'] });
        fallbackReason = await webgpuMismatch(ort, gpu, model, sessionOptions, options.verify);
        if (fallbackReason) await gpu.release();
        else [session, backend] = [gpu, 'webgpu'];
      } catch (e) {
        fallbackReason = 'creating the WebGPU session failed: ' + messageOf(e);
      }
    }
    if (wanted === 'webgpu' && backend !== 'webgpu') throw new Error('WebGPU was required (backend: "webgpu") but ' + fallbackReason);
  }
  session ??= await createSession(ort, model, { ...sessionOptions, executionProviders: ['wasm'] });
  const sessionCreateMs = now() - started;
  const live = session;
  return {
    backend,
    fallbackReason,
    sessionCreateMs,
    async run(inputs) {
      return fromResults(await live.run(toFeeds(ort.Tensor, inputs)));
    },
    release: () => live.release(),
  };
}
`;
