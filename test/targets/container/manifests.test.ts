import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { knativeRefusals, MANIFEST_FILES, planManifests, renderManifest, validateManifests, withImage, withoutCanary, writeManifests, type ManifestInput } from '../../../src/targets/container/manifests.js';
import { containerTargetSchema, type ContainerTargetConfig } from '../../../src/targets/container/schema.js';

const target = containerTargetSchema.parse({ type: 'container', resources: { cpu: '500m', memory: '768Mi' }, replicas: { min: 2, max: 6 }, targetCpuUtilization: 60 });
const input: ManifestInput = { name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target };

type Obj = { spec: any; metadata: any; apiVersion: string; kind: string };

describe('planManifests', () => {
  const m = planManifests(input);
  const deployment = m.deployment as Obj;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('validates with the Kubernetes API schemas (kubernetes-models)', async () => {
    // GIVEN the planned objects WHEN each is loaded into its model THEN the schema accepts it
    expect(() => new Deployment(m.deployment as never).validate()).not.toThrow();
    expect(() => new Service(m.service as never).validate()).not.toThrow();
    expect(() => new HorizontalPodAutoscaler(m.hpa as never).validate()).not.toThrow();
    await expect(validateManifests(m)).resolves.toBeUndefined();
  });

  it('probes readiness and liveness on the v2 health routes', () => {
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/v2/health/ready', port: 'http' }, periodSeconds: 5, failureThreshold: 2 });
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/v2/health/live', port: 'http' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
    expect(container.startupProbe.httpGet.path).toBe('/v2/health/live');
  });

  it('runs as uid 10001, read-only, without privileges, with /tmp on an emptyDir', () => {
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('requests the resources, limits memory only, and leaves replicas to the HPA', () => {
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '768Mi' } });
    expect(container.image).toBe('registry.example.com/ocr-cls:0123456789ab');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'ocr-cls', 'app.kubernetes.io/component': 'predictor' });
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it('autoscales on CPU with autoscaling/v2 and exposes port 80', () => {
    expect(m.hpa).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'ocr-cls', labels: { 'app.kubernetes.io/name': 'ocr-cls', 'app.kubernetes.io/component': 'predictor', 'app.kubernetes.io/managed-by': 'deploy-model' } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ocr-cls' },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
      },
    });
    expect((m.service as Obj).spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('declares a KServe custom-container predictor speaking v2, hardened at container level, valid in either mode', () => {
    // GIVEN kserve: true (the default) WHEN planned THEN no mode is pinned, nothing mode-specific is set
    const isvc = m.inferenceService as Obj;
    expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
    expect(isvc.kind).toBe('InferenceService');
    expect(isvc.metadata).toEqual({ name: 'ocr-cls', labels: { 'app.kubernetes.io/name': 'ocr-cls', 'app.kubernetes.io/component': 'predictor', 'app.kubernetes.io/managed-by': 'deploy-model' } });
    expect(isvc.spec).toEqual({
      predictor: {
        minReplicas: 2,
        maxReplicas: 6,
        automountServiceAccountToken: false,
        containers: [{
          name: 'kserve-container',
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'PROTOCOL', value: 'v2' }],
          resources: { requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '768Mi' } },
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 }, periodSeconds: 5, failureThreshold: 2 },
          livenessProbe: { httpGet: { path: '/v2/health/live', port: 8080 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
          securityContext: {
            runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
          },
        }],
      },
    });
    expect(planManifests({ ...input, target: { ...target, kserve: {} } }).inferenceService).toEqual(isvc);
    expect(planManifests({ ...input, target: { ...target, kserve: false } }).inferenceService).toBeUndefined();
  });

  it("pins serverless mode with the annotation every KServe release reads, scaling on requests in flight", () => {
    const isvc = planManifests({ ...input, target: { ...target, kserve: { mode: 'serverless' } } }).inferenceService as Obj;
    const portable = m.inferenceService as Obj;
    expect(isvc.metadata.annotations).toEqual({ 'serving.kserve.io/deploymentMode': 'Serverless' });
    expect(isvc.spec.predictor).toEqual({ ...portable.spec.predictor, scaleMetric: 'concurrency' });
  });

  it('pins raw mode: HPA on CPU at the target utilisation, and the pod-level security context', () => {
    const isvc = planManifests({ ...input, target: { ...target, kserve: { mode: 'raw' } } }).inferenceService as Obj;
    const portable = m.inferenceService as Obj;
    expect(isvc.metadata.annotations).toEqual({ 'serving.kserve.io/deploymentMode': 'RawDeployment', 'serving.kserve.io/autoscalerClass': 'hpa' });
    expect(isvc.spec.predictor).toEqual({
      ...portable.spec.predictor,
      scaleMetric: 'cpu',
      scaleTarget: 60,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    });
  });

  it('sets the namespace on every object when given', () => {
    const ns = planManifests({ ...input, namespace: 'ml' });
    for (const o of [ns.deployment, ns.service, ns.hpa, ns.inferenceService] as Obj[]) expect(o.metadata.namespace).toBe('ml');
  });
});

