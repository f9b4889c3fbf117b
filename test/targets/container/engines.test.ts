/**
 * The triton and openvino engines, and the platform and GPU rules: plans by equality, the generated
 * Triton configs against Triton's own load rules (test/references/triton), the coded errors at
 * validate, the build contexts, and what stage says on a machine without a GPU runtime or registry.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { planTritonConfig, tritonOptionsSchema } from '../../../src/kits/triton/index.js';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { exec } from '../../../src/targets/container/_exec.js';
import { detectBuilder, type Builder } from '../../../src/targets/container/builders.js';
import { createBuildContexts } from '../../../src/targets/container/create-build-context.js';
import { elfMachine } from '../../../src/targets/container/elf-machine.js';
import { detectGpuRuntime, ensureBaseImage } from '../../../src/targets/container/host-checks.js';
import { containerTarget } from '../../../src/targets/container/index.js';
import { buildEmulation, checkSmokeRun, describeBuild, emulatedRunFailure, runsHere } from '../../../src/targets/container/multi-platform.js';
import { openvinoOperatorSupport } from '../../../src/targets/container/openvino-operators.js';
import type { ContainerPlan } from '../../../src/targets/container/plan.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import { validateContainer } from '../../../src/targets/container/validate-container.js';
import { DeployModelError, isDeployModelError } from '../../../src/errors.js';
import { MODELS, SILERO_INPUTS } from '../../kits/triton/_models.js';
import { encodeModel, nodeProto, onnx, tensorInfo } from '../../_helpers/onnx-models.js';
import { checkTritonLoad } from '../../references/triton/check-triton-load.js';
import { ortModelIo } from '../../references/triton/ort-model-io.js';

const T = onnx.TensorProto.DataType;

function planInput(signature: ModelSignature, entry: Record<string, unknown>, model: Record<string, unknown> = {}) {
  const config = configSchema.parse({ name: 'cls', model: { path: signature.file, ...model }, targets: { image: { type: 'container', ...entry } } });
  return { config, stage: 'dev', targetName: 'image', target: config.targets.image as ContainerTargetConfig, signature, rootDir: '/project' };
}
const plan = (signature: ModelSignature, entry: Record<string, unknown>, model?: Record<string, unknown>): ContainerPlan => containerTarget.plan(planInput(signature, entry, model));

describe('engine triton', () => {
  let cls: ModelSignature;
  beforeAll(async () => { cls = await inspectModel(MODELS.cls); });

  it('plans the GPU targets\' repository with the engine cache under /mnt/models, where KServe\'s Triton runtime looks', () => {
    const p = plan(cls, { engine: 'triton', push: 'registry.example.com/ocr/cls' });
    expect(p.image.baseImage).toBe('nvcr.io/nvidia/tritonserver:25.06-py3');
    expect(p.uid).toBe(1000);
    // The same planner, options and rules as SageMaker, Vertex AI and Azure ML; only the cache path is the container's.
    expect(p.triton!.config).toEqual(planTritonConfig({
      signature: cls, modelName: 'cls', host: 'container', options: { ...tritonOptionsSchema.parse({}), engineCachePath: '/mnt/models/cls/trt_engine_cache' },
    }));
    expect(p.triton).toMatchObject({
      repository: '/mnt/models', tritonVersion: '25.06', engineCache: { path: '/mnt/models/cls/trt_engine_cache', volume: 'emptyDir' }, startupBudgetSeconds: 1200,
      command: ['tritonserver', '--model-repository=/mnt/models', '--http-port=8080', '--allow-grpc=false', '--model-control-mode=none', '--exit-on-error=true'],
    });
    expect(p.run).toMatchObject({ gpu: true, tmpfs: ['/mnt/models/cls/trt_engine_cache'], readyTimeoutMs: 1_200_000 });
    expect(p.rollout.steps[0]!.action).toMatch(/GPU container runtime/);
  });

  it('writes manifests that request the GPU on its pool, probes sized for the engine build, the cache on a volume, and an InferenceService on KServe\'s Triton runtime (raw mode)', () => {
    const { deployment, inferenceService } = plan(cls, { engine: 'triton', triton: { precision: 'int8', int8Calibration: { table: 'cal.flatbuffers' }, engineCacheVolume: { persistentVolumeClaim: 'trt-cache' } } }).manifests.objects as Record<string, any>;
    const pod = deployment.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.containers[0].resources.limits).toEqual({ memory: '1Gi', 'nvidia.com/gpu': '1' });
    // int8 builds take longest: 1800 s, polled every 10 s.
    expect(pod.containers[0].startupProbe).toEqual({ httpGet: { path: '/v2/health/live', port: 'http' }, periodSeconds: 10, failureThreshold: 180 });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'engine-cache', mountPath: '/mnt/models/cls/trt_engine_cache' });
    expect(pod.volumes).toContainEqual({ name: 'engine-cache', persistentVolumeClaim: { claimName: 'trt-cache' } });
    expect(pod.securityContext.runAsUser).toBe(1000);
    expect(inferenceService.metadata.annotations['serving.kserve.io/deploymentMode']).toBe('RawDeployment');
    const predictor = inferenceService.spec.predictor;
    expect(predictor.containers).toBeUndefined();
    expect(predictor.model).toMatchObject({ modelFormat: { name: 'onnx', version: '1' }, runtime: 'kserve-tritonserver', protocolVersion: 'v2', image: 'localhost/cls:<content-tag>' });
    expect(predictor.model.resources.limits).toEqual({ cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' });
    expect(predictor.tolerations).toEqual(pod.tolerations);
  });

  it('every real model\'s generated config.pbtxt, as the container plan makes it, passes Triton r25.09\'s load rules', async () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [MODELS.cls, {}, {}], [MODELS.cls, { precision: 'fp32', instancesPerGpu: 2 }, { batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } }],
      [MODELS.det, { engine: 'onnxruntime', warmup: false }, {}], [MODELS.rec, { precision: 'int8', int8Calibration: { table: 't.cache', format: 'tensorrt' } }, {}],
      [MODELS.silero, {}, { inputs: SILERO_INPUTS }], [MODELS.hello_deepa, {}, {}],
    ];
    for (const [path, triton, model] of cases) {
      const signature = await inspectModel(path);
      const p = plan(signature, { engine: 'triton', triton }, model);
      const { renderPbtxt } = await import('../../../src/kits/triton/index.js');
      const refusals = checkTritonLoad({ config: parsePbtxt(renderPbtxt(p.triton!.config)), model: await ortModelIo(path), directoryName: 'cls' });
      expect({ path, triton, refusals }).toEqual({ path, triton, refusals: [] });
    }
  }, 60_000);
});

describe('engine openvino', () => {
  it('plans config.json from the signature and the flags KServe\'s OVMS runtime gets', async () => {
    const cls = await inspectModel(MODELS.cls);
    const p = plan(cls, { engine: 'openvino', openvino: { streams: 2 } }, { inputs: { x: { shape: [1, 3, 48, 320] } }, batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } });
    expect(p.image.baseImage).toBe('docker.io/openvino/model_server:2026.2');
    expect(p.uid).toBe(5000);
    expect(p.openvino!.config).toEqual({
      model_config_list: [{ config: {
        name: 'cls', base_path: '/mnt/models', target_device: 'CPU', shape: { x: '(1:8,3,48,320)' },
        plugin_config: { PERFORMANCE_HINT: 'THROUGHPUT', NUM_STREAMS: '2' },
      } }],
    });
    expect(p.openvino!.args).toEqual(['--shape={"x":"(1:8,3,48,320)"}', '--plugin_config={"PERFORMANCE_HINT":"THROUGHPUT","NUM_STREAMS":"2"}', '--target_device=CPU']);
    const isvc = p.manifests.objects.inferenceService as Record<string, any>;
    expect(isvc.spec.predictor.model).toMatchObject({ runtime: 'kserve-openvino', modelFormat: { name: 'onnx', version: '1' }, args: p.openvino!.args });
    // No node pool to pin: the manifest stays valid in both KServe modes.
    expect(isvc.metadata.annotations).toBeUndefined();
    // Without pins or batching the model keeps its own dynamic shape; the hint is LATENCY.
    expect(plan(cls, { engine: 'openvino' }).openvino!.config.model_config_list[0]!.config).toEqual({ name: 'cls', base_path: '/mnt/models', target_device: 'CPU', plugin_config: { PERFORMANCE_HINT: 'LATENCY' } });
  });

  it('reads supported operators from the restated list: a version too old, an unsupported op, a domain without converters', () => {
    expect(openvinoOperatorSupport({ Conv: 3, Relu: 1 }, { 'ai.onnx': 13 }).problems).toEqual([]);
    expect(openvinoOperatorSupport({ Det: 1, Gelu: 1, 'ai.onnx.ml:ZipMap': 1, 'custom.ops:Foo': 1, 'com.microsoft:FusedConv': 1 }, { 'ai.onnx': 13 }).problems.map((p) => p.operator))
      .toEqual(['Det', 'Gelu', 'ai.onnx.ml:ZipMap', 'custom.ops:Foo']);
    expect(openvinoOperatorSupport({ SequenceAt: 1 }, { 'ai.onnx': 13 }).warnings).toHaveLength(1);
  });
});

describe('bad input: each a coded error at validate, naming what, why and the fix', () => {
  let dir: string;
  let cls: ModelSignature;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-engines-'));
    cls = await inspectModel(MODELS.cls);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const problems = async (signature: ModelSignature, entry: Record<string, unknown>) => validateContainer(planInput(signature, entry));

  it('an operator OpenVINO lacks (Det) refuses engine openvino, not onnxruntime', async () => {
    const file = join(dir, 'det-op.onnx');
    await writeFile(file, encodeModel({ nodes: [nodeProto('Det', ['x'], ['y'])], inputs: [tensorInfo('x', T.FLOAT, [3, 3])], outputs: [tensorInfo('y', T.FLOAT, [])] }));
    const signature = await inspectModel(file);
    const found = await problems(signature, { engine: 'openvino' });
    expect(found).toEqual([expect.objectContaining({
      path: 'targets.image.engine', rule: expect.stringMatching(/operator Det is listed as not supported by OpenVINO.*\(CONTAINER_OPENVINO_UNSUPPORTED_OP\)$/), fix: expect.stringMatching(/onnxruntime/),
    })]);
    expect(await problems(signature, { engine: 'onnxruntime' })).toEqual([]);
  });

  it("a dtype Triton's onnxruntime backend refuses (bfloat16 at 25.06), with the kit's rule", async () => {
    const file = join(dir, 'bf16.onnx');
    await writeFile(file, encodeModel({ nodes: [nodeProto('Identity', ['x'], ['y'])], inputs: [tensorInfo('x', T.BFLOAT16, ['n', 4])], outputs: [tensorInfo('y', T.BFLOAT16, ['n', 4])] }));
    const signature = await inspectModel(file);
    expect(await problems(signature, { engine: 'triton' })).toEqual([expect.objectContaining({ rule: expect.stringMatching(/bfloat16.*refuses.*\(TRITON_UNSUPPORTED_TENSOR\)$/) })]);
    // OVMS's KServe front end has no BF16 either.
    expect(await problems(signature, { engine: 'openvino' })).toEqual([expect.objectContaining({ rule: expect.stringMatching(/\(CONTAINER_OPENVINO_UNSUPPORTED_TENSOR\)$/) })]);
  });

  it('model.batching on a model without a batch dim (silero VAD: its state is [2, batch, 128]) refuses both engines, on model.batching', async () => {
    const vad = await inspectModel(MODELS.silero);
    const found = async (engine: string) => validateContainer(planInput(vad, { engine }, { inputs: SILERO_INPUTS, batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } }));
    expect(await found('openvino')).toEqual([{
      path: 'model.batching', value: '{"maxBatchSize":8,"maxQueueDelayMs":2}',
      rule: expect.stringMatching(/input 'state' has a fixed first dim \(2\).*\(CONTAINER_OPENVINO_BATCHING_UNSUPPORTED\)$/), fix: expect.stringMatching(/remove model\.batching/),
    }]);
    expect(await found('triton')).toEqual([expect.objectContaining({ path: 'model.batching', rule: expect.stringMatching(/\(TRITON_BATCHING_UNSUPPORTED\)$/) })]);
    // Without batching, OVMS gets the pinned shape of the one input the config pins.
    expect(plan(vad, { engine: 'openvino' }, { inputs: SILERO_INPUTS }).openvino!.config.model_config_list[0]!.config.shape).toEqual({ input: '(1,512)' });
  });

  it('a GPU engine on a pod spec without GPU; a GPU on a CPU engine', async () => {
    for (const gpu of [false, { count: 0 }]) {
      expect(await problems(cls, { engine: 'triton', gpu })).toContainEqual(expect.objectContaining({ path: 'targets.image.gpu', rule: expect.stringMatching(/serves on NVIDIA GPUs.*\(CONTAINER_GPU_REQUIRED\)$/) }));
    }
    expect(await problems(cls, { engine: 'openvino', gpu: {} })).toContainEqual(expect.objectContaining({ rule: expect.stringMatching(/CONTAINER_GPU_UNUSED/) }));
  });

  it('a platform the base image does not publish: OVMS is amd64 only', async () => {
    expect(await problems(cls, { engine: 'openvino', platforms: ['linux/amd64', 'linux/arm64'] })).toEqual([expect.objectContaining({
      path: 'targets.image.platforms', rule: expect.stringMatching(/openvino\/model_server:2026\.2 is published for linux\/amd64 only.*\(CONTAINER_PLATFORM_UNPUBLISHED\)$/), fix: expect.stringMatching(/remove linux\/arm64/),
    })]);
    // The Node base and Triton's publish both.
    expect(await problems(cls, { platforms: ['linux/amd64', 'linux/arm64'] })).toEqual([]);
    expect(await problems(cls, { engine: 'triton', platforms: ['linux/arm64'] })).toEqual([]);
  });

  it("a port KServe's runtime does not serve on", async () => {
    expect(await problems(cls, { engine: 'openvino', port: 9001 })).toEqual([expect.objectContaining({ path: 'targets.image.port', rule: expect.stringMatching(/CONTAINER_KSERVE_RUNTIME_PORT/) })]);
    expect(await problems(cls, { engine: 'openvino', port: 9001, kserve: false })).toEqual([]);
  });
});

describe('the engines\' build contexts: COPY only, the model where KServe\'s runtimes look', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'dm-engine-ctx-')); });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('triton: the repository at /mnt/models, NVIDIA\'s entry point, tritonserver as the command', async () => {
    const cls = await inspectModel(MODELS.cls);
    const p = plan(cls, { engine: 'triton' });
    const { contexts } = await createBuildContexts({ plan: p, signature: cls, outDir: join(dir, 'triton') });
    expect(contexts[0]!.files).toEqual(['Dockerfile', 'models/cls/1/model.onnx', 'models/cls/config.pbtxt']);
    expect(await readFile(join(contexts[0]!.dir, 'Dockerfile'), 'utf8')).toBe([
      '# Generated by deploy-model from the config; rebuilt on every build, do not edit.',
      'FROM nvcr.io/nvidia/tritonserver:25.06-py3',
      'COPY models/ /mnt/models/',
      'ENV HOME="/tmp"',
      'USER 1000:1000',
      'EXPOSE 8080',
      'STOPSIGNAL SIGTERM',
      'CMD ["tritonserver","--model-repository=/mnt/models","--http-port=8080","--allow-grpc=false","--model-control-mode=none","--exit-on-error=true"]',
      '',
    ].join('\n'));
  });

  it('openvino: version 1 at /mnt/models, config.json beside, ovms flags as the command', async () => {
    const cls = await inspectModel(MODELS.cls);
    const p = plan(cls, { engine: 'openvino' });
    const { contexts } = await createBuildContexts({ plan: p, signature: cls, outDir: join(dir, 'ovms') });
    expect(contexts[0]!.files).toEqual(['Dockerfile', 'models/1/model.onnx', 'ovms/config.json']);
    const dockerfile = await readFile(join(contexts[0]!.dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('FROM docker.io/openvino/model_server:2026.2\nCOPY models/ /mnt/models/\nCOPY ovms/config.json /opt/deploy-model/ovms/config.json\n');
    expect(dockerfile).toContain('CMD ["--config_path=/opt/deploy-model/ovms/config.json","--rest_port=8080","--port=9000","--file_system_poll_wait_seconds=0"]');
    expect(JSON.parse(await readFile(join(contexts[0]!.dir, 'ovms', 'config.json'), 'utf8'))).toEqual(p.openvino!.config);
  });
});

describe('this machine: what stage checks before building', () => {
  it('reads e_machine from onnxruntime-node\'s own x64 and arm64 binaries', async () => {
    const head = async (arch: string) => (await readFile(join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', arch, 'onnxruntime_binding.node'))).subarray(0, 20);
    expect(elfMachine(await head('x64'))).toBe(62);
    expect(elfMachine(await head('arm64'))).toBe(183);
    expect(elfMachine(Buffer.from('#!/bin/sh\n echo not elf'))).toBeUndefined();
  });

  it('runs a platform natively, under an enabled qemu binfmt entry with the F flag, or not at all', async () => {
    const binfmt = await mkdtemp(join(tmpdir(), 'dm-binfmt-'));
    const linux = (arch: string) => ({ platform: 'linux' as const, arch, binfmtDir: binfmt });
    expect(runsHere('linux/amd64', linux('x64'))).toBe('native');
    expect(runsHere('linux/arm64', linux('x64'))).toBe('no');
    await writeFile(join(binfmt, 'qemu-aarch64'), 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n');
    expect(runsHere('linux/arm64', linux('x64'))).toBe('emulated');
    await writeFile(join(binfmt, 'qemu-aarch64'), 'enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: \n');
    expect(runsHere('linux/arm64', linux('x64'))).toBe('no');
    await rm(binfmt, { recursive: true });
  });

  it('says how each platform is built: natively, for another platform without emulation when the Dockerfile only copies, with qemu when it runs commands', () => {
    const copyOnly = 'FROM base\nCOPY models/ /mnt/models/\nUSER 1000:1000\nCMD ["tritonserver"]\n';
    const runs = 'FROM base\nRUN apt-get update\nCOPY . /app\n';
    expect(buildEmulation(copyOnly, 'linux/amd64', 'native')).toBe('native');
    expect(buildEmulation(copyOnly, 'linux/arm64', 'no')).toBe('copy-only');
    expect(buildEmulation(runs, 'linux/arm64', 'emulated')).toBe('qemu');
    expect(describeBuild('linux/arm64', 'copy-only')).toMatch(/without emulation: the Dockerfile only copies files/);
    expect(describeBuild('linux/arm64', 'qemu')).toMatch(/under qemu-user-static emulation \(binfmt_misc qemu-aarch64\)/);
  });

  it('refuses to smoke-test an image this machine cannot run, and says when a run is emulated or failed under emulation', () => {
    const host = new RecordingIoHost();
    expect(() => checkSmokeRun({ platform: 'linux/arm64', runsHere: 'no', ref: 'r:1' })).toThrowError(expect.objectContaining({
      code: 'CONTAINER_PLATFORM_CANNOT_RUN', message: expect.stringMatching(/built for linux\/arm64 and its native files checked, but this machine cannot run.*pushed only after its smoke test/s),
    }));
    checkSmokeRun({ platform: 'linux/arm64', runsHere: 'emulated', ref: 'r:1', io: new IoHelper(host) });
    checkSmokeRun({ platform: 'linux/amd64', runsHere: 'native', ref: 'r:1', io: new IoHelper(host) });
    expect(host.codes()).toEqual(['DM_CONTAINER_PLATFORM_EMULATED']);
    const exited = new DeployModelError('CONTAINER_EXITED', 'The container exited: qemu: uncaught target signal 11.');
    expect(emulatedRunFailure(exited, 'linux/arm64', 'r:1')).toMatchObject({ code: 'CONTAINER_EMULATED_RUN_FAILED', cause: exited, message: expect.stringMatching(/under qemu-user-static emulation.*signal 11/) });
    const other = new DeployModelError('CONTAINER_PUSH_FAILED', 'no');
    expect(emulatedRunFailure(other, 'linux/arm64', 'r:1')).toBe(other);
  });

  it('says there is no GPU runtime, with what ran and the fix, where nvidia-smi or a CDI spec is missing', async () => {
    const podman: Builder = { name: 'podman', command: 'podman', buildx: false, version: '4', canRun: true };
    const noDriver = async () => ({ code: 127, stdout: '', stderr: 'not found' });
    await expect(detectGpuRuntime(podman, { exec: noDriver })).rejects.toMatchObject({ code: 'CONTAINER_NO_GPU_RUNTIME', message: expect.stringMatching(/No GPU container runtime here \(nvidia-smi is not installed.*What ran: the checks of validate.*config\.pbtxt.*planned and checked, not written.*What could not be checked: the Triton image was not built, run, smoke-tested or pushed.*Fix: .*nvidia-ctk cdi generate/s) });
    const driver = async () => ({ code: 0, stdout: 'GPU 0: NVIDIA L4 (UUID: GPU-1)\n', stderr: '' });
    const cdi = await mkdtemp(join(tmpdir(), 'dm-cdi-'));
    await expect(detectGpuRuntime(podman, { exec: driver, cdiDirs: [cdi] })).rejects.toMatchObject({ code: 'CONTAINER_NO_GPU_RUNTIME', message: expect.stringMatching(/no CDI specification names nvidia\.com\/gpu/) });
    await writeFile(join(cdi, 'nvidia.yaml'), 'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: all\n');
    expect(await detectGpuRuntime(podman, { exec: driver, cdiDirs: [cdi] })).toEqual({ flags: ['--device', 'nvidia.com/gpu=all'], detail: `1 GPU(s), CDI spec ${join(cdi, 'nvidia.yaml')}` });
    await rm(cdi, { recursive: true });
    // And on this machine, for real, unless it has a GPU.
    const smi = await exec(['nvidia-smi', '-L'], { timeoutMs: 10_000 });
    if (smi.code !== 0) await expect(detectGpuRuntime(podman)).rejects.toMatchObject({ code: 'CONTAINER_NO_GPU_RUNTIME' });
  });

  it('checks the base image per platform: a local list, a local image, a pull that fails for the platform or for want of a registry', async () => {
    const podman: Builder = { name: 'podman', command: 'podman', buildx: false, version: '4', canRun: true };
    const answers = (map: Record<string, { code: number; stdout?: string; stderr?: string }>) => async (argv: readonly string[]) => {
      const key = Object.keys(map).find((k) => argv.join(' ').startsWith(k));
      return { code: 1, stdout: '', stderr: '', ...(key ? map[key] : {}) };
    };
    const list = JSON.stringify({ manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }] });
    await expect(ensureBaseImage(podman, 'localhost/base:multi', ['linux/amd64', 'linux/arm64'], { engine: 'onnxruntime', exec: answers({ 'podman manifest inspect': { code: 0, stdout: list } }) }))
      .rejects.toMatchObject({ code: 'CONTAINER_PLATFORM_UNPUBLISHED', message: expect.stringMatching(/not published for linux\/arm64 \(its manifest list has linux\/amd64\)/) });
    expect(await ensureBaseImage(podman, 'localhost/base', ['linux/amd64'], { engine: 'onnxruntime', exec: answers({ 'podman image inspect': { code: 0, stdout: 'linux/amd64\n' } }) }))
      .toEqual([{ platform: 'linux/amd64', source: 'local' }]);
    await expect(ensureBaseImage(podman, 'docker.io/x/y:1', ['linux/arm64'], { engine: 'openvino', exec: answers({ 'podman pull': { code: 125, stderr: 'Error: choosing an image from manifest list docker://x/y:1: no image found in manifest list for architecture arm64' } }) }))
      .rejects.toMatchObject({ code: 'CONTAINER_PLATFORM_UNPUBLISHED' });
  });

  it('on this machine, the OVMS image cannot be pulled: a coded error that says config.json was checked and the image was not built', async () => {
    let builder: Builder;
    try { builder = await detectBuilder({ mustRun: true }); } catch { return; }
    const reach = await exec([builder.command, 'pull', '--platform', 'linux/amd64', 'docker.io/openvino/model_server:2026.2'], { timeoutMs: 120_000 });
    if (reach.code === 0) return; // A machine that reaches Docker Hub builds it instead.
    const error = await ensureBaseImage(builder, 'docker.io/openvino/model_server:2026.2', ['linux/amd64'], { engine: 'openvino' }).catch((e: unknown) => e);
    expect(isDeployModelError(error) && error.code).toBe('CONTAINER_BASE_IMAGE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/What ran: .*config\.json.*What could not be checked: the image was not built, run, smoke-tested or pushed\. Fix: /s);
  }, 180_000);
});
