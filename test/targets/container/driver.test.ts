import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../../src/config/schema.js';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import type { ContainerArtifacts, ContainerContext } from '../../../src/targets/container/build.js';
import { containerDriver } from '../../../src/targets/container/driver.js';
import { nextImageRecord, writeImageRecord } from '../../../src/targets/container/image-record.js';
import type { ContainerPlan } from '../../../src/targets/container/plan.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import type { BuildResult } from '../../../src/targets/driver.js';
import { REAL_MODELS, writeTinyModel } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';

const PUSH = 'registry.example.com/ocr/cls';

/** A planned context for the container target of a config with this model and target entry, building into `workDir`. */
function containerContext(dir: string, workDir: string, signature: ModelSignature, entry: Record<string, unknown> = {}, host = new RecordingIoHost()): ContainerContext {
  const config = configSchema.parse({ name: 'ocr-cls', model: { path: signature.file }, targets: { image: { type: 'container', push: PUSH, tag: 'v1', ...entry } } });
  return { ...targetContext<ContainerTargetConfig, ContainerPlan>({ config, targetName: 'image', signature, dir, host }), workDir };
}

/** What a promote leaves: the manifests of the build under k8s/, and the image record. */
async function recordDeploy(ctx: ContainerContext, build: BuildResult, pushed: boolean): Promise<void> {
  await containerDriver.synth!(ctx, build);
  const out = build.outputs as ContainerArtifacts;
  await writeImageRecord(ctx.workDir, { ref: out.contentRef, refs: out.refs, contentTag: out.contentTag, builder: 'podman', sizeBytes: 1, buildMs: 1, pushed });
}