describe('withImage', () => {
  it('puts the content tag into every image the plan left open, and leaves the plan as it was', () => {
    // GIVEN manifests planned with the placeholder reference
    const planned = planManifests({ ...input, image: 'registry.example.com/ocr-cls:<content-tag>' });
    const before = structuredClone(planned);
    // WHEN the build's content reference is filled in
    const built = withImage(planned, 'registry.example.com/ocr-cls:<content-tag>', input.image);
    // THEN they equal manifests planned with that reference, and the plan is untouched
    expect(built).toEqual(planManifests(input));
    expect(planned).toEqual(before);
  });
});

describe('validateManifests', () => {
  it('rejects what the API server would reject, naming the object', async () => {
    const m = planManifests(input);
    const broken = structuredClone(m);
    (broken.deployment as Obj).spec.template.spec.containers[0].ports[0].containerPort = '8080';
    await expect(validateManifests(broken)).rejects.toThrowError(expect.objectContaining({ code: 'CONTAINER_MANIFEST_INVALID', message: expect.stringContaining('Deployment') }));
    const isvc = structuredClone(m);
    (isvc.inferenceService as Obj).spec.predictor.containers[0].securityContext.runAsUser = 'app';
    await expect(validateManifests(isvc)).rejects.toThrowError(expect.objectContaining({ message: expect.stringMatching(/InferenceService.*runAsUser must be integer/) }));
  });

  it("refuses a name Kubernetes and KServe refuse, though the config's pattern lets it through", async () => {
    // GIVEN a config name ending in '-' WHEN validated THEN a coded error names it and suggests a fix
    await expect(validateManifests(planManifests({ ...input, name: 'ocr-' }))).rejects.toThrowError(expect.objectContaining({
      code: 'CONTAINER_MANIFEST_INVALID',
      message: expect.stringMatching(/The name 'ocr-' cannot name a Kubernetes Service.*end in a letter or a digit.*\(e\.g\. 'ocr'\)/),
    }));
  });

  it("refuses a port Knative reserves for its queue-proxy, unless the mode is raw, naming the port and the fix", async () => {
    // GIVEN port 8012, Knative's queue-proxy port WHEN the InferenceService may run on Knative THEN a coded error
    const onPort = (kserve: ContainerTargetConfig['kserve']) => planManifests({ ...input, target: { ...target, port: 8012, kserve } });
    for (const kserve of [true, { mode: 'serverless' as const }]) {
      await expect(validateManifests(onPort(kserve))).rejects.toThrowError(expect.objectContaining({
        code: 'CONTAINER_MANIFEST_INVALID',
        message: expect.stringMatching(/spec\.predictor\.containers\[0\]\.ports\[0\]\.containerPort 8012 is reserved by Knative.*port to another number/),
        details: expect.objectContaining({ manifest: 'InferenceService', refusals: [expect.objectContaining({ path: 'spec.predictor.containers[0].ports[0].containerPort' })] }),
      }));
    }
    // a plain Deployment has no queue-proxy
    await expect(validateManifests(onPort({ mode: 'raw' }))).resolves.toBeUndefined();
    await expect(validateManifests(onPort(false))).resolves.toBeUndefined();
  });

  it('refuses a pod-level securityContext, a reserved variable and a CPU metric on Knative, and allows them in raw mode', async () => {
    const raw = planManifests({ ...input, target: { ...target, kserve: { mode: 'raw' } } });
    await expect(validateManifests(raw)).resolves.toBeUndefined();
    const onKnative = structuredClone(raw);
    delete (onKnative.inferenceService as Obj).metadata.annotations;
    (onKnative.inferenceService as Obj).spec.predictor.containers[0].env.push({ name: 'PORT', value: '8080' });
    expect(knativeRefusals((onKnative.inferenceService as Obj).spec.predictor).map((r) => r.path)).toEqual([
      'spec.predictor.securityContext', 'spec.predictor.scaleMetric', 'spec.predictor.containers[0].env[1]',
    ]);
    await expect(validateManifests(onKnative)).rejects.toThrowError(expect.objectContaining({ message: expect.stringMatching(/securityContext is refused: a pod-level securityContext needs Knative's kubernetes\.podspec-securitycontext flag.*kserve: \{ mode: 'raw' \}/) }));
  });

  it('finds nothing to refuse in the planned predictor, whatever the mode', async () => {
    for (const kserve of [true, { mode: 'serverless' as const }, { mode: 'raw' as const }]) {
      const m = planManifests({ ...input, target: { ...target, kserve } });
      await expect(validateManifests(m)).resolves.toBeUndefined();
    }
  });
});

describe("the InferenceService's canary share (a canary or linear rollout's first step)", () => {
  // KServe's InferenceService CRD: ComponentExtensionSpec, which PredictorSpec inlines, declares
  // `CanaryTrafficPercent *int64 json:"canaryTrafficPercent,omitempty"`, "the traffic split percentage
  // between the candidate revision and the last ready revision" (kserve/kserve,
  // pkg/apis/serving/v1beta1/component.go). KServe splits between Knative revisions only: "Canary
  // rollout strategy is only supported in serverless deployment mode" (KServe docs, Canary Rollout Strategy).
  const isvcOf = (m: ReturnType<typeof planManifests>) => m.inferenceService as Obj;

  it('sets spec.predictor.canaryTrafficPercent, an integer, on the predictor beside the scaling fields, and still validates', async () => {
    for (const kserve of [true, { mode: 'serverless' as const }]) {
      // GIVEN the first step of a rollout WHEN planned
      const m = planManifests({ ...input, target: { ...target, kserve }, canaryTrafficPercent: 10 });
      const predictor = isvcOf(m).spec.predictor;
      // THEN the field is where the CRD has it, as an integer
      expect(predictor.canaryTrafficPercent).toBe(10);
      expect(Number.isInteger(predictor.canaryTrafficPercent)).toBe(true);
      expect(Object.keys(predictor).slice(0, 3)).toEqual(['canaryTrafficPercent', 'minReplicas', 'maxReplicas']);
      // AND the checks the project runs on the InferenceService pass: the pod schema and Knative's field rules
      expect(knativeRefusals(predictor)).toEqual([]);
      await expect(validateManifests(m)).resolves.toBeUndefined();
      // AND the plain Deployment is the same as without a rollout: Kubernetes has no share to set on it
      expect(m.deployment).toEqual(planManifests({ ...input, target: { ...target, kserve } }).deployment);
    }
  });

  it('is left out in a pinned raw mode, where KServe would not split traffic, and without a rollout', () => {
    expect(isvcOf(planManifests({ ...input, target: { ...target, kserve: { mode: 'raw' } }, canaryTrafficPercent: 10 })).spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(isvcOf(planManifests(input)).spec.predictor).not.toHaveProperty('canaryTrafficPercent');
  });

  it('withoutCanary drops it (what a rollback writes) and leaves the rest and the input as they were', () => {
    const m = planManifests({ ...input, canaryTrafficPercent: 25 });
    const restored = withoutCanary(m);
    expect(isvcOf(restored).spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(isvcOf(m).spec.predictor.canaryTrafficPercent).toBe(25);
    expect(restored).toEqual(planManifests(input));
    expect(withoutCanary(planManifests(input))).toEqual(planManifests(input));
  });
});

describe('writeManifests', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'dm-k8s-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes one YAML file per object that parses back to the plan, and drops a manifest turned off', async () => {
    const m = planManifests(input);
    const written = await writeManifests(m, dir);
    expect((await readdir(join(dir, 'k8s'))).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'inferenceservice.yaml', 'service.yaml']);
    expect(written.files).toHaveLength(4);
    expect(parse(await readFile(join(dir, 'k8s', 'deployment.yaml'), 'utf8'))).toEqual(m.deployment);
    const isvcText = await readFile(join(dir, 'k8s', 'inferenceservice.yaml'), 'utf8');
    expect(parse(isvcText)).toEqual(m.inferenceService);
    expect(isvcText).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases: plain manifests for any tool

    for (const [key, file] of Object.entries(MANIFEST_FILES)) {
      expect(await readFile(join(dir, 'k8s', file), 'utf8')).toBe(renderManifest(m[key as keyof typeof m]!));
    }

    await writeManifests(planManifests({ ...input, target: { ...target, kserve: false } }), dir);
    expect((await readdir(join(dir, 'k8s'))).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'service.yaml']);
  });
});
