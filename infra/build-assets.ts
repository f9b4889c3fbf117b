/**
 * The builders behind the constructs' `model` props: what `OnnxModelFunction`, `OnnxRuntimeLayer`
 * and `TritonSageMakerEndpoint` run at synth (in a child process, since constructs are
 * synchronous). Exported for pipelines that build the artifacts in a step of their own and pass
 * the files to the constructs' `code` / `modelArchive` props.
 *
 * Each writes one file into `outDir` and caches it by content (see `cacheDir`), so the same model
 * gives the same bytes, and a synth of an unchanged model rebuilds nothing.
 */
import path from 'node:path';
import { DeployModelError } from '../src/errors.js';
import type { ModelConfig } from '../src/config/schema.js';
import type { TritonOptionsInput } from '../src/kits/triton/index.js';
import { cachedBuild, defaultCacheDir, externalDataStamp, hash, toolchainFingerprint } from './_build-cache.js';

/** Bump when the bytes of an artifact can change for the same inputs and package version. */
const BUILDER_VERSION = '1';

interface CacheOption {
  /**
   * Folder of earlier builds, reused when the model and deploy-model are unchanged; `false` builds
   * every time.
   * @default - `$XDG_CACHE_HOME/deploy-model`, else `~/.cache/deploy-model` (shared with the CLI)
   */
  readonly cacheDir?: string | false;
}

/** One file a builder wrote. */
export interface BuiltFile {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** True when it was copied from the cache instead of built. */
  readonly cached: boolean;
}

export interface BuildModelFunctionZipOptions extends CacheOption {
  /** The .onnx file; its external data files are read from beside it. */
  readonly model: string;
  /** Folder that receives `function.zip`. */
  readonly outDir: string;
}

export interface ModelFunctionZip extends BuiltFile {
  /** Counted by Lambda against the 250 MB limit of function code plus layers. */
  readonly unzippedBytes: number;
  /** The model file plus its external data files. */
  readonly modelBytes: number;
  /** Paths inside the zip, sorted. */
  readonly files: string[];
}

/**
 * The Lambda function zip for a model: the bundled handler as `index.mjs` (handler
 * `index.handler`), the model as `model/model.onnx` with its external data, and the signature read
 * from the graph as `model/signature.json`. Deterministic: same model, same bytes.
 */
export async function buildModelFunctionZip(options: BuildModelFunctionZipOptions): Promise<ModelFunctionZip> {
  const { inspectModel } = await import('../src/model/inspect-model.js');
  const { buildFunctionArtifact, signatureJson } = await import('../src/bundling/build-function-artifact.js');
  const signature = await inspectModel(options.model);
  const key = hash('function', BUILDER_VERSION, toolchainFingerprint(), signatureJson(signature), externalDataStamp(signature.file, signature.externalData));
  const built = await cachedBuild({
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    kind: 'functions',
    slot: signature.file,
    key,
    fileName: 'function.zip',
    outDir: options.outDir,
    build: async (workDir) => {
      const a = await buildFunctionArtifact({ modelPath: signature.file, signature, outDir: workDir });
      return { bytes: a.zip.bytes, sha256: a.zip.sha256, unzippedBytes: a.unzippedBytes, modelBytes: a.modelBytes, files: a.files };
    },
  });
  return { ...built, file: path.resolve(options.outDir, 'function.zip') };
}

export interface BuildOnnxRuntimeLayerZipOptions extends CacheOption {
  /** The Lambda architecture the layer is for. */
  readonly architecture: 'x86_64' | 'arm64';
  /** Folder that receives `onnxruntime-node-<version>-<architecture>.zip`. */
  readonly outDir: string;
}

export interface OnnxRuntimeLayerZip extends BuiltFile {
  /** Counted by Lambda against the 250 MB limit of function code plus layers. */
  readonly unzippedBytes: number;
  readonly ortVersion: string;
  readonly architecture: 'x86_64' | 'arm64';
  /** Paths inside the zip, sorted. */
  readonly files: string[];
}

