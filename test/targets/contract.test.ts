/**
 * The rollout contract, over every registered target type: plan is pure and deterministic, build
 * is cached by content, synth needs no credentials and no network, deploy smoke-tests before
 * traffic moves and keeps the old version when the smoke test fails, status reads the deployment
 * itself, destroy is idempotent. Each type brings a fixture: its config entry and the fake it
 * deploys to. A registered type without a fixture fails the first test (and does not compile).
 */
import { describe, expect, it } from 'vitest';
import { KNOWN_TARGET_TYPES, type TARGETS } from '../../src/targets/registry.js';
import { findChromium } from '../../src/targets/web/find-chromium.js';
import { containerBuilder, TEST_BASE_IMAGE } from '../_helpers/container-builder.js';
import { localFunctionRunner, startAwsFake } from '../emulators/aws/index.js';
import { sageMakerFake } from '../emulators/aws/sagemaker.js';
import { startAzureFake } from '../emulators/azure/index.js';
import { startVertexFake } from '../emulators/vertex/index.js';
import { describeTargetContract, type ContractFixture } from './_contract/describe-target-contract.js';

const AWS_CREDENTIALS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
const REGISTRY = process.env.DEPLOY_MODEL_TEST_REGISTRY ?? '127.0.0.1:5000';

/** Points this process at a fresh AWS fake; `withSageMaker` serves SageMaker endpoints too. */
async function awsWorld(withSageMaker: boolean) {
  const fake = await startAwsFake({ region: 'us-east-1', ...(withSageMaker ? {} : { functionRunner: localFunctionRunner() }) });
  const restore = fake.applyEnv();
  const poll = process.env.DEPLOY_MODEL_STACK_POLL_MS;
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  fake.bootstrap();
  const sm = withSageMaker ? sageMakerFake(fake.state) : undefined;
  return {
    async stop() {
      await sm?.close();
      restore();
      if (poll === undefined) delete process.env.DEPLOY_MODEL_STACK_POLL_MS; else process.env.DEPLOY_MODEL_STACK_POLL_MS = poll;
      await fake.stop();
    },
  };
}

const FIXTURES: Record<(typeof TARGETS)[number]['type'], ContractFixture> = {
  local: { entry: { type: 'local' }, deployedState: 'running', invocable: true, remoteState: false },
  'aws-lambda': {
    entry: { type: 'aws-lambda', region: 'us-east-1' },
    world: () => awsWorld(false),
    deployedState: 'running', invocable: true, remoteState: true, credentialVariables: AWS_CREDENTIALS,
  },
  'aws-sagemaker': {
    entry: { type: 'aws-sagemaker', region: 'us-east-1', instanceType: 'ml.g5.xlarge' },
    world: () => awsWorld(true),
    deployedState: 'running', invocable: true, remoteState: true, credentialVariables: AWS_CREDENTIALS,
  },
  'gcp-vertex': {
    entry: {
      type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
      image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
    },
    async world() {
      const fake = await startVertexFake();
      fake.gcs.createBucket('dm-staging');
      const restore = fake.applyEnv();
      return { async stop() { restore(); await fake.stop(); } };
    },
    deployedState: 'running', invocable: true, remoteState: true,
    credentialVariables: ['DEPLOY_MODEL_GCP_ACCESS_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS'],
  },
  'azure-ml': {
    entry: { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' },
    async world() {
      const fake = await startAzureFake();
      const restore = fake.applyEnv();
      return { async stop() { restore(); await fake.stop(); } };
    },
    deployedState: 'running', invocable: true, remoteState: true,
    credentialVariables: ['DEPLOY_MODEL_AZURE_ACCESS_TOKEN', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID'],
  },
  container: {
    entry: { type: 'container', baseImage: TEST_BASE_IMAGE, push: `${REGISTRY}/deploy-model-contract/adder` },
    async deploySkipReason() {
      const env = await containerBuilder();
      if (!env.builder) return `${env.reason}; run \`bash .ci/containers.sh\` as root`;
      const up = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status === 200, () => false);
      return up ? undefined : `no registry on ${REGISTRY}; run \`bash .ci/containers.sh\` as root`;
    },
    // The image is in a registry: nothing here serves it, and it has no endpoint to call.
    deployedState: 'unknown', invocable: false, remoteState: false,
  },
  // Served on 127.0.0.1; every deploy's smoke test runs the page in headless Chromium.
  web: {
    entry: { type: 'web' },
    async deploySkipReason() {
      return findChromium() ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';
    },
    deployedState: 'running', invocable: true, remoteState: false,
  },
  // Build-only: the app's own build ships the package, so deploy refuses it (test/targets/react-native/toolkit.test.ts).
  'react-native': {
    entry: { type: 'react-native' },
    async deploySkipReason() {
      return 'react-native is build-only: deploy refuses it with TARGET_ACTION_UNAVAILABLE';
    },
    deployedState: 'not-deployed', invocable: false, remoteState: false,
  },
};

describe('the contract test', () => {
  it('has a fixture for every registered target type, and for nothing else', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...KNOWN_TARGET_TYPES].sort());
  });
});

for (const type of KNOWN_TARGET_TYPES) describeTargetContract(type, FIXTURES[type as keyof typeof FIXTURES]);
