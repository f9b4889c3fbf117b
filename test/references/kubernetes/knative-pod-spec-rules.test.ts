import { describe, expect, it } from 'vitest';
import { planManifests } from '../../../src/targets/container/manifests.js';
import { containerTargetSchema, type ContainerTargetInput } from '../../../src/targets/container/schema.js';
import { EARLIER_INFERENCE_SERVICE } from './earlier-inference-service.js';
import { KNATIVE_RULES, knativePodSpecViolations, type KnativeFeatures, type KnativeRule } from './knative-pod-spec-rules.js';
import { predictorPodSpec } from './kserve-webhook-rules.js';
import type { Json } from './violation.js';

// A pod spec Knative admits with its default flags: one serving container, an emptyDir, probes.
const valid = (): Json => ({
  automountServiceAccountToken: false,
  containers: [{
    name: 'kserve-container',
    image: 'registry.example.com/model:0123456789ab',
    ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
    env: [{ name: 'PROTOCOL', value: 'v2' }],
    resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/live', port: 'http1' } },
    securityContext: { runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  }],
  volumes: [{ name: 'tmp', emptyDir: {} }],
});
type C = Record<string, any>;
const container = (pod: Json) => (pod.containers as C[])[0]!;

// [rule, what breaks it, the change, the path Knative names]
const cases: [KnativeRule, string, (pod: C) => void, string][] = [
  ['pod-fields', 'a nodeSelector (kubernetes.podspec-nodeselector)', (p) => { p.nodeSelector = { disk: 'ssd' }; }, 'nodeSelector'],
  ['pod-fields', 'terminationGracePeriodSeconds, never allowed', (p) => { p.terminationGracePeriodSeconds = 30; }, 'terminationGracePeriodSeconds'],
  ['pod-fields', 'automountServiceAccountToken: true', (p) => { p.automountServiceAccountToken = true; }, 'automountServiceAccountToken'],
  ['pod-security-context', 'runAsNonRoot on the pod (kubernetes.podspec-securitycontext)', (p) => { p.securityContext = { runAsNonRoot: true }; }, 'securityContext.runAsNonRoot'],
  ['pod-security-context', 'a seccomp profile on the pod', (p) => { p.securityContext = { seccompProfile: { type: 'RuntimeDefault' } }; }, 'securityContext.seccompProfile'],
  ['containers', 'the reserved name queue-proxy', (p) => { container(p).name = 'queue-proxy'; }, 'containers[0].name'],
  ['containers', 'two containers with one name', (p) => { p.containers.push({ name: 'kserve-container', image: 'registry.example.com/sidecar:1' }); }, 'containers[1].name'],
  ['container-fields', 'a lifecycle hook', (p) => { container(p).lifecycle = { preStop: { exec: { command: ['sleep', '5'] } } }; }, 'containers[0].lifecycle'],
  ['container-fields', 'an unknown terminationMessagePolicy', (p) => { container(p).terminationMessagePolicy = 'Always'; }, 'containers[0].terminationMessagePolicy'],
  ['container-security-context', 'seLinuxOptions', (p) => { container(p).securityContext.seLinuxOptions = { level: 's0' }; }, 'containers[0].securityContext.seLinuxOptions'],
  ['container-security-context', 'privileged: true', (p) => { container(p).securityContext.privileged = true; }, 'containers[0].securityContext.privileged'],
  ['container-security-context', 'an added capability (kubernetes.containerspec-addcapabilities)', (p) => { container(p).securityContext.capabilities.add = ['NET_ADMIN']; }, 'containers[0].securityContext.capabilities.add'],
  ['container-security-context', 'a uid above MaxInt32', (p) => { container(p).securityContext.runAsUser = 2 ** 31; }, 'containers[0].securityContext.runAsUser'],
  ['ports', 'a second port', (p) => { container(p).ports.push({ containerPort: 9000 }); }, 'containers[*].ports'],
  ['ports', 'a port named http', (p) => { container(p).ports[0].name = 'http'; }, 'containers[0].ports[0].name'],
  ['ports', "queue-proxy's port 8012", (p) => { container(p).ports[0].containerPort = 8012; }, 'containers[0].ports[0].containerPort'],
  ['ports', 'UDP', (p) => { container(p).ports[0].protocol = 'UDP'; }, 'containers[0].ports[0].protocol'],
  ['ports', 'a hostPort', (p) => { container(p).ports[0].hostPort = 80; }, 'containers[0].ports[0].hostPort'],
  ['env', 'PORT, which Knative sets', (p) => { container(p).env.push({ name: 'PORT', value: '8080' }); }, 'containers[0].env[1].name'],
  ['env', 'K_SERVICE', (p) => { container(p).env.push({ name: 'K_SERVICE', value: 'x' }); }, 'containers[0].env[1].name'],
  ['env', 'a fieldRef (kubernetes.podspec-fieldref)', (p) => { container(p).env.push({ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }); }, 'containers[0].env[1].valueFrom.fieldRef'],
  ['env', 'envFrom with both sources', (p) => { container(p).envFrom = [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }]; }, 'containers[0].envFrom[0]'],
  ['probes', "a probe on a port name that is not the container port's", (p) => { container(p).readinessProbe.httpGet.port = 'http'; }, 'containers[0].readinessProbe.httpGet.port'],
  ['probes', 'failureThreshold with periodSeconds 0', (p) => { container(p).readinessProbe = { httpGet: { port: 8080 }, failureThreshold: 3 }; }, 'containers[0].readinessProbe.failureThreshold'],
  ['probes', 'two handlers', (p) => { container(p).livenessProbe.tcpSocket = { port: 8080 }; }, 'containers[0].livenessProbe'],
  ['probes', 'an unknown probe field', (p) => { container(p).startupProbe = { httpGet: { port: 8080 }, periodSecond: 2 }; }, 'containers[0].startupProbe.periodSecond'],
  ['probes', 'a probe on a sidecar (multi-container-probing)', (p) => { p.containers.push({ name: 'sidecar', image: 'registry.example.com/s:1', readinessProbe: { tcpSocket: { port: 9000 } } }); }, 'containers[1].readinessProbe.tcpSocket'],
  ['resources', 'resource claims', (p) => { container(p).resources.claims = [{ name: 'gpu' }]; }, 'containers[0].resources.claims'],
  ['volumes', 'a hostPath (kubernetes.podspec-volumes-hostpath)', (p) => { p.volumes[0] = { name: 'tmp', hostPath: { path: '/tmp' } }; }, 'volumes[0].hostPath'],
  ['volumes', 'a volume nobody mounts', (p) => { p.volumes.push({ name: 'cache', emptyDir: {} }); }, 'volumes[1].name'],
  ['volumes', 'an emptyDir on an unknown medium', (p) => { p.volumes[0].emptyDir.medium = 'HugePages'; }, 'volumes[0].emptyDir.medium'],
  ['volume-mounts', 'the reserved path /dev', (p) => { container(p).volumeMounts[0].mountPath = '/dev/'; }, 'containers[0].volumeMounts[0].mountPath'],
  ['volume-mounts', 'a relative path', (p) => { container(p).volumeMounts[0].mountPath = 'tmp'; }, 'containers[0].volumeMounts[0].mountPath'],
  ['volume-mounts', 'a mount without a volume', (p) => { container(p).volumeMounts.push({ name: 'cache', mountPath: '/cache' }); }, 'containers[0].volumeMounts[1].name'],
  ['image', 'no image', (p) => { delete container(p).image; }, 'containers[0].image'],
];

