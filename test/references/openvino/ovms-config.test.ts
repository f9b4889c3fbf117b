// OVMS v2026.2's config.json rules, each refused once, and every config.json the openvino engine generates for the real models checked against them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ModelConfig } from '../../../src/config/schema.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { containerTarget } from '../../../src/targets/container/index.js';
import type { ContainerTargetConfig } from '../../../src/targets/container/schema.js';
import { MODELS, SILERO_INPUTS } from '../../kits/triton/_models.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { ortModelIo } from '../triton/ort-model-io.js';
import { ovmsConfigViolations, shapeStringProblem } from './ovms-config-rules.js';

/** The config.json the container target's openvino engine writes, for a model and model/target options. */
async function generated(path: string, model: Partial<ModelConfig> = {}, openvino?: Record<string, unknown>, runtime?: Record<string, unknown>) {
  const config = configSchema.parse({
    name: 'm', model: { path, ...model }, ...(runtime ? { runtime } : {}),
    targets: { image: { type: 'container', engine: 'openvino', ...(openvino ? { openvino } : {}) } },
  });
  const signature = await inspectModel(path);
  const plan = containerTarget.plan({ config, stage: 'dev', targetName: 'image', target: config.targets.image as ContainerTargetConfig, signature, rootDir: '/' });
  // The text as written, read back: what OVMS parses.
  return JSON.parse(`${JSON.stringify(plan.openvino!.config)}`) as unknown;
}

describe("OVMS v2026.2's config.json rules (src/schema.cpp, modelconfig.cpp, shape.cpp)", () => {
  it.each<[string, unknown, string]>([
    ['an unknown top-level key', { model_config_list: [], models: [] }, 'models'],
    ['no model_config_list', {}, 'model_config_list'],
    ['a second property beside config', { model_config_list: [{ config: { name: 'm' }, extra: 1 }] }, 'model_config_list[0]'],
    ['a config without a name', { model_config_list: [{ config: { base_path: '/m' } }] }, 'model_config_list[0].config.name'],
    ['a misspelt field', { model_config_list: [{ config: { name: 'm', basepath: '/m' } }] }, 'model_config_list[0].config.basepath'],
    ['a negative nireq', { model_config_list: [{ config: { name: 'm', nireq: -1 } }] }, 'model_config_list[0].config.nireq'],
    ['a plugin_config value that is an object', { model_config_list: [{ config: { name: 'm', plugin_config: { A: {} } } }] }, 'model_config_list[0].config.plugin_config'],
    ['a shape that is a number', { model_config_list: [{ config: { name: 'm', shape: 3 } }] }, 'model_config_list[0].config.shape'],
    ['two version policies', { model_config_list: [{ config: { name: 'm', model_version_policy: { all: {}, latest: { num_versions: 1 } } } }] }, 'model_config_list[0].config.model_version_policy'],
  ])('the schema refuses %s', (_what, config, path) => {
    expect(ovmsConfigViolations(config)).toContainEqual(expect.objectContaining({ rule: 'schema', path }));
  });

  it.each([
    ['(1,3,224,224)', undefined], ['(-1,3,-1,-1)', undefined], ['(1:8,3,48,-1)', undefined], ['auto', undefined],
    ['()', /at least one/], ['(1,3', /one '\('/], ['1,3', /one '\('/], ['(1,-3)', /-1 \(any\)/], ['(8:1,3)', /higher than its min/],
    ['(1:,3)', /min and a max/], ['(1-2,3)', /leading sign/], ['(1:2:3)', /at most one/], ['[1,3]', /only digits/],
  ])('the shape grammar: %s', (text, problem) => {
    if (problem) expect(shapeStringProblem(text)).toMatch(problem);
    else expect(shapeStringProblem(text)).toBeUndefined();
  });

  it('refuses a shape for an input the model lacks, stateful-only fields on a stateless model, an unknown hint', () => {
    const v = ovmsConfigViolations({ model_config_list: [{ config: { name: 'm', shape: { y: '(1)' }, low_latency_transformation: true, plugin_config: { PERFORMANCE_HINT: 'FAST' } } }] }, ['x']);
    expect(v.map((x) => x.rule).sort()).toEqual(['performance-hint', 'shape-input', 'stateful']);
  });
});

describe('every config.json the openvino engine generates passes them', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'dm-ovms-')); });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const CASES: Array<[string, () => string, Partial<ModelConfig>, Record<string, unknown>?, Record<string, unknown>?]> = [
    ['cls', () => MODELS.cls, {}],
    ['cls batching', () => MODELS.cls, { batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } }],
    // `1:1` is refused (a range's max must be above its min): a batch of at most one is the dim 1.
    ['cls batching of one', () => MODELS.cls, { batching: { maxBatchSize: 1, maxQueueDelayMs: 2 } }],
    ['cls pinned', () => MODELS.cls, { inputs: { x: { shape: [1, 3, 48, 192] } } }, { performanceHint: 'THROUGHPUT', streams: 2 }, { intraOpThreads: 4 }],
    ['det pinned and batching', () => MODELS.det, { inputs: { x: { shape: [1, 3, 640, 640] } }, batching: { maxBatchSize: 4, maxQueueDelayMs: 2 } }],
    ['rec', () => MODELS.rec, {}, { streams: 'AUTO' }],
    ['silero', () => MODELS.silero, { inputs: SILERO_INPUTS }],
    ['hello-deepa', () => MODELS.hello_deepa, {}],
  ];

  it.each(CASES)('%s', async (_label, path, model, openvino, runtime) => {
    const config = await generated(path(), model, openvino, runtime);
    const io = await ortModelIo(path());
    expect(ovmsConfigViolations(config, io.inputs.map((i) => i.name))).toEqual([]);
  });

  it('a tiny model with an int64 scalar: no shape for the scalar (OVMS refuses "()")', async () => {
    const file = await writeTinyModel(dir, 'int64-scalar');
    const config = await generated(file) as { model_config_list: Array<{ config: { shape?: unknown } }> };
    expect(config.model_config_list[0]!.config.shape).toBeUndefined();
    expect(ovmsConfigViolations(config)).toEqual([]);
  });
});
