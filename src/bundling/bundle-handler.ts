// Bundles the Lambda handler with esbuild, leaving onnxruntime to the layer.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { DeployModelError } from '../errors.js';
import type { IoHelper } from '../io/io-host.js';
import { packageRoot } from '../package-root.js';

export type HandlerTarget = 'node22' | 'node20';

/**
 * Packages the function loads from the onnxruntime layer (`/opt/nodejs/node_modules`) instead of
 * the bundle. onnxruntime-common goes with onnxruntime-node: a second, bundled copy would hold its
 * own backend registry, in which onnxruntime-node never registered itself.
 */
export const LAYER_PACKAGES: readonly string[] = ['onnxruntime-node', 'onnxruntime-common'];

/**
 * Prepended to the ESM bundle so that CommonJS code inside it finds `require`, `__filename` and
 * `__dirname`, which ES modules lack (esbuild's `__require` shim calls this `require`).
 */
export const ESM_BANNER = [
  "import { createRequire as __dmCreateRequire } from 'node:module';",
  "import { fileURLToPath as __dmFileURLToPath } from 'node:url';",
  "import { dirname as __dmDirname } from 'node:path';",
  'const require = __dmCreateRequire(import.meta.url);',
  'const __filename = __dmFileURLToPath(import.meta.url);',
  'const __dirname = __dmDirname(__filename);',
].join('\n');

export interface HandlerBuildInput {
  /** The handler source, `.ts` or `.js`. */
  entry: string;
  /** The bundle to write; Lambda loads `index.mjs` for the handler `index.handler`. */
  outfile: string;
  /**
   * The Node version the bundle is compiled for.
   * @default 'node22'
   */
  target?: HandlerTarget;
  /** @default false */
  minify?: boolean;
  /**
   * Writes `<outfile>.map` and links it; run with `NODE_OPTIONS=--enable-source-maps` to use it.
   * @default false
   */
  sourcemap?: boolean;
  /**
   * Paths in the bundle's comments and source map are relative to this folder, so the output does
   * not depend on the directory the build runs from.
   * @default - the deploy-model package root
   */
  workingDir?: string;
}

/**
 * Rewrites `import ... from 'onnxruntime-node'` into a `require()` through the banner's
 * createRequire. Plain Node ignores NODE_PATH for ESM imports (Lambda's runtime patches that in,
 * other hosts such as the local executor do not); require() honours NODE_PATH everywhere, so the
 * same bundle finds the layer on Lambda and locally.
 */
export function requireFromLayerPlugin(packages: readonly string[] = LAYER_PACKAGES): Plugin {
  const escaped = packages.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const filter = new RegExp(`^(${escaped.join('|')})(/.*)?$`);
  const namespace = 'deploy-model-layer';
  return {
    name: 'deploy-model:require-from-layer',
    setup(b) {
      b.onResolve({ filter }, (args) =>
        args.namespace === namespace ? { path: args.path, external: true } : { path: args.path, namespace },
      );
      b.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The esbuild options for the Lambda handler bundle: one ESM file, onnxruntime left to the layer,
 * no legal comments or metafile, paths relative to a fixed folder, so the same sources give the
 * same bytes.
 */
export function handlerBuildOptions(input: HandlerBuildInput): BuildOptions {
  return {
    entryPoints: [input.entry],
    outfile: input.outfile,
    absWorkingDir: input.workingDir ?? packageRoot(),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: input.target ?? 'node22',
    // ESM builds prefer a package's ES module entry, as aws-lambda-nodejs does.
    mainFields: ['module', 'main'],
    external: [...LAYER_PACKAGES],
    plugins: [requireFromLayerPlugin()],
    banner: { js: ESM_BANNER },
    minify: input.minify ?? false,
    sourcemap: input.sourcemap ?? false,
    legalComments: 'none',
    charset: 'utf8',
    metafile: false,
    write: true,
    logLevel: 'silent',
  };
}

export interface BundleHandlerOptions extends Omit<HandlerBuildInput, 'entry'> {
  /** @default - `resolveHandlerEntry()`: the package's Lambda handler */
  entry?: string;
  io?: IoHelper;
}

export interface BundleHandlerResult {
  file: string;
  bytes: number;
  /** The source map, when `sourcemap` was set. */
  map?: string;
  warnings: string[];
}

/** Runs esbuild with `handlerBuildOptions`; warnings go to the IoHost as `DM_BUNDLE_WARNING`. */
export async function bundleHandler(options: BundleHandlerOptions): Promise<BundleHandlerResult> {
  const { io, ...input } = options;
  const entry = input.entry ?? resolveHandlerEntry();
  const buildOptions = handlerBuildOptions({ ...input, entry });
  await mkdir(dirname(options.outfile), { recursive: true });
  let result;
  try {
    result = await build(buildOptions);
  } catch (cause) {
    const errors = (cause as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new DeployModelError(
      'BUNDLE_FAILED',
      `esbuild could not bundle the handler "${entry}": ${first?.text ?? String(cause)}${where}. Fix the source, or check that its imports are installed.`,
      { cause, details: { entry, errors: errors.map((e) => e.text) } },
    );
  }
  const warnings = result.warnings.map((w) => w.text);
  for (const w of warnings) io?.warn('DM_BUNDLE_WARNING', `esbuild: ${w}`, { entry });
  const bytes = (await stat(options.outfile)).size;
  const map = buildOptions.sourcemap ? `${options.outfile}.map` : undefined;
  io?.info('DM_BUNDLE_HANDLER', `Bundled the handler (${bytes} bytes)`, { entry, file: options.outfile, bytes });
  return { file: options.outfile, bytes, ...(map ? { map } : {}), warnings };
}

/**
 * The package's Lambda handler: `handlers/lambda-entry.ts` when the sources are there (tests, a
 * checkout), else the compiled `dist/handlers/lambda-entry.js` (the published package).
 */
export function resolveHandlerEntry(root: string = packageRoot()): string {
  const candidates = [join(root, 'handlers', 'lambda-entry.ts'), join(root, 'dist', 'handlers', 'lambda-entry.js')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new DeployModelError(
      'HANDLER_ENTRY_NOT_FOUND',
      `The Lambda handler is missing: looked for ${candidates.map((c) => `"${c}"`).join(' and ')}. ` +
        'Reinstall deploy-model, or in a checkout run `npm run build`.',
      { details: { candidates }, kind: 'internal' },
    );
  }
  return found;
}
