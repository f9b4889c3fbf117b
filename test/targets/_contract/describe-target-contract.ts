/**
 * The guarantees every target type gives the rollout core, as one suite that runs over a target
 * type and a fixture (its config entry, and the fake it deploys to).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeployModelError } from '../../../src/errors.js';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import type { TargetStatus } from '../../../src/targets/driver.js';
import { targetModule } from '../../../src/targets/registry.js';
import { Toolkit, type Project } from '../../../src/toolkit/toolkit.js';
import { encodeModel, floatBytes, nodeProto, onnx, tensorInfo } from '../../_helpers/onnx-models.js';
import { withoutTheWorld } from './world-guard.js';

/** What a deploy of the target reaches: started before the suite, stopped after it. */
export interface ContractWorld {
  stop(): Promise<void>;
}

export interface ContractFixture {
  /** The target's entry in `config.targets`. */
  entry: Record<string, unknown>;
  /** Starts the fake the target deploys to and points this process at it. @default - nothing to start */
  world?(): Promise<ContractWorld>;
  /** Why deploys cannot run here (the suite's deploy half is skipped, saying so). @default - they can */
  deploySkipReason?(): Promise<string | undefined>;
  /** What `status` says of a deployed version: `running`, or `unknown` where nothing serves it (an image in a registry). */
  deployedState: TargetStatus['state'];
  /** `connect` gives a client of the live version (an image has none). */
  invocable: boolean;
  /**
   * The deployment is read from the platform, not from this project's folder: a copy of the
   * project without `.deploy-model/` sees it too. False for targets whose record is local by
   * nature (the local daemon, an image built here).
   */
  remoteState: boolean;
  /** Variables that hold credentials: synth must work with them unset. @default [] */
  credentialVariables?: readonly string[];
}

/** y = x + bias, x float32 [batch, 4]: v1 adds [1,2,3,4], v2 adds [10,20,30,40]. */
function adder(bias: number[]): Uint8Array {
  const T = onnx.TensorProto.DataType;
  return encodeModel({
    nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [{ name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes(bias) }],
  });
}
const V1 = adder([1, 2, 3, 4]);
const V2 = adder([10, 20, 30, 40]);
const X = [-1, 2, -3, 4];
const V1_ANSWER = [0, 4, 0, 8];

function configSource(entry: Record<string, unknown>, expectShape = [1, 4]): string {
  return `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { t: ${JSON.stringify(entry)} },
    smoke: { requests: 2, expectShapes: { y: ${JSON.stringify(expectShape)} } },
  };\n`;
}

/** The answer's `y`, whatever the platform wraps it in (KServe v2 `outputs`, Vertex `predictions`). */
function outputOf(body: unknown): number[] {
  const b = body as { outputs?: Array<{ name: string; data: number[] }> };
  const y = b.outputs?.find((o) => o.name === 'y');
  if (!y) throw new Error(`no output y in ${JSON.stringify(body).slice(0, 300)}`);
  return Array.from(y.data);
}

