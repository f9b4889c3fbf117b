/** The throwaway target's driver: versions are model files in the state folder, served by the project's inference core in this process. */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInferenceCore } from '../../../handlers/core/create-inference-core.js';
import { isInferenceError } from '../../../handlers/core/inference-error.js';
import { sha256File } from '../../../src/bundling/hash.js';
import { DeployModelError } from '../../../src/errors.js';
import type { InferenceClient } from '../../../src/smoke/run-smoke.js';
import type { TargetContext, TargetDriver } from '../../../src/targets/driver.js';
import type { ThrowawayPlan } from './plan.js';
import type { ThrowawayTargetConfig } from './schema.js';

type Ctx = TargetContext<ThrowawayTargetConfig, ThrowawayPlan>;
const home = (ctx: Ctx) => path.join(ctx.stateDir, 'throwaway', ctx.plan.resourceName);
const modelOf = (ctx: Ctx, version: string) => path.join(home(ctx), `${version}.onnx`);
const serving = (ctx: Ctx) => readFile(path.join(home(ctx), 'serving'), 'utf8').catch(() => undefined);

/** Loads a version and answers as an endpoint would: 200 with the outputs, or the core's status and error. */
async function load(ctx: Ctx, version: string): Promise<{ client: InferenceClient; close(): Promise<void> }> {
  const core = await createInferenceCore({ modelPath: modelOf(ctx, version), modelName: ctx.config.name, signature: ctx.signature, log: () => {} });
  const client: InferenceClient = async (request) => {
    const t0 = performance.now();
    try {
      return { status: 200, body: await core.infer(request as never), latencyMs: performance.now() - t0 };
    } catch (e) {
      if (!isInferenceError(e)) throw e;
      return { status: e.status, body: { error: e.message }, latencyMs: performance.now() - t0 };
    }
  };
  return { client, close: () => core.close() };
}

export const throwawayDriver: TargetDriver<ThrowawayTargetConfig, ThrowawayPlan> = {
  async build(ctx) {
    const file = path.join(ctx.workDir, 'model.onnx');
    await mkdir(ctx.workDir, { recursive: true });
    await copyFile(ctx.plan.model.file, file);
    return { artifacts: [{ kind: 'model', file, bytes: (await stat(file)).size, sha256: await sha256File(file) }] };
  },
  rollout: {
    async stage(ctx, build) {
      const version = build.artifacts[0]!.sha256!.slice(0, 12);
      const previous = await serving(ctx);
      await mkdir(home(ctx), { recursive: true });
      await copyFile(build.artifacts[0]!.file, modelOf(ctx, version));
      const loaded = await load(ctx, version);
      return { endpoint: `in-process:${ctx.plan.resourceName}`, version, client: loaded.client, previous, unchanged: previous === version, state: loaded };
    },
    async promote(ctx, candidate) {
      await writeFile(path.join(home(ctx), 'serving'), candidate.version);
      if (candidate.previous) await rm(modelOf(ctx, candidate.previous), { force: true });
      await candidate.state.close();
    },
    async rollback(ctx, candidate) {
      await candidate.state.close();
      await rm(modelOf(ctx, candidate.version), { force: true });
      return 'removed';
    },
    async release(_ctx, candidate) { await candidate.state.close(); },
  },
  async connect(ctx) {
    const version = await serving(ctx);
    if (!version) throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' is not deployed. Run \`deploy-model deploy --target ${ctx.targetName}\`.`);
    const loaded = await load(ctx, version);
    return { endpoint: `in-process:${ctx.plan.resourceName}`, version, client: loaded.client, close: loaded.close };
  },
  async status(ctx) {
    const version = await serving(ctx);
    const there = version !== undefined && (await stat(modelOf(ctx, version)).then(() => true, () => false));
    return there ? { state: 'running', version, endpoint: `in-process:${ctx.plan.resourceName}` } : { state: 'not-deployed' };
  },
  async destroy(ctx) {
    const removed = (await serving(ctx)) !== undefined;
    await rm(home(ctx), { recursive: true, force: true });
    return { removed };
  },
};