describe("Knative's pod spec rules (knative/serving knative-v1.23.0, default feature flags)", () => {
  it('passes the valid pod spec, and covers every rule with a case below', () => {
    expect(knativePodSpecViolations(valid())).toEqual([]);
    expect(new Set(cases.map(([rule]) => rule))).toEqual(new Set(KNATIVE_RULES));
  });

  it.each(cases)('%s: refuses %s', (rule, _what, change, path) => {
    // GIVEN the valid pod spec WHEN one thing changes THEN the rule fires at the path Knative names
    const pod = valid();
    change(pod);
    expect(knativePodSpecViolations(pod)).toContainEqual(expect.objectContaining({ rule, path }));
  });

  it.each<[string, Partial<KnativeFeatures>, (pod: C) => void]>([
    ['kubernetes.podspec-securitycontext lets a pod securityContext through', { 'kubernetes.podspec-securitycontext': 'enabled' },
      (p) => { p.securityContext = { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } }; }],
    ['secure-pod-defaults lets a RuntimeDefault seccomp profile through', { 'secure-pod-defaults': 'enabled' }, (p) => { p.securityContext = { seccompProfile: { type: 'RuntimeDefault' } }; }],
    ['secure-pod-defaults lets NET_BIND_SERVICE be added', { 'secure-pod-defaults': 'enabled' }, (p) => { container(p).securityContext.capabilities.add = ['NET_BIND_SERVICE']; }],
    ['kubernetes.podspec-nodeselector lets a nodeSelector through', { 'kubernetes.podspec-nodeselector': 'enabled' }, (p) => { p.nodeSelector = { disk: 'ssd' }; }],
  ])('a flag changes the answer: %s', (_what, features, change) => {
    const pod = valid();
    change(pod);
    expect(knativePodSpecViolations(pod)).not.toEqual([]);
    expect(knativePodSpecViolations(pod, features)).toEqual([]);
  });

  it('refuses the emptyDir when its flag is turned off (enabled by default)', () => {
    expect(knativePodSpecViolations(valid(), { 'kubernetes.podspec-volumes-emptydir': 'disabled' })).toContainEqual(expect.objectContaining({ rule: 'volumes', path: 'volumes[0].emptyDir' }));
  });
});