export function describeTargetContract(type: string, fixture: ContractFixture, options: { timeoutMs?: number } = {}): void {
  describe(`the ${type} target keeps the rollout contract`, { timeout: options.timeoutMs ?? 240_000 }, () => {
    let dir: string;
    let host: RecordingIoHost;
    let toolkit: Toolkit;
    let world: ContractWorld | undefined;
    let deploySkip: string | undefined;

    const writeProject = async (model: Uint8Array, expectShape?: number[], into = dir) => {
      await writeFile(path.join(into, 'model.onnx'), model);
      await writeFile(path.join(into, 'deploy-model.config.mjs'), configSource(fixture.entry, expectShape));
    };
    const load = (cwd = dir): Promise<Project> => toolkit.load({ cwd });

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), `dm-contract-${type}-`));
      host = new RecordingIoHost();
      toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
      await writeProject(V1);
      deploySkip = await fixture.deploySkipReason?.();
      world = await fixture.world?.();
    }, 120_000);

    afterAll(async () => {
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('plan is pure and deterministic: no file written, no connection, no process; equal plans from equal inputs, at any time', async () => {
      const project = await load();
      const module = targetModule(type);
      const { loaded, signature } = project;
      const input = { config: loaded.config, stage: loaded.stage, targetName: 't', target: loaded.config.targets.t!, signature, rootDir: loaded.rootDir };
      // WHEN the module plans twice with the world fenced off, the second time at another date with another random source
      const first = await withoutTheWorld(() => module.plan(input));
      vi.useFakeTimers({ now: new Date('2031-02-03T04:05:06Z'), toFake: ['Date'] });
      const random = vi.spyOn(Math, 'random').mockReturnValue(0.123);
      const second = await withoutTheWorld(() => module.plan(structuredClone(input)));
      vi.useRealTimers();
      random.mockRestore();
      // THEN nothing was touched, the plans are equal, and a plan survives JSON unchanged
      expect(first.error).toBeUndefined();
      expect(first.touches).toEqual({ writes: [], connections: [], lookups: [], spawns: [] });
      expect(second.touches).toEqual({ writes: [], connections: [], lookups: [], spawns: [] });
      expect(second.result).toEqual(first.result);
      expect(JSON.parse(JSON.stringify(first.result))).toEqual(first.result);
      expect(first.result).toMatchObject({ type, targetName: 't', stage: 'dev', resourceName: 'adder-dev-t', model: { sha256: signature.sha256 } });
    });

    it('build is cached by content: an unchanged plan and model reuse the build, a changed model builds again', async () => {
      const built = (await toolkit.build(await load())).t!;
      expect(built.cached).toBeFalsy();
      expect(built.artifacts.length).toBeGreaterThan(0);
      // WHEN built again unchanged
      const again = (await toolkit.build(await load())).t!;
      // THEN the build is reused, with the same artifacts
      expect(again.cached).toBe(true);
      expect(again.artifacts).toEqual(built.artifacts);
      // WHEN the model's bytes change (same signature)
      await writeProject(V2);
      const rebuilt = (await toolkit.build(await load())).t!;
      await writeProject(V1);
      // THEN it builds again, and what it built differs
      expect(rebuilt.cached).toBeFalsy();
      expect(rebuilt.artifacts).not.toEqual(built.artifacts);
    });

    it('synth needs no credentials and no network', async () => {
      const project = await load();
      await toolkit.build(project); // esbuild and builders may run here; synth must not need them
      const saved = Object.fromEntries((fixture.credentialVariables ?? []).map((k) => [k, process.env[k]]));
      for (const k of Object.keys(saved)) delete process.env[k];
      const home = await mkdtemp(path.join(os.tmpdir(), 'dm-contract-home-'));
      const savedHome = process.env.HOME;
      process.env.HOME = home; // no ~/.aws, ~/.config/gcloud or ~/.azure to fall back on
      try {
        // WHEN synth runs with writes allowed only under the project's and the system's temp folders
        const { result, error, touches } = await withoutTheWorld(() => toolkit.synth(project), { writableDirs: [dir, os.tmpdir()] });
        // THEN it synthesised without touching the network or starting a process
        expect(error).toBeUndefined();
        expect(touches).toMatchObject({ connections: [], lookups: [], spawns: [], writes: [] });
        expect(result!.t!.artifacts.length).toBeGreaterThan(0);
      } finally {
        process.env.HOME = savedHome;
        for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
        await rm(home, { recursive: true, force: true });
      }
    });

    describe('deploy', () => {
      let v1: string;

      it('deploys: the first version passes its smoke test and serves', async (t) => {
        if (deploySkip) t.skip(deploySkip);
        const report = await toolkit.deploy(await load());
        const r = report.targets[0]!;
        expect(r, JSON.stringify(r.error)).toMatchObject({ name: 't', type, status: 'passed', promoted: true });
        v1 = r.version!;
        expect(v1).toEqual(expect.any(String));
        // The smoke test ran before the version was promoted.
        const codes = host.codes();
        expect(codes.lastIndexOf('DM_SMOKE_DONE')).toBeGreaterThan(-1);
        expect(codes.lastIndexOf('DM_SMOKE_DONE')).toBeLessThan(codes.lastIndexOf('DM_ROLLOUT_PROMOTE'));
        const status = (await toolkit.status(await load()))[0]!;
        expect(status).toMatchObject({ state: fixture.deployedState, version: v1 });
      });

      it('a new version whose smoke test fails takes no traffic: the version before keeps serving', async (t) => {
        if (deploySkip) t.skip(deploySkip);
        // GIVEN a new model whose smoke check fails (the output shape the config expects is wrong)
        await writeProject(V2, [1, 5]);
        const r = (await toolkit.deploy(await load())).targets[0]!;
        await writeProject(V1);
        // THEN it is not promoted and the first version still serves, answering as the first model does
        expect(r).toMatchObject({ status: 'failed', promoted: false, previousVersion: v1 });
        expect(r.version).not.toBe(v1);
        const status = (await toolkit.status(await load()))[0]!;
        expect(status).toMatchObject({ state: fixture.deployedState, version: v1 });
        if (fixture.invocable) {
          const call = await toolkit.invoke(await load(), 't', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] });
          expect(call.status).toBe(200);
          expect(outputOf(call.body)).toEqual(V1_ANSWER);
        }
      });

      it('status reads the deployment itself', async (t) => {
        if (deploySkip) t.skip(deploySkip);
        if (!fixture.remoteState) {
          // Local by nature: the record is proven against what runs (a live process, a local image).
          expect((await toolkit.status(await load()))[0]).toMatchObject({ state: fixture.deployedState, version: v1 });
          return;
        }
        // WHEN a copy of the project with no build outputs and no records asks
        const copy = await mkdtemp(path.join(os.tmpdir(), `dm-contract-${type}-copy-`));
        try {
          await writeProject(V1, undefined, copy);
          const status = (await new Toolkit({ cacheDir: path.join(copy, '.cache') }).status(await toolkit.load({ cwd: copy })))[0]!;
          // THEN it sees the same deployment
          expect(status).toMatchObject({ state: fixture.deployedState, version: v1 });
        } finally {
          await rm(copy, { recursive: true, force: true });
        }
      });

      it('destroy is idempotent: it removes the deployment, and a second destroy finds nothing', async (t) => {
        if (deploySkip) t.skip(deploySkip);
        expect(await toolkit.destroy(await load())).toMatchObject([{ name: 't', removed: true }]);
        expect(await toolkit.destroy(await load())).toMatchObject([{ name: 't', removed: false }]);
        expect((await toolkit.status(await load()))[0]).toMatchObject({ state: 'not-deployed' });
        if (fixture.invocable) {
          await expect(toolkit.connect(await load(), 't')).rejects.toSatisfy((e) => e instanceof DeployModelError && e.code === 'NOT_DEPLOYED');
        }
      });
    });
  });
}