describe('container driver without a builder', () => {
  let dir: string;
  let cls: ModelSignature;
  let ctx: ContainerContext;
  let build: BuildResult;
  const host = new RecordingIoHost();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-driver-'));
    cls = await inspectModel(REAL_MODELS.cls);
    ctx = containerContext(dir, join(dir, 'work'), cls, {}, host);
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('build writes the build context and names the image by its hash; it builds no image and writes no manifest', async () => {
    // WHEN
    build = await containerDriver.build(ctx);
    // THEN the context's digest gives the content tag of every reference
    const out = build.outputs as ContainerArtifacts;
    expect(build.artifacts).toEqual([{ kind: 'build context', file: join(ctx.workDir, 'context'), bytes: out.context.bytes, sha256: out.context.digest }]);
    expect(out.context.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(out.contentTag).toBe(out.context.digest.slice(0, 12));
    expect(out.contentRef).toBe(`${PUSH}:${out.contentTag}`);
    expect(out.refs).toEqual([out.contentRef, `${PUSH}:v1`]);
    expect(out.context.platform).toBe('linux/amd64');
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    const files = await readdir(join(ctx.workDir, 'context'), { recursive: true });
    expect(files).toEqual(expect.arrayContaining(['Dockerfile', 'serve.mjs', 'healthcheck.cjs', join('model', 'model.onnx'), join('model', 'signature.json')]));
    // Only the linux x64 binding of onnxruntime-node, not the 300 MB of every platform.
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node')]);
    // The Dockerfile's ENV is the plan's environment.
    const dockerfile = await readFile(join(ctx.workDir, 'context', 'Dockerfile'), 'utf8');
    for (const [k, v] of Object.entries(ctx.plan.environment)) expect(dockerfile).toContain(`${k}=${v}`);
    expect(await readdir(ctx.workDir)).not.toContain('k8s');
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_BUNDLE_HANDLER', 'DM_CONTAINER_CONTEXT']));
    expect(host.codes()).not.toContain('DM_CONTAINER_BUILD');
  }, 60_000);

  it("synth writes the plan's manifests with the build's content tag, from the build's outputs", async () => {
    const contexts = host.codes().filter((c) => c === 'DM_CONTAINER_CONTEXT').length;
    // WHEN
    const { artifacts, outputs } = await containerDriver.synth!(ctx, build);
    // THEN
    const out = build.outputs as ContainerArtifacts;
    expect(outputs).toEqual(out);
    expect(artifacts.map((a) => a.kind)).toEqual(['build context', 'k8s manifest', 'k8s manifest', 'k8s manifest', 'k8s manifest']);
    expect((await readdir(join(ctx.workDir, 'k8s'))).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'inferenceservice.yaml', 'service.yaml']);
    const deployment = parse(await readFile(join(ctx.workDir, 'k8s', 'deployment.yaml'), 'utf8'));
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${PUSH}:${out.contentTag}`);
    const isvc = parse(await readFile(join(ctx.workDir, 'k8s', 'inferenceservice.yaml'), 'utf8'));
    expect(isvc.spec.predictor.containers[0].image).toBe(`${PUSH}:${out.contentTag}`);
    // The plan keeps its placeholder: filling the tag in copies the objects.
    expect((ctx.plan.manifests.objects.deployment as any).spec.template.spec.containers[0].image).toBe(`${PUSH}:<content-tag>`);
    // Nothing was built again.
    expect(host.codes().filter((c) => c === 'DM_CONTAINER_CONTEXT')).toHaveLength(contexts);
    expect(host.codes()).toContain('DM_CONTAINER_MANIFESTS');
  });

  it('has nothing to connect to, roll back or report before a deploy', async () => {
    await expect(containerDriver.connect(ctx)).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
    await expect(containerDriver.restorePrevious!(ctx, build)).rejects.toMatchObject({ code: 'NOT_DEPLOYED', message: expect.stringContaining('deploy-model deploy --target image') });
    expect(await containerDriver.status(ctx)).toEqual({ state: 'not-deployed' });
    expect(await containerDriver.destroy(ctx)).toEqual({ removed: false });
  });

  it('answers ROLLBACK_NO_PREVIOUS when the record keeps no earlier image, naming the one it keeps', async () => {
    const work = join(dir, 'no-previous');
    const c = containerContext(dir, work, cls);
    await mkdir(work, { recursive: true });
    await writeImageRecord(work, { ref: `${PUSH}:0123456789ab`, refs: [`${PUSH}:0123456789ab`], contentTag: '0123456789ab', builder: 'podman', sizeBytes: 1, buildMs: 1, pushed: true });
    await expect(containerDriver.restorePrevious!(c, build)).rejects.toMatchObject({ code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`${PUSH}:0123456789ab (version 0123456789ab) and nothing before it`) });
  });

  it('a promote keeps one generation: the record it replaces becomes its previous, unless it is the same image', () => {
    const rec = (tag: string) => ({ ref: `${PUSH}:${tag}`, refs: [`${PUSH}:${tag}`], contentTag: tag, builder: 'podman' as const, sizeBytes: 1, buildMs: 1, pushed: false });
    const first = nextImageRecord(undefined, rec('aaaaaaaaaaaa'));
    expect(first).toEqual(rec('aaaaaaaaaaaa'));
    const second = nextImageRecord(first, rec('bbbbbbbbbbbb'));
    expect(second).toEqual({ ...rec('bbbbbbbbbbbb'), previous: rec('aaaaaaaaaaaa') });
    // The third drops the first: one generation is kept.
    expect(nextImageRecord(second, rec('cccccccccccc'))).toEqual({ ...rec('cccccccccccc'), previous: rec('bbbbbbbbbbbb') });
    // The same image promoted again keeps what it had before it.
    expect(nextImageRecord(second, rec('bbbbbbbbbbbb'))).toEqual(second);
  });

  it('reports a recorded image as its content tag: stopped when local, unknown once pushed', async () => {
    const work = join(dir, 'status');
    const c = containerContext(dir, work, cls);
    await mkdir(work, { recursive: true });
    await writeImageRecord(work, { ref: `${PUSH}:0123456789ab`, refs: [`${PUSH}:0123456789ab`], contentTag: '0123456789ab', builder: 'podman', sizeBytes: 1, buildMs: 1, pushed: true });
    expect(await containerDriver.status(c)).toMatchObject({ state: 'unknown', endpoint: `${PUSH}:0123456789ab`, version: '0123456789ab' });
  });
});

describe('container diff', () => {
  let dir: string;
  let cls: ModelSignature;
  let work: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-diff-'));
    cls = await inspectModel(REAL_MODELS.cls);
    work = join(dir, 'work');
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('nothing deployed: the image and every manifest are created, none disruptive', async () => {
    // GIVEN a build and nothing recorded
    const ctx = containerContext(dir, work, cls);
    const build = await containerDriver.build(ctx);
    const out = build.outputs as ContainerArtifacts;
    // WHEN
    const diff = await containerDriver.diff!(ctx, build);
    // THEN
    expect(diff).toEqual({
      unchanged: false,
      changes: [
        { resource: `image ${PUSH}`, action: 'create', detail: `build ${out.contentRef} and ${PUSH}:v1, pushed to ${PUSH}` },
        { resource: 'k8s/deployment.yaml', action: 'create', detail: 'Deployment ocr-cls' },
        { resource: 'k8s/service.yaml', action: 'create', detail: 'Service ocr-cls' },
        { resource: 'k8s/hpa.yaml', action: 'create', detail: 'HorizontalPodAutoscaler ocr-cls' },
        { resource: 'k8s/inferenceservice.yaml', action: 'create', detail: 'InferenceService ocr-cls' },
      ],
    });
  }, 60_000);

  it('unchanged: the recorded image is this build, pushed, and k8s/ holds what the plan writes', async () => {
    // GIVEN what a deploy of this build leaves
    const ctx = containerContext(dir, work, cls);
    const build = await containerDriver.build(ctx);
    await recordDeploy(ctx, build, true);
    // WHEN THEN
    expect(await containerDriver.diff!(ctx, build)).toEqual({ unchanged: true, changes: [] });
  }, 60_000);

  it('an image recorded but not pushed, where push is set now, is to be pushed', async () => {
    const ctx = containerContext(dir, join(dir, 'not-pushed'), cls);
    const build = await containerDriver.build(ctx);
    await recordDeploy(ctx, build, false);
    const out = build.outputs as ContainerArtifacts;
    expect(await containerDriver.diff!(ctx, build)).toEqual({
      unchanged: false,
      changes: [{ resource: `image ${PUSH}`, action: 'update', detail: `push ${out.contentRef} and ${PUSH}:v1 (recorded, not pushed yet)` }],
    });
  }, 60_000);

  it('a model change: a new content tag updates the image and the manifests that name it, and nothing else', async () => {
    // GIVEN the cls model deployed, then another model in the config
    const before = (await containerDriver.build(containerContext(dir, work, cls))).outputs as ContainerArtifacts;
    const add = await inspectModel(await writeTinyModel(dir, 'add'));
    const ctx = containerContext(dir, work, add);
    // WHEN
    const build = await containerDriver.build(ctx);
    const diff = await containerDriver.diff!(ctx, build);
    // THEN
    const after = build.outputs as ContainerArtifacts;
    expect(after.contentTag).not.toBe(before.contentTag);
    expect(diff).toEqual({
      unchanged: false,
      changes: [
        { resource: `image ${PUSH}`, action: 'update', detail: `content tag ${before.contentTag} → ${after.contentTag}, pushed to ${PUSH}` },
        { resource: 'k8s/deployment.yaml', action: 'update', detail: `Deployment ocr-cls: spec.template.spec.containers[0].image: ${before.contentRef} → ${after.contentRef}` },
        { resource: 'k8s/inferenceservice.yaml', action: 'update', detail: `InferenceService ocr-cls: spec.predictor.containers[0].image: ${before.contentRef} → ${after.contentRef}` },
      ],
    });
    expect(diff.changes.some((c) => c.disruptive)).toBe(false);
  }, 60_000);

  it('kserve turned off: inferenceservice.yaml is deleted, the rest is unchanged', async () => {
    // GIVEN the cls model deployed (as in the unchanged case), then kserve: false
    const ctx = containerContext(dir, work, cls);
    await recordDeploy(ctx, await containerDriver.build(ctx), true);
    const off = containerContext(dir, work, cls, { kserve: false });
    // WHEN
    const diff = await containerDriver.diff!(off, await containerDriver.build(off));
    // THEN
    expect(diff).toEqual({
      unchanged: false,
      changes: [{ resource: 'k8s/inferenceservice.yaml', action: 'delete', detail: 'kserve is false: no InferenceService is written' }],
    });
  }, 60_000);

  it('summarises several differing fields in one line', async () => {
    // GIVEN the cls model deployed, then other resources and replicas
    const ctx = containerContext(dir, work, cls);
    await recordDeploy(ctx, await containerDriver.build(ctx), true);
    const bigger = containerContext(dir, work, cls, { resources: { cpu: '2', memory: '2Gi' } });
    // WHEN
    const diff = await containerDriver.diff!(bigger, await containerDriver.build(bigger));
    // THEN
    expect(diff.changes.find((c) => c.resource === 'k8s/deployment.yaml')).toEqual({
      resource: 'k8s/deployment.yaml', action: 'update',
      detail: 'Deployment ocr-cls: spec.template.spec.containers[0].resources.requests.cpu: 1 → 2; spec.template.spec.containers[0].resources.requests.memory: 1Gi → 2Gi; 1 more field(s) differ',
    });
  }, 60_000);
});

