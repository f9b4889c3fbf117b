// Finds, bundles, imports and validates the config file.
import { existsSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { build, type BuildFailure, type Plugin } from 'esbuild';
import { DeployModelError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { isModelUrl } from '../model/remote/model-url.js';
import { configSchema, type Config } from './schema.js';
import { formatIssues, problemLine, type ConfigProblem } from './format-issues.js';

/** Names tried, in order, in each folder from the working directory upward. */
export const CONFIG_FILE_NAMES = [
  'deploy-model.config.ts',
  'deploy-model.config.mts',
  'deploy-model.config.js',
  'deploy-model.config.mjs',
] as const;

export interface LoadConfigOptions {
  /** @default process.cwd() */
  cwd?: string;
  /** An explicit config file; skips the upward search. */
  configFile?: string;
  /** @default 'dev' */
  stage?: string;
}

/** Where a config came from, without the config itself. */
export interface ConfigSource {
  /** Absolute path of the config file. */
  configFile: string;
  /** The config file's folder: relative paths in the config are resolved from here. */
  rootDir: string;
  /** Absolute path of the model file; for a model at a URL, the URL until the toolkit downloads it. */
  modelPath: string;
  /** `model.path` when it is an object-storage URL (s3://, gs://, Azure Blob). */
  modelUrl?: string;
  stage: string;
}

export interface LoadedConfig extends ConfigSource {
  config: Config;
  /** Absolute path of the config file. */
  configFile: string;
  /** The config file's folder: relative paths in the config are resolved from here. */
  rootDir: string;
  /** Absolute path of the model file; for a model at a URL, the URL until the toolkit downloads it. */
  modelPath: string;
  /** `model.path` when it is an object-storage URL (s3://, gs://, Azure Blob). */
  modelUrl?: string;
  stage: string;
}

export function findConfigFile(cwd: string): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const STAGE_RE = /^[a-z][a-z0-9-]{0,19}$/;

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const stage = options.stage ?? 'dev';
  if (!STAGE_RE.test(stage)) {
    throw new DeployModelError('STAGE_INVALID', `Stage '${stage}' is not valid: a stage must start with a lowercase letter and contain only a-z, 0-9 and -, at most 20 characters (it becomes part of resource names). Pass e.g. --stage prod.`, { kind: 'usage', details: { stage } });
  }
  let configFile: string;
  if (options.configFile) {
    configFile = path.resolve(cwd, options.configFile);
    if (!existsSync(configFile) || !statSync(configFile).isFile()) {
      throw new DeployModelError('CONFIG_NOT_FOUND', `Config file ${configFile} does not exist. Check the --config path, or run \`deploy-model init\` to write one.`, { details: { file: configFile } });
    }
  } else {
    const found = findConfigFile(cwd);
    if (!found) {
      throw new DeployModelError('CONFIG_NOT_FOUND', `No ${CONFIG_FILE_NAMES.join(', ')} in ${cwd} or any folder above it. Run \`deploy-model init --model PATH\` to write one, or pass --config PATH.`, { details: { cwd } });
    }
    configFile = found;
  }

  const { value: exported, module } = await importConfigFile(configFile);
  let raw: unknown;
  try {
    raw = typeof exported === 'function' ? await (exported as (env: { stage: string }) => unknown)({ stage }) : await exported;
  } catch (e) {
    throw configThrew(configFile, module, e, typeof exported === 'function' ? `its default export (called with { stage: '${stage}' })` : 'its default export (a promise)');
  }
  const config = validateConfig(raw, configFile);
  const rootDir = path.dirname(configFile);
  if (isModelUrl(config.model.path)) return { config, configFile, rootDir, modelPath: config.model.path, modelUrl: config.model.path, stage };
  return { config, configFile, rootDir, modelPath: path.resolve(rootDir, config.model.path), stage };
}

/** Validates a raw config object; throws CONFIG_INVALID listing every problem. */
export function validateConfig(raw: unknown, configFile = 'config'): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DeployModelError('CONFIG_NO_DEFAULT_EXPORT', `${configFile} must export default a config object or a function returning one (got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}). Write \`export default defineConfig({ name, model, targets })\`.`, { details: { file: configFile } });
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems: ConfigProblem[] = formatIssues(result.error.issues, raw);
  const lines = problems.map((p) => `  - ${problemLine(p)}`).join('\n');
  throw new DeployModelError('CONFIG_INVALID', `${configFile} is not a valid deploy-model config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${lines}`, {
    cause: result.error,
    details: { file: configFile, problems },
  });
}

