import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionUrlEvent } from './_events.js';
import { MODELS, runDirect, signatureOf, validInput } from './_models.js';

const run = promisify(execFile);
const ENV_KEYS = ['DM_MODEL_PATH', 'DM_SIGNATURE_PATH', 'DM_MODEL_NAME', 'DM_EXECUTION_PROVIDERS', 'DM_INTRA_OP_THREADS', 'LAMBDA_TASK_ROOT'];

let dir: string;
let signaturePath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deploy-model-lambda-'));
  signaturePath = join(dir, 'signature.json');
  await writeFile(signaturePath, JSON.stringify(await signatureOf('cls')));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('handlers/lambda-entry.ts, imported as Lambda does', () => {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    vi.resetModules();
  });

  it('loads the model named by DM_* at module init and serves it', async () => {
    // GIVEN the environment the function is deployed with
    Object.assign(process.env, {
      DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: signaturePath, DM_MODEL_NAME: 'ocr-cls',
      DM_EXECUTION_PROVIDERS: 'cpu', DM_INTRA_OP_THREADS: '1',
    });
    // WHEN the module is imported
    const { handler } = await import('../../handlers/lambda-entry.js');
    // THEN its handler answers Function URL events for that model
    const meta = (await handler(functionUrlEvent({ method: 'GET', path: '/v2/models/ocr-cls' }), {})) as { statusCode: number; body: string };
    expect(meta.statusCode).toBe(200);
    expect(JSON.parse(meta.body).name).toBe('ocr-cls');
    const { tensors, feeds } = await validInput('cls');
    const res = (await handler(functionUrlEvent({ method: 'POST', path: '/', body: JSON.stringify({ inputs: tensors }) }), {})) as { statusCode: number; body: string };
    expect(JSON.parse(res.body).outputs[0].data).toEqual((await runDirect('cls', feeds))['softmax_0.tmp_0'].data);
  });

  it('fails init with a message naming the missing model', async () => {
    Object.assign(process.env, { DM_MODEL_PATH: join(dir, 'missing.onnx'), DM_SIGNATURE_PATH: signaturePath });
    await expect(import('../../handlers/lambda-entry.js')).rejects.toThrow(/the inference runtime could not start: could not load the model .*missing\.onnx/);
  });

  it('fails init with a message naming the missing signature and the variable to set', async () => {
    Object.assign(process.env, { DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: join(dir, 'nope.json') });
    await expect(import('../../handlers/lambda-entry.js')).rejects.toThrow(/cannot read the model signature .*nope\.json.*DM_SIGNATURE_PATH/);
  });

  it('fails init on a bad DM_INTRA_OP_THREADS', async () => {
    Object.assign(process.env, { DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: signaturePath, DM_INTRA_OP_THREADS: 'four' });
    await expect(import('../../handlers/lambda-entry.js')).rejects.toThrow(/DM_INTRA_OP_THREADS is "four"/);
  });
});

describe('the esbuild bundle', () => {
  let root: string;
  beforeAll(async () => {
    // GIVEN handlers/lambda-entry.ts bundled the way the Lambda target bundles it, in a task root with
    // the model at its default place
    root = join(dir, 'task');
    await mkdir(join(root, 'model'), { recursive: true });
    await mkdir(join(root, 'node_modules'), { recursive: true });
    await build({
      entryPoints: ['handlers/lambda-entry.ts'], outfile: join(root, 'index.mjs'), bundle: true, platform: 'node',
      format: 'esm', target: 'node20', external: ['onnxruntime-node'], logLevel: 'silent',
    });
    await symlink(resolve('node_modules/onnxruntime-node'), join(root, 'node_modules', 'onnxruntime-node'));
    await copyFile(MODELS.cls.path, join(root, 'model', 'model.onnx'));
    await copyFile(signaturePath, join(root, 'model', 'signature.json'));
  });

  const script = `
    const { handler } = await import(process.cwd() + '/index.mjs');
    const out = [];
    for (const event of JSON.parse(await (await import('node:fs/promises')).readFile(process.env.EVENTS_FILE, 'utf8'))) out.push(await handler(event, {}));
    console.log(JSON.stringify(out));`;

  it('is small, carries no zod, and serves from LAMBDA_TASK_ROOT with the default paths', async () => {
    const bundle = await readFile(join(root, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/from ["']zod["']|\bZodError\b/);
    expect(bundle.length).toBeLessThan(100_000);
    const { tensors, feeds } = await validInput('cls');
    const events = [
      functionUrlEvent({ method: 'GET', path: '/v2/health/ready' }),
      functionUrlEvent({ method: 'POST', path: '/v2/models/model/infer', body: JSON.stringify({ inputs: tensors }) }),
      null,
    ];
    const eventsFile = join(dir, 'events.json');
    await writeFile(eventsFile, JSON.stringify(events));
    const env = { PATH: process.env.PATH, LAMBDA_TASK_ROOT: root, EVENTS_FILE: eventsFile };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env, maxBuffer: 64 * 1024 * 1024 });
    const [health, infer, garbage] = JSON.parse(stdout);
    expect(health).toMatchObject({ statusCode: 200, body: '{"status":"ready"}' });
    expect(infer.statusCode).toBe(200);
    expect(JSON.parse(infer.body).outputs[0].data).toEqual((await runDirect('cls', feeds))['softmax_0.tmp_0'].data);
    expect(garbage.code).toBe('INVALID_EVENT');
  });

  it('reports an init error when the model is not there', async () => {
    const env = { PATH: process.env.PATH, LAMBDA_TASK_ROOT: join(dir, 'empty'), EVENTS_FILE: signaturePath };
    const failed = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toContain('deploy-model: the inference runtime could not start');
    expect(failed?.stderr).toContain(join(dir, 'empty', 'model', 'signature.json'));
  });
});
