import { describe, expect, it } from 'vitest';
import {
  imageTritonRelease, labelValue, planDeployedModel, planVertexEndpoint, planVertexModel, planVertexRollout, vertexArtifactUri, vertexContainerSpec,
  vertexNames, vertexResources, vertexSpecHash, versionOf,
} from '../../../src/targets/gcp-vertex/plan.js';

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