/**
 * A config that throws is the user's error, shown with the config's own stack frames (mapped to
 * its sources through the bundle's inline source map), not deploy-model's.
 */
function configThrew(configFile: string, modulePath: string, e: unknown, where: string): DeployModelError {
  const message = e instanceof Error ? e.message : String(e);
  const frames = (e instanceof Error && e.stack ? e.stack.split('\n').slice(1) : [])
    .map((line) => line.replaceAll(pathToFileURL(modulePath).href, configFile).replaceAll(modulePath, configFile))
    .filter((line) => line.includes(path.dirname(configFile)) && !line.includes(`${path.sep}node_modules${path.sep}`));
  return new DeployModelError('CONFIG_THREW', `${configFile} threw while loading, in ${where}: ${message}${frames.length ? `\n${frames.map((f) => `  ${f.trim()}`).join('\n')}` : ''}\nFix the error in the config file.`, {
    cause: e, details: { file: configFile, message, frames: frames.map((f) => f.trim()) },
  });
}

/**
 * `import { defineConfig } from 'deploy-model'` in a project that has not installed deploy-model
 * (`npx deploy-model` with nothing installed): the import goes to the running package. A project
 * that has it installed keeps its own copy.
 */
function selfImport(configFile: string): Plugin {
  return {
    name: 'deploy-model-self',
    setup(b) {
      b.onResolve({ filter: /^deploy-model(\/.*)?$/ }, (args) => {
        try {
          createRequire(configFile).resolve(args.path);
          return undefined;
        } catch {
          try {
            return { path: pathToFileURL(createRequire(path.join(packageRoot(), 'package.json')).resolve(args.path)).href, external: true };
          } catch {
            return undefined;
          }
        }
      });
    },
  };
}

async function importConfigFile(configFile: string): Promise<{ value: unknown; module: string }> {
  // Bundle beside the config so bare imports resolve from the user's node_modules; packages stay
  // external (deploy-model, zod...) and only the user's own files are inlined.
  let code: string;
  try {
    const result = await build({
      entryPoints: [configFile],
      absWorkingDir: path.dirname(configFile),
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      plugins: [selfImport(configFile)],
      logLevel: 'silent',
      sourcemap: 'inline',
    });
    code = result.outputFiles[0].text;
  } catch (e) {
    const failure = e as BuildFailure;
    const first = failure.errors?.[0];
    if (first) {
      const file = first.location ? path.resolve(path.dirname(configFile), first.location.file) : configFile;
      const loc = first.location ? `${file}:${first.location.line}:${first.location.column + 1}` : file;
      const snippet = first.location?.lineText ? `\n    ${first.location.lineText.trim()}` : '';
      throw new DeployModelError('CONFIG_SYNTAX', `${loc}: ${first.text}${snippet}\nFix the config file and run again.`, {
        cause: e,
        details: { file: configFile, line: first.location?.line, column: first.location ? first.location.column + 1 : undefined },
      });
    }
    throw new DeployModelError('CONFIG_LOAD_FAILED', `Could not bundle ${configFile}: ${(e as Error).message}`, { cause: e, details: { file: configFile } });
  }
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  const tmp = path.join(path.dirname(configFile), `.deploy-model.config.${hash}.${process.pid}.mjs`);
  await writeFile(tmp, code);
  // Stack frames then point into the user's sources, through the bundle's inline source map.
  process.setSourceMapsEnabled(true);
  try {
    const mod = (await import(pathToFileURL(tmp).href)) as { default?: unknown };
    if (!('default' in mod) || mod.default === undefined) {
      throw new DeployModelError('CONFIG_NO_DEFAULT_EXPORT', `${configFile} has no default export. Write \`export default defineConfig({ ... })\`.`, { details: { file: configFile } });
    }
    return { value: mod.default, module: tmp };
  } catch (e) {
    if (e instanceof DeployModelError) throw e;
    throw configThrew(configFile, tmp, e, 'its top level');
  } finally {
    await rm(tmp, { force: true });
  }
}
