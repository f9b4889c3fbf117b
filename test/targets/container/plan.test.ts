import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { containerTarget } from '../../../src/targets/container/index.js';
import { planManifests } from '../../../src/targets/container/manifests.js';
import { CONTENT_TAG_RULE, type ContainerPlan } from '../../../src/targets/container/plan.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';

const signature: ModelSignature = {
  file: '/models/cls.onnx', bytes: 578_966, sha256: 'ab'.repeat(32), irVersion: 8, opsets: { 'ai.onnx': 13 }, producer: 'p', producerVersion: '1',
  inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['?', 3, 48, 192] }],
  outputs: [{ name: 'y', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['?', 2] }],
  nodes: 1, initializers: 0, initializerBytes: 0, operators: { Relu: 1 }, externalData: [],
};

function input(targetEntry: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const config: Config = configSchema.parse({ name: 'ocr-cls', model: { path: './cls.onnx' }, targets: { image: { type: 'container', ...targetEntry } }, ...extra });
  return { config, stage: 'dev', targetName: 'image', target: config.targets.image as ContainerTargetConfig, signature, rootDir: '/project' };
}

const plan = (targetEntry: Record<string, unknown>, extra?: Record<string, unknown>): ContainerPlan => containerTarget.plan(input(targetEntry, extra));