/**
 * The onnxruntime-node Lambda layer for one architecture, pruned to the files it loads on Linux
 * (`nodejs/node_modules/onnxruntime-node/...`), from the onnxruntime-node installed next to
 * deploy-model.
 */
export async function buildOnnxRuntimeLayerZip(options: BuildOnnxRuntimeLayerZipOptions): Promise<OnnxRuntimeLayerZip> {
  const { buildOrtLayer } = await import('../layers/build-layer.js');
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const built = await buildOrtLayer({
    architecture: options.architecture,
    outDir: options.outDir,
    ...(cacheDir !== false && !process.env.DEPLOY_MODEL_NO_BUILD_CACHE ? { cacheDir: path.join(cacheDir, 'layers') } : {}),
  });
  return {
    file: path.resolve(built.zip.file), bytes: built.zip.bytes, sha256: built.zip.sha256, cached: built.cached,
    unzippedBytes: built.unzippedBytes, ortVersion: built.ortVersion, architecture: built.architecture, files: built.files,
  };
}

export interface BuildLambdaImageContextOptions extends CacheOption {
  /** The .onnx file; its external data files are read from beside it. */
  readonly model: string;
  readonly architecture: 'x86_64' | 'arm64';
  /** The Node 22 image it is built FROM. @default 'docker.io/library/node:22-bookworm-slim' */
  readonly baseImage?: string;
  /** Folder that receives `context/` (the image's build context) and the zips it is made of. */
  readonly outDir: string;
}

export interface LambdaImageContext {
  /** The build context: Dockerfile, task/ (/var/task), opt/ (/opt), runtime/bootstrap.mjs. */
  readonly contextDir: string;
  /** Derived from the context's content. */
  readonly tag: string;
  /** The model file plus its external data files. */
  readonly modelBytes: number;
}

/**
 * The build context of a Lambda container image for a model: the function zip and the
 * onnxruntime layer for the architecture, unpacked where Lambda puts them, behind the Runtime API
 * client the aws-lambda target's image uses. The image itself is built by whoever takes the
 * folder (CDK's image asset at `cdk deploy`, or a builder).
 */
export async function buildLambdaImageContext(options: BuildLambdaImageContextOptions): Promise<LambdaImageContext> {
  const { layoutLambdaImageContext } = await import('../src/kits/container/lambda-image-context.js');
  const { LAMBDA_IMAGE_BASE } = await import('../src/kits/container/base-images.js');
  const cache = options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir };
  const fn = await buildModelFunctionZip({ model: options.model, outDir: path.join(options.outDir, 'function'), ...cache });
  const layer = await buildOnnxRuntimeLayerZip({ architecture: options.architecture, outDir: path.join(options.outDir, 'layer'), ...cache });
  const { contextDir, tag } = await layoutLambdaImageContext({
    image: { baseImage: options.baseImage ?? LAMBDA_IMAGE_BASE, taskRoot: '/var/task', optDir: '/opt', platform: options.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64' },
    what: `The Lambda image of ${path.basename(options.model)}`, functionZip: fn.file, layerZip: layer.file, contextDir: path.join(options.outDir, 'context'),
  });
  return { contextDir: path.resolve(contextDir), tag, modelBytes: fn.modelBytes };
}

/**
 * Settings of the generated Triton configuration: the GPU targets' Triton options (engine,
 * precision, INT8 calibration, workspace, instances, engine cache, warmup) and the model's
 * batching and input shapes. The Triton release is the endpoint's `tritonVersion`.
 */
export interface TritonModelOptions extends Omit<TritonOptionsInput, 'tritonVersion'> {
  /**
   * Dynamic batching of concurrent requests along a dynamic first dim.
   * @default - off
   */
  readonly batching?: { readonly maxBatchSize?: number; readonly maxQueueDelayMs?: number; readonly preferredBatchSizes?: number[] };
  /**
   * Concrete shapes for inputs with dynamic dims, used by the warmup request,
   * e.g. `{ x: { shape: [1, 3, 640, 640] } }`.
   * @default - dynamic dims resolve to 1 (first dim) or 64
   */
  readonly inputs?: Record<string, { readonly shape: number[] }>;
}

