import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import type { RnPlan } from '../../../src/targets/react-native/plan.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';

// GIVEN a project with the silero VAD model (three inputs, an int64 scalar) and a react-native
// target beside a web one, driven through the programmatic Toolkit as the CLI drives it.

let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
const load = () => toolkit.load({ cwd: dir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-rn-toolkit-'));
  await copyFile(REAL_MODELS.sileroVad, path.join(dir, 'vad.onnx'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'vad',
    model: { path: './vad.onnx' },
    targets: { mobile: { type: 'react-native', packageName: '@acme/vad-model', executionProviders: ['xnnpack', 'cpu'] }, site: { type: 'web' } },
  };\n`);
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a react-native target through the Toolkit: build-only', () => {
  it('validates and plans: the package, its files and the settings the app needs', async () => {
    const project = await load();
    expect(await toolkit.validate(project, ['mobile'])).toEqual([]);
    const plan = (await toolkit.plan(project, ['mobile'])).mobile as RnPlan;
    expect(plan).toMatchObject({
      type: 'react-native', targetName: 'mobile', resourceName: 'vad-dev-mobile', packageName: '@acme/vad-model', ortReactNativeVersion: '1.24.3',
      modelAsset: 'assets/model.onnx', metro: { assetExts: ['onnx', 'ort'] }, expo: { plugins: ['onnxruntime-react-native'] },
    });
    expect(plan.files.map((f) => f.path)).toEqual(['README.md', 'assets.d.ts', 'assets/model.onnx', 'expo-plugins.json', 'index.ts', 'metro-assets.js', 'package.json']);
  });

  it('builds the package into the build folder, and reuses the build when nothing changed', async () => {
    const built = (await toolkit.build(await load(), ['mobile'])).mobile!;
    const pkg = path.join(dir, '.deploy-model/dev/mobile/acme__vad-model');
    expect(built.artifacts.map((a) => [a.kind, a.file])).toEqual(expect.arrayContaining([
      ['index.ts', path.join(pkg, 'index.ts')], ['assets/model.onnx', path.join(pkg, 'assets/model.onnx')], ['package.json', path.join(pkg, 'package.json')],
    ]));
    expect(await readFile(path.join(pkg, 'assets/model.onnx'))).toEqual(await readFile(REAL_MODELS.sileroVad));
    expect(JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8'))).toMatchObject({ name: '@acme/vad-model', peerDependencies: { 'onnxruntime-react-native': '1.24.3' } });
    expect(await readFile(path.join(pkg, 'index.ts'), 'utf8')).toContain('"executionProviders": [\n    "xnnpack",\n    "cpu"\n  ]');
    expect((await toolkit.build(await load(), ['mobile'])).mobile!.cached).toBe(true);
    // synth writes nothing more for a package.
    expect((await toolkit.synth(await load(), ['mobile'])).mobile!.artifacts).toEqual(built.artifacts);
  });

  it('refuses deploy with TARGET_ACTION_UNAVAILABLE and the fix; nothing is deployed', async () => {
    const report = await toolkit.deploy(await load(), ['mobile']);
    expect(report.targets).toEqual([expect.objectContaining({ name: 'mobile', type: 'react-native', status: 'failed', error: expect.objectContaining({ code: 'TARGET_ACTION_UNAVAILABLE' }) })]);
    const message = report.targets[0]!.error!.message;
    expect(message).toContain("Target 'mobile' (react-native) cannot be deployed");
    expect(message).toContain('deploy-model build --target mobile');
    expect(message).toContain('does not build the native app or run the model on a device');
    expect(host.codes()).not.toContain('DM_SMOKE_START');
  });

  it('refuses smoke and invoke the same way; status says nothing is deployed, destroy finds nothing', async () => {
    const smoke = await toolkit.smoke(await load(), ['mobile']);
    expect(smoke.targets[0]).toMatchObject({ status: 'failed', error: { code: 'TARGET_ACTION_UNAVAILABLE' } });
    await expect(toolkit.invoke(await load(), 'mobile', { inputs: [] })).rejects.toMatchObject({ code: 'TARGET_ACTION_UNAVAILABLE', message: expect.stringContaining('cannot be smoke-tested or invoked') });
    const [status] = await toolkit.status(await load(), ['mobile']);
    expect(status).toMatchObject({ name: 'mobile', type: 'react-native', state: 'not-deployed', details: { package: '@acme/vad-model', built: true } });
    expect(await toolkit.destroy(await load(), ['mobile'])).toEqual([{ name: 'mobile', removed: false }]);
    expect(existsSync(path.join(dir, '.deploy-model/dev/mobile/acme__vad-model/index.ts'))).toBe(true);
  });

  it('refuses, at validate, a model the ONNX Runtime of onnxruntime-react-native cannot load, naming the value, the rule and the fix', async () => {
    // GIVEN the project's signature with an opset past ONNX Runtime 1.24's (onnxruntime-node 1.30 loads opset 26)
    const project = await load();
    const problems = await toolkit.validate({ ...project, signature: { ...project.signature, opsets: { 'ai.onnx': 26 } } }, ['mobile']);
    expect(problems).toEqual([{
      path: 'model.path', value: project.signature.file,
      rule: 'the model imports ai.onnx opset 26; onnxruntime-react-native 1.24.3 (ONNX Runtime 1.24) implements up to 25',
      fix: 'export it at opset 25 or lower (torch.onnx.export(..., opset_version=25)) or convert it with onnx.version_converter',
    }]);
    await expect(toolkit.build({ ...project, signature: { ...project.signature, opsets: { 'ai.onnx': 26 } } }, ['mobile'])).rejects.toMatchObject({ code: 'TARGET_INVALID' });
  });
});
