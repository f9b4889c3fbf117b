/**
 * The container target for real: the image is built from the cls model with the builder this
 * machine has, run, called over HTTP through every serving contract, stopped with SIGTERM, pushed
 * to a registry on 127.0.0.1:5000, removed, pulled back and run again; then deployed through the
 * driver's hooks under the rollout core: promoted and pushed, redeployed unchanged, a failing
 * version rolled back, and destroyed.
 *
 * Needs a builder that runs containers (docker or podman), a base image with Node and a registry
 * on 127.0.0.1:5000. `bash .ci/containers.sh` sets all three up (as root, on Debian). The base
 * and registry can be overridden with DEPLOY_MODEL_TEST_BASE_IMAGE and DEPLOY_MODEL_TEST_REGISTRY.
 * The steps depend on each other, so they run in order in this one file.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { runSmoke, type SmokeResult } from '../../../src/smoke/run-smoke.js';
import { generateSmokeRequest } from '../../../src/smoke/smoke-input.js';
import { exec } from '../../../src/targets/container/_exec.js';
import type { ContainerArtifacts, ContainerContext } from '../../../src/targets/container/build.js';
import type { Builder } from '../../../src/targets/container/builders.js';
import { createBuildContext } from '../../../src/targets/container/create-build-context.js';
import { containerDriver } from '../../../src/targets/container/driver.js';
import { buildImage, imageRefs, pullImage, pushImage, removeImage, type BuiltImage } from '../../../src/targets/container/image.js';
import { readImageRecord } from '../../../src/targets/container/image-record.js';
import { containerTarget } from '../../../src/targets/container/index.js';
import type { ContainerPlan } from '../../../src/targets/container/plan.js';
import { runContainer, type RunningContainer } from '../../../src/targets/container/run-container.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import { runRollout } from '../../../src/toolkit/rollout.js';
import { containerBuilder, TEST_BASE_IMAGE } from '../../_helpers/container-builder.js';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';

const ENABLE = 'run `bash .ci/containers.sh` as root to install podman, build the base image and start the registry';
const BASE_IMAGE = TEST_BASE_IMAGE;
const REGISTRY = process.env.DEPLOY_MODEL_TEST_REGISTRY ?? '127.0.0.1:5000';

const env = await containerBuilder();
const registryUp = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status === 200, () => false);
const title = 'container image built, run, smoke-tested, pushed and pulled for real';

describe.skipIf(!env.builder)(env.builder ? title : `${title} (skipped: ${env.reason}; ${ENABLE})`, () => {
  const builder = env.builder as Builder;
  const host = new RecordingIoHost();
  const io = new IoHelper(host);
  const repository = `${REGISTRY}/deploy-model-test/cls`;
  let dir: string;
  let signature: ModelSignature;
  let plan: ContainerPlan;
  let image: BuiltImage;
  let contentTag: string;
  let input: { name: string; shape: number[]; datatype: string; data: number[] };
  let expected: number[];
  const containers: RunningContainer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-container-'));
    signature = await inspectModel(REAL_MODELS.cls);
    const config = configSchema.parse({ name: 'cls', model: { path: REAL_MODELS.cls }, targets: { image: { type: 'container', baseImage: BASE_IMAGE, push: repository, tag: 'latest' } } });
    plan = containerTarget.plan({ config, stage: 'dev', targetName: 'image', target: config.targets.image as ContainerTargetConfig, signature, rootDir: dir });
    const shape = [1, 3, 48, 192];
    const data = Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    input = { name: 'x', shape, datatype: 'FP32', data };
    // The reference answer: the same model in onnxruntime-node, in this process.
    const session = await ort.InferenceSession.create(REAL_MODELS.cls);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(data), shape) });
    expected = Array.from((out[session.outputNames[0] as string] as ort.Tensor).data as Float32Array);
    await session.release();
  });

  afterAll(async () => {
    for (const c of containers) await c.stop({ timeoutSeconds: 1 }).catch(() => undefined);
    if (image) await exec([builder.command, 'rmi', '--force', ...image.refs], { timeoutMs: 60_000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const json = async (url: string, body?: unknown) => {
    const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const close = (actual: number[]) => {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
  };

  it('builds the image from a deterministic context with a stable content tag', async () => {
    const a = await createBuildContext({ plan, signature, outDir: join(dir, 'a'), io });
    const b = await createBuildContext({ plan, signature, outDir: join(dir, 'b') });
    expect(b.digest).toBe(a.digest);
    contentTag = a.contentTag;
    const refs = imageRefs(plan.image, a.contentTag);
    expect(refs.refs).toEqual([`${repository}:${a.contentTag}`, `${repository}:latest`]);

    image = await buildImage({ builder, contextDir: a.dir, platform: a.platform, refs: refs.refs, io });
    expect(image.sizeBytes).toBeGreaterThan(10e6);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_CONTAINER_CONTEXT', 'DM_CONTAINER_BUILD', 'DM_CONTAINER_STEP', 'DM_CONTAINER_BUILT']));

    // The Docker image format keeps HEALTHCHECK; the user is the non-root uid.
    const config = await exec([builder.command, 'image', 'inspect', '--format', '{{.Config.User}} {{json .Config.Healthcheck.Test}} {{.Config.StopSignal}}', image.ref]);
    expect(config.stdout.trim()).toBe('10001:10001 ["CMD","node","/app/healthcheck.cjs"] SIGTERM');
  }, 300_000);

  it('serves KServe v2, SageMaker and Azure ML routes with the reference answer, as uid 10001', async () => {
    const c = await runContainer(builder, image.ref, { io });
    containers.push(c);
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // KServe v2
    expect((await json(`${c.url}/v2/health/live`)).status).toBe(200);
    expect(await json(`${c.url}/v2/models/cls`)).toMatchObject({ status: 200, body: { name: 'cls', inputs: [{ name: 'x', datatype: 'FP32' }] } });
    const v2 = await json(`${c.url}/v2/models/cls/infer`, { inputs: [input] });
    expect(v2.status).toBe(200);
    expect(v2.body.outputs[0].shape).toEqual([1, 2]);
    close(v2.body.outputs[0].data);

    // SageMaker
    expect((await json(`${c.url}/ping`)).status).toBe(200);
    const sm = await json(`${c.url}/invocations`, { inputs: [input] });
    expect(sm.status).toBe(200);
    close(sm.body.outputs[0].data);

    // Azure ML
    expect((await json(`${c.url}/`)).status).toBe(200);
    const az = await json(`${c.url}/score`, { inputs: [input] });
    expect(az.status).toBe(200);
    close(az.body.outputs[0].data);

    const uid = await exec([builder.command, 'exec', c.name, 'node', '-p', 'process.getuid()']);
    expect(uid.stdout.trim()).toBe('10001');
    if (builder.name === 'podman') {
      expect((await exec(['podman', 'healthcheck', 'run', c.name])).code).toBe(0);
    }
  }, 120_000);

  it('stops promptly and cleanly on SIGTERM (node is PID 1 and handles it)', async () => {
    const c = containers.pop() as RunningContainer;
    const stopped = await c.stop({ timeoutSeconds: 10 });
    // Without a SIGTERM handler PID 1 ignores the signal and is killed after the 10 s grace period.
    expect(stopped.stopMs).toBeLessThan(5_000);
    expect(stopped.exitCode).toBe(0);
    const gone = await exec([builder.command, 'inspect', c.name]);
    expect(gone.code).not.toBe(0);
  }, 60_000);

  it("serves Vertex AI's routes from the AIP_* variables set at run", async () => {
    const health = '/v1/endpoints/123/deployedModels/456';
    const predictRoute = '/v1/endpoints/123/deployedModels/456:predict';
    const c = await runContainer(builder, image.ref, {
      env: { AIP_HTTP_PORT: '8080', AIP_HEALTH_ROUTE: health, AIP_PREDICT_ROUTE: predictRoute, DM_CONTRACT: 'vertex' },
      healthPath: health,
      io,
    });
    containers.push(c);
    const nested = [0, 1, 2].map((ch) => Array.from({ length: 48 }, (_, h) => input.data.slice(ch * 48 * 192 + h * 192, ch * 48 * 192 + (h + 1) * 192)));
    const vertex = await json(`${c.url}${predictRoute}`, { instances: [nested] });
    expect(vertex.status).toBe(200);
    expect(vertex.body.predictions).toHaveLength(1);
    const prediction = vertex.body.predictions[0];
    close(Array.isArray(prediction) ? prediction : (Object.values(prediction)[0] as number[]));
    await containers.pop()?.stop();
  }, 120_000);

  it('pushes to the registry, and the image pulled back runs', async (ctx) => {
    const registryUp = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status === 200, () => false);
    if (!registryUp) ctx.skip(`no registry on ${REGISTRY}; ${ENABLE}`);

    await pushImage(builder, image.refs, io);
    const tags = await json(`http://${REGISTRY}/v2/deploy-model-test/cls/tags/list`);
    expect(tags.body.tags).toEqual(expect.arrayContaining([contentTag, 'latest']));

    await removeImage(builder, image.refs, io);
    const gone = await exec([builder.command, 'image', 'inspect', image.ref]);
    expect(gone.code).not.toBe(0);

    await pullImage(builder, image.ref, io);
    const c = await runContainer(builder, image.ref, { io });
    containers.push(c);
    const v2 = await json(`${c.url}/v2/models/cls/infer`, { inputs: [input] });
    expect(v2.status).toBe(200);
    close(v2.body.outputs[0].data);
    expect((await containers.pop()?.stop())?.exitCode).toBe(0);
  }, 300_000);

  describe.skipIf(!registryUp)(`through the driver and the rollout core${registryUp ? '' : ` (skipped: no registry on ${REGISTRY}; ${ENABLE})`}`, () => {
    const driverRepo = `${REGISTRY}/deploy-model-test/driver`;
    const driverHost = new RecordingIoHost();
    let request: ReturnType<typeof generateSmokeRequest>;
    let first: { version: string; endpoint: string };

    /** A planned context of the `image` target building into `driver/`, the smoke test as the toolkit runs it, and a build. */
    const deployment = async (entry: Record<string, unknown> = {}) => {
      const config = configSchema.parse({
        name: 'cls',
        model: { path: REAL_MODELS.cls, inputs: { x: { shape: [1, 3, 48, 192] } } },
        targets: { image: { type: 'container', baseImage: BASE_IMAGE, push: driverRepo, tag: 'latest', builder: builder.name, ...entry } },
        smoke: { requests: 3 },
      });
      request = generateSmokeRequest(signature, config.model.inputs);
      const tc: ContainerContext = { ...targetContext<ContainerTargetConfig, ContainerPlan>({ config, targetName: 'image', signature, dir, host: driverHost }), workDir: join(dir, 'driver') };
      const build = await containerDriver.build(tc);
      for (const ref of (build.outputs as ContainerArtifacts).refs) seen.add(ref);
      return { tc, build, smoke: (client: Parameters<typeof runSmoke>[0]['client']) => runSmoke({ signature, smoke: config.smoke, request, client }) };
    };
    const named = async () => (await exec([builder.command, 'ps', '--all', '--format', '{{.Names}}'])).stdout.split('\n').filter((n) => n.startsWith('cls-dev-image-'));
    // Containers with the same prefix from before these steps (another run's, the two-platform test's) are not this run's.
    let before = new Set<string>();
    beforeAll(async () => { before = new Set(await named()); });
    /** Containers of this target that these steps left (running or not), by the plan's name prefix. */
    const leftovers = async () => (await named()).filter((n) => !before.has(n));
    const imageId = async (ref: string) => {
      const r = await exec([builder.command, 'image', 'inspect', '--format', '{{.Id}}', ref]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    };
    const registryTags = async () => (await json(`http://${REGISTRY}/v2/deploy-model-test/driver/tags/list`)).body.tags as string[] | null;

    const seen = new Set<string>();
    afterAll(async () => {
      // A failed step must not leave images behind.
      if (seen.size > 0) await exec([builder.command, 'rmi', '--force', ...seen], { timeoutMs: 60_000 });
    });

    it('stage builds the image from the build context and runs it, the smoke test passes, promote pushes it and writes the manifests', async () => {
      // GIVEN a build (the context only) WHEN the rollout core runs the driver's hooks
      const { tc, build, smoke } = await deployment();
      const contexts = driverHost.codes().filter((c) => c === 'DM_CONTAINER_CONTEXT').length;
      const result = await runRollout(tc, containerDriver, build, smoke);
      // THEN
      const out = build.outputs as ContainerArtifacts;
      expect(result).toMatchObject({ promoted: true, version: out.contentTag, endpoint: `${driverRepo}:${out.contentTag}`, smoke: { status: 'passed' } });
      expect(driverHost.codes()).toEqual(expect.arrayContaining(['DM_CONTAINER_BUILT', 'DM_CONTAINER_READY', 'DM_CONTAINER_STOPPED', 'DM_CONTAINER_PUSHED', 'DM_CONTAINER_MANIFESTS']));
      // the hooks built the image from the build's context, not a new one
      expect(driverHost.codes().filter((c) => c === 'DM_CONTAINER_CONTEXT')).toHaveLength(contexts);
      expect(await registryTags()).toEqual(expect.arrayContaining([out.contentTag, 'latest']));
      expect((await readdir(join(tc.workDir, 'k8s'))).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'inferenceservice.yaml', 'service.yaml']);
      expect(await readImageRecord(tc.workDir)).toMatchObject({ ref: result.endpoint, contentTag: out.contentTag, pushed: true });
      expect(await containerDriver.status(tc)).toMatchObject({ state: 'unknown', endpoint: result.endpoint, version: out.contentTag });
      expect(await containerDriver.diff!(tc, build)).toEqual({ unchanged: true, changes: [] });
      expect(await leftovers()).toEqual([]);
      first = { version: result.version!, endpoint: result.endpoint! };
    }, 300_000);

    it('an unchanged image, already pushed, is smoke-tested again, its run stopped, and nothing is pushed', async () => {
      expect(first, 'the first deploy did not pass').toBeDefined();
      const { tc, build, smoke } = await deployment();
      const since = driverHost.messages.length;
      // WHEN
      const result = await runRollout(tc, containerDriver, build, smoke);
      // THEN
      const codes = driverHost.messages.slice(since).map((m) => m.code);
      expect(result).toMatchObject({ promoted: true, version: first.version, previousVersion: first.version, smoke: { status: 'passed' }, details: { unchanged: true } });
      expect(codes).toEqual(expect.arrayContaining(['DM_CONTAINER_READY', 'DM_CONTAINER_STOPPED', 'DM_ROLLOUT_UNCHANGED']));
      expect(codes).not.toContain('DM_CONTAINER_PUSH');
      expect(await leftovers()).toEqual([]);
    }, 300_000);

    it('a new version that fails its smoke test is stopped and removed, never pushed, and latest goes back to the recorded image', async () => {
      expect(first, 'the first deploy did not pass').toBeDefined();
      // GIVEN a change that gives a new content tag (the contract is in the image's env) and a smoke test that fails
      const { tc, build } = await deployment({ contract: 'sagemaker' });
      const out = build.outputs as ContainerArtifacts;
      expect(out.contentTag).not.toBe(first.version);
      const recordedId = await imageId(first.endpoint);
      const failing = async (client: Parameters<typeof runSmoke>[0]['client']): Promise<SmokeResult> => {
        await client(request);
        return { status: 'failed', latencyMs: { p50: 1, max: 1 }, checks: [{ name: 'outputs', passed: false, message: 'made to fail' }] };
      };
      // WHEN
      const result = await runRollout(tc, containerDriver, build, failing);
      // THEN the recorded version is what the report names, and the candidate is gone
      expect(result).toMatchObject({ promoted: false, version: out.contentTag, previousVersion: first.version, endpoint: first.endpoint });
      expect(await imageId(`${driverRepo}:${out.contentTag}`)).toBeUndefined();
      expect(await registryTags()).not.toContain(out.contentTag);
      expect(await imageId(`${driverRepo}:latest`)).toBe(recordedId);
      expect(await readImageRecord(tc.workDir)).toMatchObject({ ref: first.endpoint, contentTag: first.version });
      expect(await leftovers()).toEqual([]);
    }, 300_000);

    it('destroy removes the local image and its record, and says the registry keeps it', async () => {
      expect(first, 'the first deploy did not pass').toBeDefined();
      const { tc } = await deployment();
      expect(await containerDriver.destroy(tc)).toEqual({ removed: true });
      expect(driverHost.codes()).toContain('DM_CONTAINER_REGISTRY_KEPT');
      expect(await imageId(first.endpoint)).toBeUndefined();
      expect(await containerDriver.status(tc)).toEqual({ state: 'not-deployed' });
    }, 120_000);
  });
});
