import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { startAwsFake } from '../../emulators/aws/index.js';
import { sageMakerFake, sageMakerProvisioners } from '../../emulators/aws/sagemaker.js';

it('debug', async () => {
  const fake = await startAwsFake({ region: 'us-east-1', provisioners: sageMakerProvisioners() });
  fake.bootstrap(); fake.applyEnv(); process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbg-'));
  const write = async (m: any) => {
    await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(m));
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'adder', model: { path: './model.onnx' }, targets: { sagemaker: { type: 'aws-sagemaker', region: 'us-east-1', instanceType: 'ml.g5.xlarge' } }, smoke: { requests: 2 } };`);
  };
  const sm = sageMakerFake(fake.state);
  for (const m of ['add', 'unnamed-dim']) {
    await write(m);
    const host = new RecordingIoHost();
    const tk = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
    const r = (await tk.deploy(await tk.load({ cwd: dir }))).targets[0];
    console.log(m, r.status, r.version, r.error?.message);
    console.log(host.messages.filter((x) => x.code === 'DM_AWS_TOOLKIT' || x.code.startsWith('DM_SAGE') || x.code.startsWith('DM_AWS')).map((x) => x.code + ' ' + x.message).join('\n').slice(0, 4000));
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'adder-dev-sagemaker')!;
    console.log([...stack.resources.values()].map((r) => `${r.logicalId} ${r.physicalId}`).join('\n'));
    console.log([...sm.endpointConfigs.keys()], [...sm.models.keys()]);
  }
  await sm.close(); await fake.stop();
}, 120000);
