/**
 * A two-platform image for real: the cls model built for linux/amd64 and linux/arm64 on a
 * two-platform base (a manifest list), each image's native files read from the saved image (ELF
 * e_machine), the arm64 image run where this machine can (natively or under qemu-user emulation)
 * and compared with the amd64 one, then pushed to the registry on 127.0.0.1:5000 as one manifest
 * list, which the registry then serves with both platforms. Then a single image of the other
 * architecture: built and checked, and refused at stage where it cannot be smoke-tested.
 *
 * Needs podman (manifest lists), the two-platform base and the registry: `bash .ci/containers.sh`
 * makes them (the arm64 base needs qemu-user-static; without it the arm64 contents are still
 * checked and the run is reported as not done).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { runSmoke } from '../../../src/smoke/run-smoke.js';
import { generateSmokeRequest } from '../../../src/smoke/smoke-input.js';
import { exec } from '../../../src/targets/container/_exec.js';
import type { ContainerArtifacts, ContainerContext } from '../../../src/targets/container/build.js';
import { containerDriver } from '../../../src/targets/container/driver.js';
import { inspectImageNativeFiles } from '../../../src/targets/container/image-contents.js';
import { runsHere } from '../../../src/targets/container/multi-platform.js';
import type { ContainerPlan } from '../../../src/targets/container/plan.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import { runRollout } from '../../../src/toolkit/rollout.js';
import { containerBuilder, TEST_BASE_IMAGE } from '../../_helpers/container-builder.js';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';

const MULTI_BASE = process.env.DEPLOY_MODEL_TEST_MULTIARCH_BASE ?? `${TEST_BASE_IMAGE}-multiarch`;
const REGISTRY = process.env.DEPLOY_MODEL_TEST_REGISTRY ?? '127.0.0.1:5000';

const env = await containerBuilder();
const list = env.builder?.name === 'podman' ? await exec(['podman', 'manifest', 'inspect', MULTI_BASE], { timeoutMs: 30_000 }) : undefined;
const registryUp = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status === 200, () => false);
const reason = !env.builder ? env.reason : env.builder.name !== 'podman' ? 'the two-platform test uses podman manifest lists'
  : list?.code !== 0 ? `the two-platform base ${MULTI_BASE} is not there` : !registryUp ? `no registry on ${REGISTRY}` : undefined;
const title = 'a linux/amd64 + linux/arm64 image: built per platform, native files checked, arm64 run where it can, pushed as a manifest list';

describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason}; run \`bash .ci/containers.sh\` as root)` : title, () => {
  const host = new RecordingIoHost();
  const repository = `${REGISTRY}/deploy-model-test/cls-multiarch`;
  let dir: string;
  let ctx: ContainerContext;
  let artifacts: ContainerArtifacts;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-multiarch-'));
    const signature = await inspectModel(REAL_MODELS.cls);
    const config = configSchema.parse({
      // Its own name, so its containers (cls-multi-dev-image-*) are told apart from container.real.test.ts's when both run at once.
      name: 'cls-multi', model: { path: REAL_MODELS.cls },
      targets: { image: { type: 'container', baseImage: MULTI_BASE, platforms: ['linux/amd64', 'linux/arm64'], push: repository, builder: 'podman' } },
    });
    ctx = targetContext<ContainerTargetConfig, ContainerPlan>({ config, targetName: 'image', signature, dir, host });
  });

  afterAll(async () => {
    if (artifacts) {
      await exec(['podman', 'manifest', 'rm', artifacts.contentRef], { timeoutMs: 60_000 });
      await exec(['podman', 'rmi', '--force', ...artifacts.contexts.map((c) => c.ref)], { timeoutMs: 60_000 });
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes one build context per platform, each with onnxruntime-node for its own architecture only', async () => {
    const build = await containerDriver.build(ctx);
    artifacts = build.outputs as ContainerArtifacts;
    expect(artifacts.contexts.map((c) => [c.platform, c.ref])).toEqual([
      ['linux/amd64', `${repository}:${artifacts.contentTag}-amd64`],
      ['linux/arm64', `${repository}:${artifacts.contentTag}-arm64`],
    ]);
    expect(artifacts.contexts[0]!.digest).not.toBe(artifacts.contexts[1]!.digest);
  }, 120_000);

  it('stages: builds both, checks every native file of each saved image, runs amd64, compares arm64 where it runs; promote pushes one manifest list', async () => {
    const smokeInput = generateSmokeRequest(ctx.signature);
    const result = await runRollout(ctx, containerDriver, { artifacts: [], outputs: artifacts }, (client) => runSmoke({ signature: ctx.signature, smoke: ctx.config.smoke, request: smokeInput, client }));
    expect(result.smoke.status).toBe('passed');
    expect(result.promoted).toBe(true);
    const platforms = (result.details as { platforms: Array<{ platform: string; ref: string; sizeBytes: number; runsHere: string; smoke: string }> }).platforms;
    expect(platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    // THEN each build said how it was done: the one of this machine's platform natively, the other without emulation (the Dockerfile only copies)
    const builds = host.messages.filter((m) => m.code === 'DM_CONTAINER_PLATFORM_BUILD').map((m) => (m.data as { build: string }).build);
    expect(builds).toEqual(platforms.map((p) => (runsHere(p.platform as 'linux/amd64' | 'linux/arm64') === 'native' ? 'native' : 'copy-only')));
    expect((result.details as { platforms: Array<{ build: string }> }).platforms.some((p) => /without emulation/.test(p.build))).toBe(true);
    // THEN each image's native files were read and are its own architecture's
    const checked = host.messages.filter((m) => m.code === 'DM_CONTAINER_NATIVE_FILES').map((m) => m.data as { platform: string; app: string[] });
    expect(checked.map((c) => c.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(checked[0]!.app).toEqual(expect.arrayContaining(['/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1']));
    expect(checked[1]!.app).toEqual(expect.arrayContaining(['/app/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node', '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1']));
    const arm = platforms[1]!;
    expect(arm.runsHere).toBe(runsHere('linux/arm64'));
    // A run under emulation is said to be one, before it starts.
    if (arm.runsHere === 'emulated') expect(host.codes()).toContain('DM_CONTAINER_PLATFORM_EMULATED');
    if (arm.runsHere === 'native') {
      expect(arm.smoke).toMatch(/^passed.*outputs match linux\/amd64/);
    } else if (arm.smoke.startsWith('passed')) {
      expect(arm.smoke).toMatch(/^passed under qemu emulation: outputs match linux\/amd64/);
    } else {
      // Not run here (no emulation, or the server did not start under it): said so, with the native files checked.
      expect(arm.smoke).toMatch(/^not run: .*native files were checked$/);
      expect(host.codes()).toContain('DM_CONTAINER_PLATFORM_NOT_RUN');
    }
    console.log(`image sizes: ${platforms.map((p) => `${p.platform} ${(p.sizeBytes / 1e6).toFixed(1)} MB (${p.smoke})`).join('; ')}`);

    // THEN the registry serves one manifest list with both platforms under the content tag
    const res = await fetch(`http://${REGISTRY}/v2/deploy-model-test/cls-multiarch/manifests/${artifacts.contentTag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(res.status).toBe(200);
    const index = (await res.json()) as { manifests: Array<{ platform: { os: string; architecture: string } }> };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  }, 900_000);

  it('the arm64 image really carries arm64 binaries: read from its saved layers, not from the build context', async () => {
    const report = await inspectImageNativeFiles(env.builder!, artifacts.contexts[1]!.ref, 'linux/arm64');
    expect(report.wrong).toEqual([]);
    expect(report.files.find((f) => f.path === '/usr/local/bin/node')?.machine).toBe(183);
    expect(report.files.some((f) => f.path.endsWith('/linux/x64/onnxruntime_binding.node'))).toBe(false);
    // AND against the other platform it is refused, file by file
    const against = await inspectImageNativeFiles(env.builder!, artifacts.contexts[1]!.ref, 'linux/amd64');
    expect(against.wrong.length).toBe(against.files.length);
  }, 300_000);
});

// A single image of the other architecture (architecture: 'arm64' on an amd64 machine, or the reverse).
const OTHER = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
const otherBase = process.arch === 'arm64' ? TEST_BASE_IMAGE.replace(/-arm64$/, '') : `${TEST_BASE_IMAGE}-arm64`;
const otherBaseThere = env.builder?.name === 'podman' ? (await exec(['podman', 'image', 'exists', otherBase], { timeoutMs: 30_000 })).code === 0 : false;
const singleReason = !env.builder ? env.reason : env.builder.name !== 'podman' ? 'uses podman' : !otherBaseThere ? `the ${OTHER} base ${otherBase} is not there` : undefined;
const singleTitle = `a single ${OTHER} image on this machine: built and checked, smoke-tested only where it runs, never pushed untested`;

describe.skipIf(singleReason !== undefined)(singleReason ? `${singleTitle} (skipped: ${singleReason}; run \`bash .ci/containers.sh\` as root)` : singleTitle, () => {
  const host = new RecordingIoHost();
  let dir: string;

  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('says how it was built and run; where it cannot run, or does not start under qemu, stage fails with a coded error and removes the image', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dm-single-other-'));
    const signature = await inspectModel(REAL_MODELS.cls);
    const architecture = OTHER === 'linux/arm64' ? 'arm64' : 'x86_64';
    const config = configSchema.parse({
      name: 'cls-single', model: { path: REAL_MODELS.cls },
      targets: { image: { type: 'container', baseImage: otherBase, architecture, push: `${REGISTRY}/deploy-model-test/cls-single-other`, builder: 'podman' } },
    });
    const ctx = targetContext<ContainerTargetConfig, ContainerPlan>({ config, targetName: 'image', signature, dir, host });
    const build = await containerDriver.build(ctx);
    const ref = (build.outputs as ContainerArtifacts).contentRef;
    const outcome = await runRollout(ctx, containerDriver, build, (client) => runSmoke({ signature, smoke: ctx.config.smoke, request: generateSmokeRequest(signature), client })).then((r) => r, (e: unknown) => e);
    // THEN the build said it needed no emulation, and the image's native files were read for its platform
    expect(host.messages.find((m) => m.code === 'DM_CONTAINER_PLATFORM_BUILD')?.data).toMatchObject({ platform: OTHER, build: 'copy-only' });
    expect(host.messages.find((m) => m.code === 'DM_CONTAINER_NATIVE_FILES')?.data).toMatchObject({ platform: OTHER });
    const how = runsHere(OTHER);
    if (how === 'no') {
      expect(outcome).toMatchObject({ code: 'CONTAINER_PLATFORM_CANNOT_RUN', message: expect.stringMatching(/native files checked, but this machine cannot run/) });
    } else {
      expect(host.codes()).toContain('DM_CONTAINER_PLATFORM_EMULATED');
      if (outcome instanceof Error) {
        // qemu-user 7.2 (Debian 12): onnxruntime crashes at start. Said so, with what was checked.
        expect(outcome).toMatchObject({ code: 'CONTAINER_EMULATED_RUN_FAILED', message: expect.stringMatching(/under qemu-user-static emulation .*did not get ready.*its native files were checked/s) });
      } else {
        expect((outcome as { smoke: { status: string } }).smoke.status).toBe('passed');
        await exec(['podman', 'rmi', '--force', ref], { timeoutMs: 60_000 });
        return;
      }
    }
    // AND the failed stage removed what it built: nothing to push, nothing left
    expect((await exec(['podman', 'image', 'exists', ref], { timeoutMs: 30_000 })).code).toBe(1);
  }, 300_000);
});
