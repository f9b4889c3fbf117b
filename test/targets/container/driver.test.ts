import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { configSchema } from '../../../src/config/schema.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { containerDriver } from '../../../src/targets/container/driver.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import type { TargetContext } from '../../../src/targets/driver.js';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';

describe('container driver without a builder', () => {
  let dir: string;
  let ctx: TargetContext<ContainerTargetConfig>;
  const host = new RecordingIoHost();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-driver-'));
    const config = configSchema.parse({
      name: 'ocr-cls', model: { path: REAL_MODELS.cls }, targets: { image: { type: 'container', push: 'registry.example.com/ocr/cls', tag: 'v1' } },
    });
    ctx = { ...targetContext<ContainerTargetConfig>({ config, targetName: 'image', signature: await inspectModel(REAL_MODELS.cls), dir, host }), workDir: join(dir, 'work') };
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('synth writes the context and the manifests, which name the image by its content tag', async () => {
    const { artifacts } = await containerDriver.synth!(ctx);
    const context = artifacts.find((a) => a.kind === 'build context')!;
    expect(context.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await readdir(join(ctx.workDir, 'k8s'))).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'inferenceservice.yaml', 'service.yaml']);
    const deployment = parse(await readFile(join(ctx.workDir, 'k8s', 'deployment.yaml'), 'utf8'));
    expect(deployment.spec.template.spec.containers[0].image).toBe(`registry.example.com/ocr/cls:${context.sha256!.slice(0, 12)}`);
    const files = await readdir(join(ctx.workDir, 'context'), { recursive: true });
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'serve.mjs', 'healthcheck.cjs', join('model', 'model.onnx'), join('model', 'signature.json')]));
    // Only the linux x64 binding of onnxruntime-node, not the 300 MB of every platform.
    const bindings = files.filter((f) => f.endsWith('.node'));
    expect(bindings).toEqual([join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node')]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_BUNDLE_HANDLER', 'DM_CONTAINER_CONTEXT', 'DM_CONTAINER_MANIFESTS']));
  });

  it('has nothing to connect to and reports not-deployed before a deploy', async () => {
    await expect(containerDriver.connect(ctx)).rejects.toMatchObject({ code: 'TARGET_ACTION_UNAVAILABLE' });
    expect(await containerDriver.status(ctx)).toEqual({ state: 'not-deployed' });
    expect(await containerDriver.destroy(ctx)).toEqual({ removed: false });
  });
});
