import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { containerEnvironment, expandVariables } from './_expand-variables.js';
import { parseTritonCommandLine } from './_parse-triton-command-line.js';
import { TRITON_OPTIONS, tritonOptionsOf } from './_triton-options.js';
import { startTritonStandIn, type TritonProcess } from './triton-stand-in.js';

// The stand-in's rules come from Triton's sources (src/command_line_parser.cc, src/main.cc,
// src/vertex_ai_server.cc on r24.09 to r25.09) and from Kubernetes' variable expansion; these
// tests pin each rule to what those sources do.

const AIP = { AIP_MODE: 'PREDICTION', AIP_HTTP_PORT: '8000', AIP_STORAGE_URI: 'gs://managed/1/artifacts', AIP_HEALTH_ROUTE: '/health', AIP_PREDICT_ROUTE: '/predict' };

describe('expandVariables: $(VAR) as Kubernetes expands container args (third_party/forked/golang/expansion)', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const cases: Array<[string, string]> = [
    ['$(VAR_A)', 'A'], ['___$(VAR_B)___', '___B___'], ['$(VAR_A)_$(VAR_B)', 'A_B'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'], ['f000-$$VAR_A', 'f000-$VAR_A'], ['$(VAR_REF)', '$(VAR_A)'],
    ['foo$(VAR_EMPTY)bar', 'foobar'], ['$(VAR_DNE)', '$(VAR_DNE)'], ['$VAR_A', '$VAR_A'], ['${VAR_A}', '${VAR_A}'],
    ['$$$$$$$(VAR_A)', '$$$A'], ['$$$$$$(VAR_A)', '$$$(VAR_A)'], ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'], ['--$($($($($--', '--$($($($($--'], ['$(VAR_A)foobarzab$', 'Afoobarzab$'], ['$?_boo_$!', '$?_boo_$!'],
  ];
  it.each(cases)('%s → %s', (input, expected) => {
    expect(expandVariables(input, (n) => vars[n])).toBe(expected);
  });

  it('builds the environment in order: a later entry sees earlier ones and the platform\'s, not the other way round', () => {
    expect(containerEnvironment({ AIP_HTTP_PORT: '8000' }, [{ name: 'B', value: '$(A)-$(AIP_HTTP_PORT)' }, { name: 'A', value: 'a' }, { name: 'C', value: '$(A)' }]))
      .toEqual({ AIP_HTTP_PORT: '8000', B: '$(A)-8000', A: 'a', C: 'a' });
  });
});

describe('parseTritonCommandLine', () => {
  it('knows the 90 long options of r25.09, three of them new since r25.03', () => {
    expect(Object.keys(TRITON_OPTIONS)).toHaveLength(90);
    expect(Object.keys(tritonOptionsOf('24.09'))).toHaveLength(87);
    expect(Object.keys(tritonOptionsOf('25.03'))).toEqual(expect.arrayContaining(['grpc-max-response-pool-size']));
    expect(Object.keys(tritonOptionsOf('25.03'))).not.toContain('http-max-input-size');
  });

  it('under AIP_MODE=PREDICTION turns the Vertex AI front end on at AIP_HTTP_PORT and HTTP and GRPC off, and reads AIP_STORAGE_URI as the repository', () => {
    const parsed = parseTritonCommandLine([], AIP);
    expect(parsed).toMatchObject({ ok: true, params: {
      modelRepositories: ['gs://managed/1/artifacts'],
      http: { allow: false, port: 8000 }, grpc: { allow: false }, metrics: { allow: true, port: 8002, address: '0.0.0.0' }, vertexAi: { allow: true, port: 8000 },
    } });
    expect(parseTritonCommandLine([], {})).toMatchObject({ ok: true, params: { modelRepositories: [], http: { allow: true }, grpc: { allow: true }, vertexAi: { allow: false, port: 8080 } } });
  });

  it('lets the command line turn HTTP back on, with or without =, and takes unambiguous abbreviations as getopt_long does', () => {
    expect(parseTritonCommandLine(['--allow-http', 'TRUE', '--allow-vertex-ai=off', '--http-port=8000abc'], AIP)).toMatchObject({ ok: true, params: { http: { allow: true, port: 8000 }, vertexAi: { allow: false } } });
    expect(parseTritonCommandLine(['--allow-h=1', '--allow-v=0', '--model-re=/m'], AIP)).toMatchObject({ ok: true, params: { http: { allow: true }, vertexAi: { allow: false }, modelRepositories: ['/m'] } });
    expect(parseTritonCommandLine(['--model-store=/a', '--model-repository=/b'], {})).toMatchObject({ ok: true, params: { modelRepositories: ['/a', '/b'] } });
    expect(parseTritonCommandLine(['--allow=true'], {})).toEqual({ ok: false, error: expect.stringMatching(/^tritonserver: option '--allow' is ambiguous/) });
  });

  it('refuses what Triton refuses, with its messages', () => {
    const error = (args: string[], env: Record<string, string> = AIP, release?: string) => (parseTritonCommandLine(args, env, release) as { error: string }).error;
    expect(error(['--allow-http=yes'])).toBe('Bad option: "--allow-http".\ninvalid value for bool option: yes');
    expect(error(['--http-port=http'])).toBe('Bad option: "--http-port".\nInvalid option value. Got http');
    expect(error(['--http-port=99999999999'])).toBe('Bad option: "--http-port".\nProvided option value is out of bound. Got 99999999999');
    expect(error(['--model-control-mode=lazy'])).toBe('Bad option: "--model-control-mode".\ninvalid argument for --model-control-mode');
    expect(error(['--allow-htttp=true'])).toBe("tritonserver: unrecognized option '--allow-htttp'");
    expect(error(['--http-max-input-size=64'], AIP, '25.03')).toBe("tritonserver: unrecognized option '--http-max-input-size'");
    expect(error(['--disable-auto-complete-config=true'])).toBe("tritonserver: option '--disable-auto-complete-config' doesn't allow an argument");
    expect(error(['--http-port'])).toBe("tritonserver: option '--http-port' requires an argument");
    expect(error(['-p', '8000'])).toBe("tritonserver: invalid option -- 'p'");
    expect(error(['--model-repository', '/m', 'serve'])).toBe('Unexpected argument: serve');
    expect(error(['--help'])).toBe('');
    expect(error(['--load-model=add'])).toBe("Error: Use of '--load-model' requires setting '--model-control-mode=explicit' as well.");
    expect(error(['--grpc-infer-thread-count=1'])).toBe('Bad option: "--grpc-infer-thread-count".\ninvalid argument for --grpc_infer_thread_count. Must be in the range 2 to 128.');
    expect(error([], { ...AIP, AIP_HTTP_PORT: 'eighty' })).toBe('Invalid option value. Got eighty');
  });

  it('refuses two enabled services on one address and port (CheckPortCollision)', () => {
    expect(parseTritonCommandLine(['--allow-http=true'], { ...AIP, AIP_HTTP_PORT: '8000' })).toEqual({
      ok: false, error: 'The server cannot listen to HTTP requests and Vertex AI requests at the same address and port 0.0.0.0:8000',
    });
    expect(parseTritonCommandLine(['--allow-http=true', '--http-address=127.0.0.1'], AIP)).toMatchObject({ ok: true });
    expect(parseTritonCommandLine(['--metrics-port=8000'], {})).toMatchObject({ ok: false, error: expect.stringContaining('HTTP requests and metrics requests') });
  });
});

describe('startTritonStandIn', () => {
  let dir: string;
  let repo: string;
  const running: TritonProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'triton-stand-in-'));
    repo = path.join(dir, 'repo');
    await mkdir(path.join(repo, 'add', '1'), { recursive: true });
    await cp(await writeTinyModel(dir, 'add'), path.join(repo, 'add', '1', 'model.onnx'));
    await writeFile(path.join(repo, 'add', 'config.pbtxt'), 'name: "add"\nbackend: "onnxruntime"\n');
  }, 60_000);

  afterAll(async () => {
    for (const p of running) if (p.state === 'running') await p.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(args: string[], env: Record<string, string> = AIP): Promise<TritonProcess> {
    const p = await startTritonStandIn({
      args, env, scratchDir: dir,
      openRepository: async (repository, into) => {
        if (repository !== AIP.AIP_STORAGE_URI) throw new Error('No such file or directory');
        await cp(repo, into, { recursive: true });
      },
    });
    running.push(p);
    return p;
  }

  it('serves KServe v2 on the HTTP port only when HTTP is on', async () => {
    const on = await start(['--model-repository=gs://managed/1/artifacts', '--allow-http=true', '--allow-vertex-ai=false']);
    expect(on.state).toBe('running');
    if (on.state !== 'running') return;
    expect(on.listeners.map((l) => [l.service, l.port])).toEqual([['HTTP', 8000], ['metrics', 8002]]);
    const http = on.listeners.find((l) => l.service === 'HTTP')!;
    expect((await fetch(`${http.url}/v2/health/ready`)).status).toBe(200);

    const off = await start(['--model-repository=gs://managed/1/artifacts', '--allow-vertex-ai=false']);
    expect(off.state === 'running' && off.listeners.map((l) => l.service)).toEqual(['metrics']);
  });

  it('exits as Triton does without a repository it can read', async () => {
    expect(await start(['--allow-http=true'], { AIP_MODE: 'PREDICTION' })).toEqual({ state: 'exited', exitCode: 1, log: ['error: creating server: Invalid argument - --model-repository must be specified'] });
    expect(await start(['--model-repository=/models', '--allow-http=true', '--allow-vertex-ai=false'])).toMatchObject({
      state: 'exited', log: ['E failed to stat file /models: No such file or directory', 'error: creating server: Internal - failed to load all models'],
    });
  });

  it('fails to start the Vertex AI front end without its routes, as VertexAiAPIServer::Create does', async () => {
    const { AIP_PREDICT_ROUTE: _p, ...env } = AIP;
    expect(await start([], env)).toMatchObject({ state: 'exited', log: expect.arrayContaining(['E failed to start Vertex AI service: Invalid argument - API_PREDICT_ROUTE is not defined for Vertex AI endpoint']) });
    expect(await start(['--vertex-ai-default-model=other'])).toMatchObject({ state: 'exited', log: expect.arrayContaining(["E failed to start Vertex AI service: Invalid argument - Expect the default model 'other' is loaded"]) });
  });

  it('answers readiness with 400 when a model failed to load and exit-on-error is off, and reports no model in explicit mode without --load-model', async () => {
    const broken = await start(['--model-repository=/models', '--allow-http=true', '--allow-vertex-ai=false', '--exit-on-error=false']);
    const url = broken.state === 'running' ? broken.listeners.find((l) => l.service === 'HTTP')!.url : undefined;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(400);

    const explicit = await start(['--model-repository=gs://managed/1/artifacts', '--allow-http=true', '--allow-vertex-ai=false', '--model-control-mode=explicit']);
    const explicitUrl = explicit.state === 'running' ? explicit.listeners.find((l) => l.service === 'HTTP')!.url : undefined;
    expect((await fetch(`${explicitUrl}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${explicitUrl}/v2/models/add/infer`, { method: 'POST', body: '{}' })).status).toBe(400);
  });
});
