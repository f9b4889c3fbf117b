import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import type { ModelSignature } from '../../../src/model/types.js';
import {
  imageTritonRelease, labelValue, planDeployedModel, planGcpVertex, planVertexEndpoint, planVertexModel, planVertexRollout, vertexArtifactUri, vertexContainerSpec,
  vertexNames, vertexResources, vertexSpecHash, vertexVersion, versionOf,
} from '../../../src/targets/gcp-vertex/plan.js';
import type { GcpVertexTargetConfig } from '../../../src/targets/gcp-vertex/schema.js';
import { validateVertex } from '../../../src/targets/gcp-vertex/validate-vertex.js';

const target = { project: 'my-project', region: 'europe-west4', stagingBucket: 'gs://bucket/models/' };
const names = vertexNames({ name: 'ocr-det', stage: 'prod', targetName: 'Vertex', target });

describe('Vertex AI planners', () => {
  it('derives every name from the config name, the stage and the target', () => {
    expect(names).toEqual({
      parent: 'projects/my-project/locations/europe-west4',
      base: 'ocr-det-prod-Vertex',
      smokeEndpoint: 'ocr-det-prod-Vertex-smoke',
      tritonModel: 'ocr-det',
      stagingRoot: 'gs://bucket/models/deploy-model/ocr-det/prod/Vertex',
      labels: { 'deploy-model-name': 'ocr-det', 'deploy-model-stage': 'prod', 'deploy-model-target': 'vertex' },
    });
    expect(labelValue('A.b/C')).toBe('a-b-c');
  });

  it('plans the Triton container: KServe v2 on port 8000 with HTTP turned back on (AIP_MODE turns it off), the repository from AIP_STORAGE_URI, Vertex mode off', () => {
    expect(vertexContainerSpec('us-docker.pkg.dev/p/r/tritonserver:25.06-py3', 'ocr-det')).toEqual({
      imageUri: 'us-docker.pkg.dev/p/r/tritonserver:25.06-py3',
      args: ['--model-repository=$(AIP_STORAGE_URI)', '--allow-http=true', '--allow-vertex-ai=false', '--http-port=8000', '--allow-grpc=false', '--model-control-mode=none', '--exit-on-error=true'],
      ports: [{ containerPort: 8000 }],
      healthRoute: '/v2/health/ready',
      predictRoute: '/v2/models/ocr-det/infer',
    });
  });

  it('plans dedicated resources, deriving the GPU of g2/a2/a3 machines and defaulting max replicas to min', () => {
    expect(vertexResources({ machineType: 'g2-standard-8', minReplicas: 2 })).toEqual({
      machineSpec: { machineType: 'g2-standard-8', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, minReplicaCount: 2, maxReplicaCount: 2,
    });
    expect(vertexResources({ machineType: 'n1-standard-8', accelerator: { type: 'NVIDIA_TESLA_T4', count: 2 }, minReplicas: 1, maxReplicas: 4 })).toEqual({
      machineSpec: { machineType: 'n1-standard-8', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 2 }, minReplicaCount: 1, maxReplicaCount: 4,
    });
  });

  it('hashes the spec: the same inputs give the same 12 hex digits, any change another', () => {
    const container = vertexContainerSpec('us-docker.pkg.dev/p/r/t:1', 'm');
    const resources = vertexResources({ machineType: 'g2-standard-4', minReplicas: 1 });
    const a = vertexSpecHash({ repositoryDigest: 'aa', container, resources });
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(vertexSpecHash({ repositoryDigest: 'aa', container, resources })).toBe(a);
    expect(vertexSpecHash({ repositoryDigest: 'ab', container, resources })).not.toBe(a);
    expect(vertexSpecHash({ repositoryDigest: 'aa', container, resources: { ...resources, minReplicaCount: 2 } })).not.toBe(a);
  });

  it('plans the Model, the deployed model and both endpoints', () => {
    const container = vertexContainerSpec('us-docker.pkg.dev/p/r/t:1', 'ocr-det');
    const artifactUri = vertexArtifactUri(names, 'f'.repeat(64));
    expect(artifactUri).toBe('gs://bucket/models/deploy-model/ocr-det/prod/Vertex/ffffffffffff');
    expect(planVertexModel({ names, specHash: '0123456789ab', artifactUri, container })).toEqual({
      displayName: 'ocr-det-prod-Vertex-0123456789ab',
      description: "Triton model repository of 'ocr-det', deployed by deploy-model.",
      artifactUri, containerSpec: container,
      labels: { ...names.labels, 'deploy-model-spec': '0123456789ab' },
    });
    const resources = vertexResources({ machineType: 'g2-standard-4', minReplicas: 1 });
    expect(planDeployedModel({ names, specHash: '0123456789ab', model: 'projects/1/locations/l/models/9', resources }))
      .toEqual({ model: 'projects/1/locations/l/models/9', displayName: 'ocr-det-prod-Vertex-0123456789ab', dedicatedResources: resources });
    expect(planVertexEndpoint(names, 'live')).toMatchObject({ displayName: 'ocr-det-prod-Vertex', labels: names.labels });
    expect(planVertexEndpoint(names, 'smoke')).toMatchObject({ displayName: 'ocr-det-prod-Vertex-smoke', labels: { ...names.labels, 'deploy-model-purpose': 'smoke' } });
    expect(versionOf('ocr-det-prod-Vertex-0123456789ab')).toBe('0123456789ab');
  });

  it('reads the Triton release from the image tag', () => {
    expect(imageTritonRelease('us-docker.pkg.dev/p/r/tritonserver:25.06-py3')).toBe('25.06');
    expect(imageTritonRelease('us-docker.pkg.dev/p/r/tritonserver:24.08-py3-sdk')).toBe('24.08');
    expect(imageTritonRelease('us-docker.pkg.dev/p/r/tritonserver:latest')).toBeUndefined();
  });

  describe('planVertexRollout', () => {
    const live = { id: '1', displayName: 'ocr-det-prod-Vertex-aaaaaaaaaaaa', model: 'm1' };
    it('changes nothing when the only serving model is the wanted spec', () => {
      expect(planVertexRollout({ names, specHash: 'aaaaaaaaaaaa', deployed: [live], trafficSplit: { 1: 100 } })).toEqual({ kind: 'unchanged', live });
    });
    it('is a first deploy when nothing serves, retiring models without traffic', () => {
      expect(planVertexRollout({ names, specHash: 'bbbbbbbbbbbb', deployed: [], trafficSplit: {} })).toEqual({ kind: 'first', stale: [] });
      expect(planVertexRollout({ names, specHash: 'bbbbbbbbbbbb', deployed: [live], trafficSplit: {} })).toEqual({ kind: 'first', stale: [live] });
    });
    it('replaces the serving models, keeping their traffic while the new one deploys at 0%', () => {
      expect(planVertexRollout({ names, specHash: 'bbbbbbbbbbbb', deployed: [live], trafficSplit: { 1: 100 } }))
        .toEqual({ kind: 'replace', previous: [live], keepSplit: { 1: 100, 0: 0 } });
    });
  });
});

// GIVEN a detection model (x float32 [batch,3,h,w] → y float32 [batch,1,h,w]) and a gcp-vertex
// target with its defaults (TensorRT fp16, warmup, one g2-standard-4 replica).
const SIGNATURE: ModelSignature = {
  file: '/project/models/ocr-det.onnx', bytes: 4_700_000, sha256: 'ab'.repeat(32), irVersion: 8, opsets: { 'ai.onnx': 17 }, producer: 'pytorch', producerVersion: '2.3',
  inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 3, 'h', 'w'] }],
  outputs: [{ name: 'y', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 1, 'h', 'w'] }],
  nodes: 10, initializers: 5, initializerBytes: 100, operators: {}, externalData: [],
};
const VERTEX = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

