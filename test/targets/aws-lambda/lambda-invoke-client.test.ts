import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoHelper, silentIoHost } from '../../../src/io/io-host.js';
import { deployStack } from '../../../src/kits/aws/index.js';
import { lambdaStackState } from '../../../src/targets/aws-lambda/driver.js';
import { lambdaInvokeClient } from '../../../src/targets/aws-lambda/lambda-invoke-client.js';
import { buildLambdaApp, removeScratchDirs, scratchDir } from '../../emulators/aws/_cdk-app.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN a function that answers a direct invoke the way the runtime's Lambda adapter does: the v2
// response, or `{ error }` for a request it refuses; and one input name that makes it throw.
const HANDLER = `export const handler = async (event) => {
  const name = event.inputs?.[0]?.name;
  if (name === 'throw') throw Object.assign(new Error('the model exploded'), { name: 'ModelError' });
  if (name === 'huge') return { error: 'too big', code: 'PAYLOAD_TOO_LARGE' };
  if (name === 'unknown') return { error: 'no input unknown', code: 'UNKNOWN_INPUT' };
  if (name === 'legacy') return { error: { code: 'UNKNOWN_INPUT', message: 'the 0.1 shape' } };
  return { model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [event.inputs[0].data[0] + 1] }] };
};\n`;

let fake: AwsFake;
let restoreEnv: () => void;
let functionName: string;

beforeAll(async () => {
  fake = await startAwsFake();
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  const codeDir = await scratchDir('handler-');
  await writeFile(join(codeDir, 'index.mjs'), HANDLER);
  const outdir = await scratchDir('cdk-out-');
  buildLambdaApp({ outdir, account: fake.accountId, region: fake.region, codeDir });
  const { outputs } = await deployStack({ assemblyDir: outdir, stackName: 'ModelStack', region: fake.region, io: new IoHelper(silentIoHost), pollingIntervalMs: 20 });
  functionName = outputs.FunctionName!;
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  await removeScratchDirs();
});

const request = (name: string) => ({ inputs: [{ name, shape: [1], datatype: 'FP32', data: [41] }] });

describe('lambdaInvokeClient', () => {
  it('sends the v2 request as the event to the qualifier and answers 200 with the v2 response', async () => {
    // WHEN
    const call = await lambdaInvokeClient({ functionName, qualifier: 'live', region: fake.region })(request('x'));
    // THEN
    expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [42] }] } });
    expect(call.latencyMs).toBeGreaterThan(0);
    expect(fake.calls.filter((c) => c.action === 'Invoke').at(-1)?.params).toMatchObject({ FunctionName: functionName, Qualifier: 'live', InvocationType: 'RequestResponse' });
  });

  it('gives `{ error }` answers the HTTP status their code stands for', async () => {
    const client = lambdaInvokeClient({ functionName, qualifier: '1', region: fake.region });
    expect(await client(request('huge'))).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE', error: expect.any(String) } });
    expect(await client(request('unknown'))).toMatchObject({ status: 400, body: { code: 'UNKNOWN_INPUT', error: expect.any(String) } });
    // A function built by deploy-model 0.1 answers the older shape; its code still maps.
    expect(await client(request('legacy'))).toMatchObject({ status: 400 });
  });

  it('turns a function error into a 502 carrying its type and message', async () => {
    const call = await lambdaInvokeClient({ functionName, qualifier: '1', region: fake.region })(request('throw'));
    expect(call).toMatchObject({ status: 502, body: { error: 'the model exploded', code: 'ModelError' } });
  });

  it('an unknown function is AWS_INVOKE_FAILED naming it', async () => {
    await expect(lambdaInvokeClient({ functionName: 'nope', qualifier: 'live', region: fake.region })(request('x')))
      .rejects.toMatchObject({ code: 'AWS_INVOKE_FAILED', message: expect.stringContaining('nope:live') });
  });
});

describe('lambdaStackState', () => {
  it.each([
    ['CREATE_COMPLETE', {}, 'running'],
    ['UPDATE_COMPLETE', { LiveVersion: '2' }, 'running'],
    ['UPDATE_ROLLBACK_COMPLETE', { LiveVersion: '2' }, 'running'],
    ['UPDATE_IN_PROGRESS', { LiveVersion: '2' }, 'running'],
    ['CREATE_IN_PROGRESS', {}, 'creating'],
    ['ROLLBACK_COMPLETE', {}, 'failed'],
    ['UPDATE_ROLLBACK_FAILED', { LiveVersion: '2' }, 'failed'],
    ['DELETE_IN_PROGRESS', { LiveVersion: '2' }, 'stopped'],
    ['DELETE_COMPLETE', {}, 'not-deployed'],
  ])('%s with outputs %j is %s', (status, outputs, state) => {
    expect(lambdaStackState({ status, outputs })).toBe(state);
  });
});