export interface BuildTritonModelArchiveOptions extends CacheOption {
  /** The .onnx file; its external data files are read from beside it. */
  readonly model: string;
  /** Triton's model name: the model's folder in the archive. */
  readonly modelName: string;
  /** Folder that receives `model.tar.gz`. */
  readonly outDir: string;
  /**
   * Triton release (`YY.MM`) the configuration is written for.
   * @default DEFAULT_TRITON_VERSION
   */
  readonly tritonVersion?: string;
  /**
   * The generated configuration's settings.
   * @default - TensorRT in fp16 with warmup, one instance per GPU
   */
  readonly triton?: TritonModelOptions;
}

export interface TritonModelArchive extends BuiltFile {
  readonly modelName: string;
  /** Archive paths in order: `<modelName>/config.pbtxt`, `<modelName>/1/model.onnx`, ... */
  readonly entries: string[];
}

/**
 * SageMaker's model data for Triton: the model repository (`<modelName>/config.pbtxt` generated
 * from the graph's signature, `<modelName>/1/model.onnx`, the TensorRT engine cache folder) packed
 * into a reproducible `model.tar.gz`.
 */
export async function buildTritonModelArchive(options: BuildTritonModelArchiveOptions): Promise<TritonModelArchive> {
  const { inspectModel } = await import('../src/model/inspect-model.js');
  const triton = await import('../src/kits/triton/index.js');
  const { sha256File } = await import('../src/bundling/hash.js');
  const { modelName } = options;
  const { batching, inputs, ...rest } = options.triton ?? {};
  const parsed = triton.tritonOptionsSchema.safeParse({ ...rest, ...(options.tritonVersion ? { tritonVersion: options.tritonVersion } : {}) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeployModelError('TRITON_OPTIONS_INVALID', `triton.${issue.path.join('.')}: ${issue.message}.`, { details: { path: issue.path, issues: parsed.error.issues.map((i) => i.message) } });
  }
  const tritonOptions = parsed.data;
  const signature = await inspectModel(options.model);
  const config = triton.planTritonConfig({
    signature, modelName, host: 'aws-sagemaker', options: tritonOptions, inputShapes: inputs as ModelConfig['inputs'],
    ...(batching ? { batching: { maxBatchSize: 8, maxQueueDelayMs: 2, ...batching } } : {}),
  });
  const engineCache = tritonOptions.engine === 'tensorrt' ? triton.engineCacheLocation('aws-sagemaker', modelName, tritonOptions) : undefined;
  const table = tritonOptions.int8Calibration ? path.resolve(tritonOptions.int8Calibration.table) : undefined;
  const key = hash('triton', BUILDER_VERSION, toolchainFingerprint(), signature.sha256, externalDataStamp(signature.file, signature.externalData),
    triton.renderPbtxt(config), engineCache?.repositoryDir ?? '', table ? await sha256File(table) : '');
  const built = await cachedBuild({
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    kind: 'triton',
    slot: hash(signature.file, modelName, JSON.stringify(options.triton ?? {})),
    key,
    fileName: 'model.tar.gz',
    outDir: options.outDir,
    build: async (workDir) => {
      const repository = await triton.buildTritonRepository({
        signature, config, outDir: path.join(workDir, 'repository'), engineCacheDir: engineCache?.repositoryDir ?? null,
        ...(table ? { int8CalibrationTable: table } : {}),
      });
      const packed = await triton.packTritonRepository(repository.root, path.join(workDir, 'model.tar.gz'));
      return { bytes: packed.bytes, sha256: packed.sha256, modelName, entries: packed.entries };
    },
  });
  return { ...built, file: path.resolve(options.outDir, 'model.tar.gz') };
}