function planInput(target: Record<string, unknown> = {}, model: Record<string, unknown> = {}, signature: ModelSignature = SIGNATURE) {
  const config = configSchema.parse({ name: 'ocr-det', model: { path: './models/ocr-det.onnx', ...model }, targets: { vertex: { ...VERTEX, ...target } } });
  return { config, stage: 'prod', targetName: 'vertex', target: config.targets.vertex as GcpVertexTargetConfig, signature, rootDir: '/project' };
}

describe('planGcpVertex: the module\'s plan', () => {
  const LABELS = { 'deploy-model-name': 'ocr-det', 'deploy-model-stage': 'prod', 'deploy-model-target': 'vertex' };

  it('resolves every value build, synth and the rollout hooks use, once, as plain data', () => {
    // WHEN the target is planned
    const plan = planGcpVertex(planInput());
    // THEN names, container, resources, the Triton config, both endpoints and the rollout steps are resolved
    expect(plan).toEqual({
      type: 'gcp-vertex', targetName: 'vertex', stage: 'prod', resourceName: 'ocr-det-prod-vertex',
      model: { file: '/project/models/ocr-det.onnx', sha256: 'ab'.repeat(32), bytes: 4_700_000 },
      rollout: {
        strategy: 'all-at-once',
        steps: [
          { phase: 'stage', action: "hash the version from the built repository's digest, the container and the resources; when the only model serving on 'ocr-det-prod-vertex' already is that version, upload and deploy nothing and smoke-test it" },
          { phase: 'stage', action: "upload the repository to gs://dm-staging/models/deploy-model/ocr-det/prod/vertex/<digest> and the Model 'ocr-det-prod-vertex-<version>'" },
          { phase: 'stage', action: "first deploy (nothing serves): create the endpoint 'ocr-det-prod-vertex' if needed, undeploy models without traffic, deploy the Model on it with 100% of the traffic" },
          { phase: 'stage', action: "replacement: deploy the Model alone on the endpoint 'ocr-det-prod-vertex-smoke' (Vertex AI routes by traffic split only); 'ocr-det-prod-vertex' is not touched" },
          { phase: 'smoke', action: "RawPredict on the endpoint holding the new model: 'ocr-det-prod-vertex' on a first deploy, 'ocr-det-prod-vertex-smoke' on a replacement" },
          { phase: 'promote', action: "replacement: undeploy it from 'ocr-det-prod-vertex-smoke' and delete that endpoint, deploy it on 'ocr-det-prod-vertex' at 0%, move 100% of the traffic to it, undeploy the previous models and delete their Models but the one of the version that served, kept in the Model Registry and recorded in the labels of 'ocr-det-prod-vertex' for `deploy-model rollback` (a first deploy already serves)" },
          { phase: 'rollback', action: "first deploy: undeploy the new model and delete its Model; nothing serves. Replacement: clear and delete 'ocr-det-prod-vertex-smoke', delete the Model; 'ocr-det-prod-vertex' never changed" },
        ],
      },
      project: 'my-project',
      region: 'us-central1',
      names: {
        parent: 'projects/my-project/locations/us-central1', base: 'ocr-det-prod-vertex', smokeEndpoint: 'ocr-det-prod-vertex-smoke', tritonModel: 'ocr-det',
        stagingRoot: 'gs://dm-staging/models/deploy-model/ocr-det/prod/vertex', labels: LABELS,
      },
      tritonVersion: '25.06',
      imageTritonRelease: '25.06',
      container: {
        imageUri: VERTEX.image,
        args: ['--model-repository=$(AIP_STORAGE_URI)', '--allow-http=true', '--allow-vertex-ai=false', '--http-port=8000', '--allow-grpc=false', '--model-control-mode=none', '--exit-on-error=true'],
        ports: [{ containerPort: 8000 }], healthRoute: '/v2/health/ready', predictRoute: '/v2/models/ocr-det/infer',
      },
      resources: { machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 1 },
      tritonConfig: {
        name: 'ocr-det', backend: 'onnxruntime', max_batch_size: 8,
        input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1, -1] }],
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1, -1, -1] }],
        instance_group: [{ count: 1, kind: 'KIND_GPU' }],
        optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt', parameters: { precision_mode: 'FP16', max_workspace_size_bytes: '4294967296', trt_engine_cache_enable: '1', trt_engine_cache_path: '/var/tmp/trt_engine_cache' } }] } },
        model_warmup: [{ name: 'warmup', batch_size: 1, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 64, 64], random_data: true } } }],
      },
      // Vertex AI copies the repository to a fresh folder at each start: the engine cache lies outside it.
      repository: { engineCacheDir: null },
      endpoints: {
        live: { displayName: 'ocr-det-prod-vertex', description: "deploy-model endpoint of 'ocr-det'.", labels: LABELS },
        smoke: { displayName: 'ocr-det-prod-vertex-smoke', description: "deploy-model smoke-test endpoint of 'ocr-det'; empty between deploys.", labels: { ...LABELS, 'deploy-model-purpose': 'smoke' } },
      },
      operationTimeoutMs: 3_600_000,
    });
  });

  it('is deterministic and serialisable: the same input plans equal, and the plan survives JSON', () => {
    const plan = planGcpVertex(planInput({ maxReplicas: 3, engine: 'onnxruntime' }));
    expect(planGcpVertex(planInput({ maxReplicas: 3, engine: 'onnxruntime' }))).toEqual(plan);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(plan.resources).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 3 });
    expect(plan.tritonConfig.optimization).toBeUndefined();
  });

  it('resolves the INT8 calibration table against the config folder and omits the image release it cannot read', () => {
    const plan = planGcpVertex(planInput({ precision: 'int8', int8Calibration: { table: './calibration.flatbuffers' }, engineCachePath: '/mnt/engines', image: 'us-docker.pkg.dev/my-project/triton/tritonserver:latest' }));
    expect(plan.repository).toEqual({ engineCacheDir: null, int8CalibrationTable: '/project/calibration.flatbuffers' });
    expect(plan).not.toHaveProperty('imageTritonRelease');
  });

  it('a build adds the version: the spec hash, the artifact folder and the Model, from the repository digest', () => {
    const plan = planGcpVertex(planInput());
    const version = vertexVersion(plan, 'f'.repeat(64));
    const specHash = vertexSpecHash({ repositoryDigest: 'f'.repeat(64), container: plan.container, resources: plan.resources });
    expect(version).toEqual({
      specHash,
      artifactUri: 'gs://dm-staging/models/deploy-model/ocr-det/prod/vertex/ffffffffffff',
      model: planVertexModel({ names: plan.names, specHash, artifactUri: 'gs://dm-staging/models/deploy-model/ocr-det/prod/vertex/ffffffffffff', container: plan.container }),
      deployedModelName: `ocr-det-prod-vertex-${specHash}`,
    });
    expect(vertexVersion(plan, 'e'.repeat(64)).specHash).not.toBe(specHash);
  });

  it('validate reports what Triton would refuse, with the fix, instead of throwing', async () => {
    expect(await validateVertex(planInput())).toEqual([]);
    const scalar: ModelSignature = { ...SIGNATURE, inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: [] }] };
    expect(await validateVertex(planInput({}, { batching: { maxBatchSize: 4 } }, scalar))).toEqual([{
      path: 'targets.vertex', value: 'tensorrt', rule: expect.stringMatching(/model\.batching is set, but input 'x' is a scalar/), fix: 'change the model options or the Triton options as the message says',
    }]);
  });
});