describe('the generated InferenceService on Knative', () => {
  const target = (kserve: ContainerTargetInput['kserve']) => containerTargetSchema.parse({ type: 'container', resources: { cpu: '500m', memory: '768Mi' }, replicas: { min: 2, max: 6 }, targetCpuUtilization: 60, kserve });
  const podOf = (kserve: ContainerTargetInput['kserve']) => {
    const isvc = planManifests({ name: 'ocr-cls', image: 'registry.example.com/ocr-cls:0123456789ab', target: target(kserve) }).inferenceService as { spec: { predictor: Json } };
    return predictorPodSpec(isvc.spec.predictor);
  };

  it.each([['kserve: true (the cluster decides)', true], ["kserve: { mode: 'serverless' }", { mode: 'serverless' }]] as const)('%s: the predictor passes every rule', (_what, kserve) => {
    expect(knativePodSpecViolations(podOf(kserve))).toEqual([]);
  });

  it("kserve: { mode: 'raw' }: the pod-level securityContext would be refused, which is why raw mode alone carries it", () => {
    expect(knativePodSpecViolations(podOf({ mode: 'raw' })).map((v) => v.rule)).toContain('pod-security-context');
  });

  it('the earlier manifest broke the pod securityContext rule and the reserved PORT variable', () => {
    const pod = predictorPodSpec((EARLIER_INFERENCE_SERVICE.spec as { predictor: Json }).predictor);
    expect(knativePodSpecViolations(pod).map(({ rule, path }) => ({ rule, path }))).toEqual([
      { rule: 'pod-fields', path: 'securityContext' },
      { rule: 'pod-security-context', path: 'securityContext.runAsNonRoot' },
      { rule: 'pod-security-context', path: 'securityContext.runAsUser' },
      { rule: 'pod-security-context', path: 'securityContext.runAsGroup' },
      { rule: 'pod-security-context', path: 'securityContext.seccompProfile' },
      { rule: 'env', path: 'containers[0].env[1].name' },
    ]);
  });
});
