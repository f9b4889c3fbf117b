/** `deploy-model init`: a starter config beside the model, and the build outputs git-ignored. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DeployModelError } from '../../errors.js';
import type { ModelSignature } from '../../model/types.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { outputOptions } from '../common-options.js';

/** A resource-safe name from the model's file name. */
export function nameFromModel(file: string): string {
  const base = path.basename(file, path.extname(file)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const name = /^[a-z]/.test(base) ? base : `model-${base}`;
  return name.slice(0, 40).replace(/-+$/, '') || 'model';
}

/** The starter config for a model: a local target, and shape hints for inputs with inner dynamic dims. */
export function starterConfig(modelRel: string, signature: ModelSignature | undefined, name: string): string {
  const dynamicInner = signature?.inputs.filter((i) => i.shape?.some((d, idx) => idx > 0 && typeof d === 'string')) ?? [];
  const inputsHint = dynamicInner.length
    ? `\n    // Shapes for dynamic dims, used by smoke tests and TensorRT profiles (default: 1 for the first dim, 64 for others):\n    // inputs: { ${dynamicInner.map((i) => `${JSON.stringify(i.name)}: { shape: [${i.shape!.map((d, idx) => (typeof d === 'number' ? d : idx === 0 ? 1 : 64)).join(', ')}] }`).join(', ')} },`
    : '';
  return `import { defineConfig } from 'deploy-model';

export default defineConfig({
  name: ${JSON.stringify(name)},
  model: {
    path: ${JSON.stringify(modelRel)},${inputsHint}
  },
  targets: {
    // Runs the real Lambda artifacts on this machine, no cloud: \`npx deploy-model deploy\`.
    local: { type: 'local' },
    // lambda: { type: 'aws-lambda', region: 'eu-west-1', architecture: 'arm64' },
  },
  smoke: { input: 'auto', maxLatencyMs: 2000 },
});
`;
}

/** What deploy-model writes beside the config and no repository should hold: builds, local state, CDK assemblies. */
export const BUILD_OUTPUTS = ['.deploy-model/', 'cdk.out/'];

/** Adds the build outputs to `<dir>/.gitignore` (created if needed); returns the entries it added. */
export async function ignoreBuildOutputs(dir: string): Promise<string[]> {
  const file = path.join(dir, '.gitignore');
  const text = await readFile(file, 'utf8').catch(() => '');
  const present = new Set(text.split('\n').map((l) => l.trim().replace(/^\//, '')));
  const missing = BUILD_OUTPUTS.filter((entry) => !present.has(entry) && !present.has(entry.replace(/\/$/, '')));
  if (missing.length === 0) return [];
  const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeFile(file, `${text}${prefix}# deploy-model: builds, local deployments, CDK assemblies\n${missing.join('\n')}\n`);
  return missing;
}

export function registerInit(program: Command): void {
  outputOptions(program.command('init'))
    .description('Write a starter deploy-model.config.ts with a local target (never overwrites)')
    .option('-m, --model <path>', 'the ONNX model to deploy (its signature is read to fill in hints)')
    .option('-d, --dir <dir>', 'folder to write the config in', '.')
    .option('-n, --name <name>', 'deployment name (default: from the model file name)')
    .action(async (opts: GlobalOptions & { model?: string; dir: string; name?: string }) => {
      const cli = makeContext(opts);
      const { CONFIG_FILE_NAMES } = await import('../../config/load-config.js');
      const dir = path.resolve(opts.dir);
      const existing = CONFIG_FILE_NAMES.map((n) => path.join(dir, n)).find((f) => existsSync(f));
      if (existing) {
        throw new DeployModelError('CONFIG_EXISTS', `${existing} already exists; init never overwrites a config. Edit it, or remove it first.`, { details: { file: existing } });
      }
      let signature: ModelSignature | undefined;
      let modelRel = './model.onnx';
      if (opts.model) {
        const modelAbs = path.resolve(opts.model);
        signature = await cli.toolkit.inspect(modelAbs);
        modelRel = path.relative(dir, modelAbs).split(path.sep).join('/');
        if (!modelRel.startsWith('.')) modelRel = `./${modelRel}`;
      }
      const name = opts.name ?? nameFromModel(opts.model ?? 'model.onnx');
      if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) {
        throw new DeployModelError('NAME_INVALID', `--name '${name}' is not valid: use 1-40 characters a-z, 0-9 and -, starting with a letter.`, { kind: 'usage' });
      }
      const file = path.join(dir, CONFIG_FILE_NAMES[0]);
      await writeFile(file, starterConfig(modelRel, signature, name), { flag: 'wx' });
      const ignored = await ignoreBuildOutputs(dir);
      if (cli.json) cli.outJson({ file, name, model: modelRel, gitignore: ignored });
      else cli.out(`Wrote ${file}${ignored.length ? `\nAdded ${ignored.join(' and ')} to ${path.join(dir, '.gitignore')}` : ''}${opts.model ? '' : `\nSet model.path to your .onnx file`}\nNext: npx deploy-model deploy`);
    });
}
