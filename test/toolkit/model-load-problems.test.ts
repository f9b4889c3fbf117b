import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadErrorProblem } from '../../src/toolkit/model-load-problems.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { encodeModel, nodeProto, tensorInfo } from '../_helpers/onnx-models.js';

const FLOAT = 1;
const model = (op: string, opset: number) => encodeModel({ nodes: [nodeProto(op, ['x'], ['y'])], inputs: [tensorInfo('x', FLOAT, [1, 4])], outputs: [tensorInfo('y', FLOAT, [1, 4])], opset });

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'dm-model-load-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function problemsOf(name: string, bytes: Uint8Array) {
  await writeFile(path.join(dir, `${name}.onnx`), bytes);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'm', model: { path: './${name}.onnx' }, targets: { local: { type: 'local' } } };\n`);
  const toolkit = new Toolkit({ cacheDir: path.join(dir, 'cache') });
  return toolkit.validate(await toolkit.load({ cwd: dir }));
}

describe('validate creates a CPU session: what onnxruntime cannot load is a problem naming why', () => {
  it('an operator onnxruntime does not have is named with its opset', async () => {
    expect(await problemsOf('unknown-op', model('FooBar', 17))).toEqual([expect.objectContaining({
      path: 'model.path', rule: expect.stringMatching(/^onnxruntime [\d.]+ has no operator FooBar at opset 17$/), fix: expect.stringContaining('re-export the model'),
    })]);
  });

  it('an opset newer than the runtime\'s is named with the newest it supports', async () => {
    expect(await problemsOf('new-opset', model('Identity', 40))).toEqual([expect.objectContaining({
      rule: expect.stringMatching(/^the model's opset 40 \(domain ai\.onnx\) is newer than onnxruntime [\d.]+ supports \(up to \d+\)$/),
      fix: expect.stringMatching(/opset_version=\d+/),
    })]);
  });

  it('a model that loads has no problem, and each model content is checked once', async () => {
    expect(await problemsOf('fine', model('Identity', 13))).toEqual([]);
    const checked = await readdir(path.join(dir, 'cache', 'model-checks'));
    expect(checked.length).toBe(3);
    expect(await problemsOf('fine', model('Identity', 13))).toEqual([]);
    expect((await readdir(path.join(dir, 'cache', 'model-checks'))).length).toBe(3);
  });

  it('another load error keeps onnxruntime\'s reason, without its source paths', () => {
    expect(loadErrorProblem('/m.onnx', 'Load model from /m.onnx failed:/onnxruntime_src/onnxruntime/core/x.cc:12 void f(int) Protobuf parsing failed.', '1.30.0'))
      .toEqual({ path: 'model.path', value: '/m.onnx', rule: 'onnxruntime 1.30.0 cannot load it: Protobuf parsing failed.', fix: expect.any(String) });
  });
});
