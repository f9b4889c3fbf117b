/**
 * Builds the constructs' assets at synth through CDK's asset bundling: a local bundler that runs
 * deploy-model's builders (`build-assets.ts`) in a child Node process with `spawnSync`, since
 * constructs cannot await. CDK skips it for stacks that need no assets (`cdk ls`, `cdk destroy`,
 * stacks left out by `--exclusively`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DockerImage, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import { DeployModelError } from '../src/errors.js';
import type {
  BuildLambdaImageContextOptions, BuildModelFunctionZipOptions, BuildOnnxRuntimeLayerZipOptions, BuildTritonModelArchiveOptions, LambdaImageContext,
  ModelFunctionZip, OnnxRuntimeLayerZip, TritonModelArchive,
} from './build-assets.js';

/** What to build; the output folder is CDK's. Plain data: it is part of CDK's cache key of the asset. */
export type AssetBuildRequest =
  | { readonly kind: 'function'; readonly options: Omit<BuildModelFunctionZipOptions, 'outDir'>; readonly stamp?: string }
  | { readonly kind: 'layer'; readonly options: Omit<BuildOnnxRuntimeLayerZipOptions, 'outDir'>; readonly stamp?: string }
  | { readonly kind: 'triton'; readonly options: Omit<BuildTritonModelArchiveOptions, 'outDir'>; readonly stamp?: string }
  | { readonly kind: 'lambda-image'; readonly options: Omit<BuildLambdaImageContextOptions, 'outDir'>; readonly stamp?: string };

/** What each kind of build returns. */
export interface AssetBuildResults {
  function: ModelFunctionZip;
  layer: OnnxRuntimeLayerZip;
  triton: TritonModelArchive;
  'lambda-image': LambdaImageContext;
}

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: Record<string, unknown>; kind?: 'user' | 'usage' | 'internal' } };

/**
 * The builder process: `dist/infra/asset-builder.js` in the package; from the TypeScript sources
 * (a checkout, the tests) `asset-builder.ts` through tsx.
 */
export function assetBuilderCommand(moduleUrl: string = import.meta.url): { file: string; args: string[] } {
  const fromSources = moduleUrl.endsWith('.ts');
  const file = fileURLToPath(new URL(fromSources ? './asset-builder.ts' : './asset-builder.js', moduleUrl));
  if (!existsSync(file)) {
    throw new DeployModelError('CDK_BUNDLING_FAILED', `deploy-model's asset builder ${file} is missing, so the constructs cannot build their assets at synth. Reinstall deploy-model (in a checkout of it: npm run build).`, { details: { file }, kind: 'internal' });
  }
  const loader = fromSources ? ['--import', pathToFileURL(createRequire(moduleUrl).resolve('tsx')).href] : [];
  return { file, args: [...loader, file] };
}

/**
 * Runs one build synchronously in a child Node process and returns its result. A DeployModelError
 * of the builder comes back with its code, its message prefixed with `what` (the construct path).
 */
export function runAssetBuilder<R extends AssetBuildRequest>(request: R, outDir: string, what: string): AssetBuildResults[R['kind']] {
  const command = assetBuilderCommand();
  const child = spawnSync(process.execPath, [...command.args, JSON.stringify(request), outDir], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, windowsHide: true,
  });
  const fix = 'Run the CDK app with Node.js (node, tsx or ts-node), or build the artifact in a step of its own (buildModelFunctionZip, buildOnnxRuntimeLayerZip, buildTritonModelArchive from deploy-model/cdk) and pass the file to the construct\'s code or modelArchive prop.';
  if (child.error) {
    throw new DeployModelError('CDK_BUNDLING_FAILED', `${what}: could not start ${process.execPath} to build the ${request.kind} asset: ${child.error.message}. ${fix}`, { cause: child.error, details: { execPath: process.execPath, kind: request.kind } });
  }
  const line = child.stdout.trim().split('\n').pop() ?? '';
  let reply: Reply | undefined;
  try {
    reply = JSON.parse(line) as Reply;
  } catch {
    reply = undefined;
  }
  if (!reply) {
    const stderr = child.stderr.trim().split('\n').slice(-12).join('\n');
    throw new DeployModelError('CDK_BUNDLING_FAILED', `${what}: building the ${request.kind} asset failed (exit ${child.status ?? child.signal}):\n${stderr}\n${fix}`, { details: { status: child.status, signal: child.signal, stderr }, kind: 'internal' });
  }
  if (!reply.ok) {
    const { code, message, details, kind } = reply.error;
    throw new DeployModelError(code, `${what}: ${message}`, { details: details ?? {}, kind: kind ?? 'user' });
  }
  return reply.result as AssetBuildResults[R['kind']];
}

/** Results by request, for an asset that CDK took from its own cache without bundling again. */
const RESULTS = new Map<string, unknown>();

/**
 * CDK's local bundling hook. `request` is a public field on purpose: CDK hashes the bundling
 * options into the asset's cache key, so two requests never share a bundle.
 */
class LocalAssetBuild<K extends AssetBuildRequest['kind']> implements ILocalBundling {
  /** The builder's error, kept because CDK rethrows it as a plain ValidationError. */
  error?: unknown;

  constructor(readonly request: AssetBuildRequest & { kind: K }, private readonly what: string) {}

  tryBundle(outputDir: string): boolean {
    try {
      RESULTS.set(JSON.stringify(this.request), runAssetBuilder<AssetBuildRequest>(this.request, outputDir, this.what));
    } catch (e) {
      this.error = e;
      throw e;
    }
    return true;
  }
}

/** An asset built at synth from a request. */
export interface SynthBuild<K extends AssetBuildRequest['kind']> {
  /** For `Code.fromAsset` / `AssetStaging`: the local build, and an image that is never run. */
  readonly bundling: BundlingOptions;
  /**
   * Creates the asset (which bundles it) and returns what `create` returns; a DeployModelError
   * of the build is rethrown as it is, not wrapped in CDK's error.
   */
  stage<T>(create: () => T): T;
  /** What the build reported; undefined when CDK skipped bundling for this stack. */
  result(): AssetBuildResults[K] | undefined;
}

export function synthBuild<K extends AssetBuildRequest['kind']>(request: AssetBuildRequest & { kind: K }, what: string): SynthBuild<K> {
  const local = new LocalAssetBuild<K>(request, what);
  return {
    bundling: {
      local,
      // Required by the type. CDK runs it only when the local build declines, and it never does:
      // it builds or throws (CDK_BUNDLING_FAILED, with the fix), so no Docker is needed.
      image: DockerImage.fromRegistry('deploy-model-builds-locally'),
    },
    stage<T>(create: () => T): T {
      try {
        return create();
      } catch (e) {
        throw local.error ?? e;
      }
    },
    result: () => RESULTS.get(JSON.stringify(request)) as AssetBuildResults[K] | undefined,
  };
}

/** Size and modification time of a file: in a request, so that an edited model is bundled again in the same process. */
export function fileStamp(file: string): string {
  const info = statSync(file);
  return `${info.size}:${info.mtimeMs}`;
}