describe('the container plan', () => {
  it('resolves the image, its environment, the builder, the loopback run and the rollout from the config', () => {
    // GIVEN a pushed image with an extra tag, a pinned builder, batching and threads
    const p = plan({ push: 'registry.example.com/ocr/cls', tag: 'v1', builder: 'podman' }, { model: { path: './cls.onnx', batching: { maxBatchSize: 4 } }, runtime: { intraOpThreads: 2 } });
    // WHEN planned THEN every value the later stages use is here, as plain data
    const { manifests, ...rest } = p;
    expect(rest).toEqual({
      type: 'container',
      targetName: 'image',
      stage: 'dev',
      resourceName: 'ocr-cls-dev-image',
      model: { file: '/models/cls.onnx', sha256: 'ab'.repeat(32), bytes: 578_966 },
      rollout: {
        strategy: 'all-at-once',
        steps: [
          { phase: 'stage', action: 'build the image from the build context with podman, tagged registry.example.com/ocr/cls:<content-tag> and registry.example.com/ocr/cls:v1, and check the architecture of every ELF file it ships' },
          { phase: 'stage', action: 'run it on 127.0.0.1 (a free port) and wait for /v2/health/ready' },
          { phase: 'smoke', action: 'call its v2 infer route on 127.0.0.1; when the last deploy pushed these same tags, the image is unchanged: its run stops after the smoke test and nothing is pushed' },
          { phase: 'promote', action: 'stop the run, push registry.example.com/ocr/cls:<content-tag> and registry.example.com/ocr/cls:v1, record the image and write the manifests under k8s/' },
          { phase: 'rollback', action: 'stop the run and remove the new image; nothing is pushed' },
        ],
      },
      engine: 'onnxruntime',
      image: {
        modelName: 'ocr-cls',
        repository: 'registry.example.com/ocr/cls',
        contentTag: { length: 12, rule: CONTENT_TAG_RULE },
        extraTags: ['v1'],
        push: true,
        baseImage: 'docker.io/library/node:22-bookworm-slim',
        architecture: 'x86_64',
        platform: 'linux/amd64',
        platforms: ['linux/amd64'],
      },
      uid: 10001,
      environment: {
        ORT_DISABLE_TELEMETRY: '1',
        DM_MODEL_NAME: 'ocr-cls',
        DM_EXECUTION_PROVIDERS: 'cpu',
        DM_INTRA_OP_THREADS: '2',
        DM_MAX_BATCH_SIZE: '4',
        DM_MAX_QUEUE_DELAY_MS: '2',
        DM_CONTRACT: 'kserve-v2',
        DM_MODEL_PATH: '/app/model/model.onnx',
        DM_SIGNATURE_PATH: '/app/model/signature.json',
        HOME: '/tmp',
        NODE_ENV: 'production',
        PORT: '8080',
      },
      contract: 'kserve-v2',
      port: 8080,
      builder: { preferred: 'podman', order: ['podman'] },
      run: { host: '127.0.0.1', containerPort: 8080, readyPath: '/v2/health/ready', readyTimeoutMs: 60_000, namePrefix: 'ocr-cls-dev-image', gpu: false, tmpfs: [] },
    });
    // THEN the manifests are the planner's, naming the repository with the content tag left for the build
    expect(manifests).toEqual({
      dir: 'k8s',
      image: 'registry.example.com/ocr/cls:<content-tag>',
      objects: planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr/cls:<content-tag>', target: input({ push: 'registry.example.com/ocr/cls', tag: 'v1', builder: 'podman' }).target }),
    });
  });

  it('keeps an image without push local, as localhost/<name>, and tries every builder that can run it', () => {
    // GIVEN the defaults, arm64 and the SageMaker contract WHEN planned
    const p = plan({ architecture: 'arm64', contract: 'sagemaker', port: 9000, kserve: false });
    // THEN
    expect(p.image).toMatchObject({ repository: 'localhost/ocr-cls', extraTags: [], push: false, architecture: 'arm64', platform: 'linux/arm64' });
    expect(p.builder).toEqual({ order: ['docker', 'podman'] });
    expect(p.environment).toMatchObject({ DM_CONTRACT: 'sagemaker', PORT: '9000' });
    expect(p.run.containerPort).toBe(9000);
    expect(p.manifests.image).toBe('localhost/ocr-cls:<content-tag>');
    expect(p.manifests.objects.inferenceService).toBeUndefined();
    expect(p.rollout.steps.map((s) => s.action)).toEqual([
      'build the image from the build context with the first of docker, podman that works, tagged localhost/ocr-cls:<content-tag>, and check the architecture of every ELF file it ships',
      'run it on 127.0.0.1 (a free port) and wait for /v2/health/ready',
      'call its v2 infer route on 127.0.0.1',
      'stop the run, record the image and write the manifests under k8s/; the image stays local (set push to publish it)',
      'stop the run and remove the new image; nothing is pushed',
    ]);
  });

  it('is deterministic and JSON-serialisable: the same input plans equal, and survives a JSON round trip', () => {
    const entry = { push: 'registry.example.com/ocr/cls', tag: 'v1', kserve: { mode: 'raw' } };
    const a = plan(entry);
    const b = plan(entry);
    expect(b).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('changes with what the image is built from, and only with that', () => {
    const base = plan({});
    expect(plan({ baseImage: 'localhost/base:node22' })).not.toEqual(base);
    expect(containerTarget.plan({ ...input({}), signature: { ...signature, sha256: 'cd'.repeat(32) } })).not.toEqual(base);
    expect(plan({ replicas: { min: 2, max: 4 } }).manifests).not.toEqual(base.manifests);
    expect(plan({}).environment).toEqual(base.environment);
  });
});

describe('the container rollout option', () => {
  it('plans linear traffic steps through the weighted front, and the first step as the InferenceService canary share', () => {
    // GIVEN a linear rollout of two steps
    const p = plan({ rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: 5, alarms: { maxErrorRate: 0.05, maxP99LatencyMs: 800, probeRequests: 40 } } });
    // THEN the traffic plan is the rollout core's, with the shared defaults resolved
    expect(p.rollout.strategy).toBe('linear');
    expect(p.rollout.traffic).toEqual({ percents: [10, 50], intervalSeconds: 5, alarms: { maxErrorRate: 0.05, maxP99LatencyMs: 800, probeRequests: 40 } });
    // AND each step says what it does here
    const promote = p.rollout.steps.filter((s) => s.phase === 'promote').map((s) => s.action);
    expect(promote).toHaveLength(3);
    expect(promote[0]).toBe("set the front's weights to 10 % of the requests on the new image (smooth weighted round-robin); after 5 s, smoke-test the new image and send 40 requests through the front (error rate <= 0.05, p99 <= 800 ms)");
    expect(promote[1]).toContain('50 % of the requests on the new image');
    expect(promote[2]).toContain('stop the front and the recorded image');
    expect(promote[2]).toContain('canaryTrafficPercent: 10');
    expect(p.rollout.steps.filter((s) => s.phase === 'rollback')).toHaveLength(1);
    expect(p.rollout.steps.some((s) => s.phase === 'stage' && s.action.includes('weighted front on 127.0.0.1'))).toBe(true);
    expect((p.manifests.objects.inferenceService as any).spec.predictor.canaryTrafficPercent).toBe(10);
  });

  it("canary defaults to one step of 10 %; all-at-once, or none, plans no traffic and no canary share", () => {
    expect(plan({ rollout: { strategy: 'canary' } }).rollout.traffic).toEqual({ percents: [10], intervalSeconds: 60, alarms: { maxErrorRate: 0, probeRequests: 20 } });
    for (const entry of [{}, { rollout: { strategy: 'all-at-once' } }]) {
      const p = plan(entry);
      expect(p.rollout.traffic).toBeUndefined();
      expect(p.rollout.strategy).toBe('all-at-once');
      expect((p.manifests.objects.inferenceService as any).spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    }
  });

  it('says a pinned raw mode gets no canary share, and refuses steps that do not increase', () => {
    const p = plan({ kserve: { mode: 'raw' }, rollout: { strategy: 'canary', steps: [20] } });
    expect(p.rollout.steps.at(-2)!.action).toContain('no canaryTrafficPercent (KServe splits traffic in serverless mode only)');
    expect(() => input({ rollout: { strategy: 'linear', steps: [50, 10] } })).toThrow(/must increase step by step/);
  });
});

describe('the container checks', () => {
  const validate = (targetEntry: Record<string, unknown>, extra?: Record<string, unknown>, sig: ModelSignature = signature) =>
    containerTarget.validate!({ ...input(targetEntry, extra), signature: sig });

  it('finds nothing wrong with the defaults', async () => {
    expect(await validate({})).toEqual([]);
  });

  it('names a config name that cannot name a Kubernetes Service, with a fix', async () => {
    // GIVEN a name the config schema would refuse too, handed to the target's checks directly
    const given = input({});
    const problems = await containerTarget.validate!({ ...given, config: { ...given.config, name: 'ocr-' } });
    expect(problems).toEqual([expect.objectContaining({ path: 'name', value: '"ocr-"', rule: expect.stringContaining('DNS-1035 label'), fix: "change the config's name (e.g. 'ocr')" })]);
  });

  it("names a port Knative reserves, unless KServe's mode is raw", async () => {
    expect(await validate({ port: 8012 })).toEqual([expect.objectContaining({
      path: 'targets.image.port', value: '8012', rule: expect.stringContaining('8012 is reserved by Knative'), fix: expect.stringContaining("kserve: { mode: 'raw' }"),
    })]);
    expect(await validate({ port: 8012, kserve: { mode: 'raw' } })).toEqual([]);
  });

  it("names external data outside the model's folder", async () => {
    const problems = await validate({}, {}, { ...signature, externalData: ['../weights.bin'] });
    expect(problems).toEqual([expect.objectContaining({ path: 'model.path', value: '"../weights.bin"', fix: expect.stringContaining('move the file beside the model') })]);
  });
});
