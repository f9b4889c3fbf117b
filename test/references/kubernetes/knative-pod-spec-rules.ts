// Knative Serving's admission rules for a revision's pod spec, written for tests from
// knative/serving tag knative-v1.23.0 (commit 7ed4aa2ab601e3a33c6552285f6e0d910747351d):
//   pkg/apis/serving/fieldmask.go       which fields pass, per feature flag (the *Mask functions)
//   pkg/apis/serving/k8s_validation.go  the checks on their values (ValidatePodSpec and below)
//   pkg/apis/serving/v1/revision_defaults.go  the defaults applied before validation
//   pkg/apis/config/features.go         the feature flags and their defaults (`defaultFeaturesConfig`),
//                                       shipped in config/core/configmaps/features.yaml
// KServe v0.20.0 installs Knative Serving 1.21.1 (kserve-deps.env); its versions of these files differ
// from 1.23.0 only in ephemeral volumes and sidecar startup probes, which the rules below include.
// The structure and the code are ours; each rule names the upstream function it follows. A rule
// reports what Knative's webhook reports (`apis.CheckDisallowedFields` names each refused field).
import { extraKeys, isObject, objects, type Json, type Violation } from './violation.js';

/** A flag's value in the config-features ConfigMap. */
export type Flag = 'enabled' | 'disabled' | 'allowed';

/** The flags that change what a pod spec may hold, by their config-features key. */
export interface KnativeFeatures {
  'multi-container': Flag;
  'multi-container-probing': Flag;
  'secure-pod-defaults': Flag | 'allow-root-bounded';
  'kubernetes.podspec-securitycontext': Flag;
  'kubernetes.containerspec-addcapabilities': Flag;
  'kubernetes.podspec-fieldref': Flag;
  'kubernetes.podspec-init-containers': Flag;
  'kubernetes.podspec-volumes-emptydir': Flag;
  'kubernetes.podspec-persistent-volume-claim': Flag;
  'kubernetes.podspec-persistent-volume-write': Flag;
  'kubernetes.podspec-volumes-hostpath': Flag;
  'kubernetes.podspec-volumes-csi': Flag;
  'kubernetes.podspec-volumes-ephemeral': Flag;
  'kubernetes.podspec-volumes-image': Flag;
  'kubernetes.podspec-volumes-mount-propagation': Flag;
  /** The pod fields PodSpecMask lets through when their flag is not disabled. */
  'kubernetes.podspec-affinity': Flag;
  'kubernetes.podspec-topologyspreadconstraints': Flag;
  'kubernetes.podspec-hostaliases': Flag;
  'kubernetes.podspec-nodeselector': Flag;
  'kubernetes.podspec-runtimeclassname': Flag;
  'kubernetes.podspec-tolerations': Flag;
  'kubernetes.podspec-shareprocessnamespace': Flag;
  'kubernetes.podspec-priorityclassname': Flag;
  'kubernetes.podspec-schedulername': Flag;
  'kubernetes.podspec-dnspolicy': Flag;
  'kubernetes.podspec-dnsconfig': Flag;
  'kubernetes.podspec-hostipc': Flag;
  'kubernetes.podspec-hostpid': Flag;
  'kubernetes.podspec-hostnetwork': Flag;
}

/** features.go `defaultFeaturesConfig`: what a cluster has unless someone edits config-features. */
export const KNATIVE_DEFAULT_FEATURES: Readonly<KnativeFeatures> = {
  'multi-container': 'enabled',
  'multi-container-probing': 'disabled',
  'secure-pod-defaults': 'disabled',
  'kubernetes.podspec-securitycontext': 'disabled',
  'kubernetes.containerspec-addcapabilities': 'disabled',
  'kubernetes.podspec-fieldref': 'disabled',
  'kubernetes.podspec-init-containers': 'disabled',
  'kubernetes.podspec-volumes-emptydir': 'enabled',
  'kubernetes.podspec-persistent-volume-claim': 'disabled',
  'kubernetes.podspec-persistent-volume-write': 'disabled',
  'kubernetes.podspec-volumes-hostpath': 'disabled',
  'kubernetes.podspec-volumes-csi': 'disabled',
  'kubernetes.podspec-volumes-ephemeral': 'disabled',
  'kubernetes.podspec-volumes-image': 'disabled',
  'kubernetes.podspec-volumes-mount-propagation': 'disabled',
  'kubernetes.podspec-affinity': 'disabled',
  'kubernetes.podspec-topologyspreadconstraints': 'disabled',
  'kubernetes.podspec-hostaliases': 'disabled',
  'kubernetes.podspec-nodeselector': 'disabled',
  'kubernetes.podspec-runtimeclassname': 'disabled',
  'kubernetes.podspec-tolerations': 'disabled',
  'kubernetes.podspec-shareprocessnamespace': 'disabled',
  'kubernetes.podspec-priorityclassname': 'disabled',
  'kubernetes.podspec-schedulername': 'disabled',
  'kubernetes.podspec-dnspolicy': 'disabled',
  'kubernetes.podspec-dnsconfig': 'disabled',
  'kubernetes.podspec-hostipc': 'disabled',
  'kubernetes.podspec-hostpid': 'disabled',
  'kubernetes.podspec-hostnetwork': 'disabled',
};

// PodSpecMask: always allowed (automountServiceAccountToken only as false, checked apart).
const POD_FIELDS = ['serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks', 'automountServiceAccountToken'];
// PodSpecMask: allowed when the flag is not disabled.
const POD_FIELDS_BY_FLAG: Record<string, keyof KnativeFeatures> = {
  affinity: 'kubernetes.podspec-affinity',
  topologySpreadConstraints: 'kubernetes.podspec-topologyspreadconstraints',
  hostAliases: 'kubernetes.podspec-hostaliases',
  nodeSelector: 'kubernetes.podspec-nodeselector',
  runtimeClassName: 'kubernetes.podspec-runtimeclassname',
  tolerations: 'kubernetes.podspec-tolerations',
  shareProcessNamespace: 'kubernetes.podspec-shareprocessnamespace',
  priorityClassName: 'kubernetes.podspec-priorityclassname',
  schedulerName: 'kubernetes.podspec-schedulername',
  initContainers: 'kubernetes.podspec-init-containers',
  dnsPolicy: 'kubernetes.podspec-dnspolicy',
  dnsConfig: 'kubernetes.podspec-dnsconfig',
  hostIPC: 'kubernetes.podspec-hostipc',
  hostPID: 'kubernetes.podspec-hostpid',
  hostNetwork: 'kubernetes.podspec-hostnetwork',
};
// ContainerMask.
const CONTAINER_FIELDS = ['name', 'args', 'command', 'env', 'workingDir', 'envFrom', 'image', 'imagePullPolicy', 'livenessProbe', 'ports',
  'readinessProbe', 'resources', 'securityContext', 'startupProbe', 'terminationMessagePath', 'terminationMessagePolicy', 'volumeMounts'];
// SecurityContextMask (privileged only as false, checked apart).
const SECURITY_CONTEXT_FIELDS = ['capabilities', 'readOnlyRootFilesystem', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'allowPrivilegeEscalation', 'seccompProfile', 'privileged'];
// PodSecurityContextMask, when kubernetes.podspec-securitycontext is not disabled.
const POD_SECURITY_CONTEXT_FIELDS = ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'supplementalGroups', 'seccompProfile'];
// ProbeMask, HandlerMask and the action masks.
const PROBE_FIELDS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'];
const ACTION_FIELDS: Record<string, string[]> = { httpGet: ['host', 'path', 'scheme', 'httpHeaders', 'port'], tcpSocket: ['host', 'port'], exec: ['command'], grpc: ['port', 'service'] };
// ContainerPortMask, EnvVarMask, EnvVarSourceMask, EnvFromSourceMask, ResourceRequirementsMask, VolumeMountMask.
const PORT_FIELDS = ['containerPort', 'name', 'protocol'];
const ENV_FIELDS = ['name', 'value', 'valueFrom'];
const ENV_FROM_FIELDS = ['prefix', 'configMapRef', 'secretRef'];
const RESOURCE_FIELDS = ['limits', 'requests'];
const MOUNT_FIELDS = ['name', 'readOnly', 'mountPath', 'subPath', 'mountPropagation'];
// VolumeSourceMask: the sources, and the flag each needs (validateVolume wants it enabled).
const VOLUME_SOURCES: Record<string, keyof KnativeFeatures | undefined> = {
  secret: undefined, configMap: undefined, projected: undefined,
  emptyDir: 'kubernetes.podspec-volumes-emptydir',
  persistentVolumeClaim: 'kubernetes.podspec-persistent-volume-claim',
  hostPath: 'kubernetes.podspec-volumes-hostpath',
  csi: 'kubernetes.podspec-volumes-csi',
  ephemeral: 'kubernetes.podspec-volumes-ephemeral',
  image: 'kubernetes.podspec-volumes-image',
};

// k8s_validation.go: validPortNames, reservedPorts (pkg/networking/constants.go BackendHTTPPort 8012,
// BackendHTTP2Port 8013, QueueAdminPort 8022, AutoscalingQueueMetricsPort 9090, UserQueueMetricsPort
// 9091; knative.dev/pkg ProfilingDefaultPort 8008), reservedEnvVars, reservedSidecarEnvVars,
// reservedContainerNames, reservedPaths, and the uid/gid bounds (0 to math.MaxInt32).
const PORT_NAMES = new Set(['', 'http1', 'h2c']);
const RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
const RESERVED_SIDECAR_ENV = new Set(['K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
const RESERVED_CONTAINER_NAMES = new Set(['queue-proxy']);
const RESERVED_PATHS = new Set(['/', '/dev', '/dev/log']);
const MAX_ID = 2147483647;
// k8s.io/apimachinery/pkg/util/validation: IsDNS1123Label, IsDNS1123Subdomain.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The rule ids, each a check this folder's README lists with its upstream function. */
export const KNATIVE_RULES = [
  'pod-fields', 'pod-security-context', 'containers', 'container-fields', 'container-security-context', 'ports',
  'env', 'probes', 'resources', 'volumes', 'volume-mounts', 'image',
] as const;
export type KnativeRule = (typeof KNATIVE_RULES)[number];

/**
 * What Knative's webhook refuses in `podSpec` (a revision's pod spec, e.g. the pod part of a KServe
 * predictor), with `features` (the cluster's config-features; the defaults unless given).
 */
export function knativePodSpecViolations(podSpec: Json, features: Partial<KnativeFeatures> = {}): Violation[] {
  const flags: KnativeFeatures = { ...KNATIVE_DEFAULT_FEATURES, ...features };
  const on = (flag: keyof KnativeFeatures) => flags[flag] !== 'disabled';
  const enabled = (flag: keyof KnativeFeatures) => flags[flag] === 'enabled';
  const securePodDefaults = flags['secure-pod-defaults'] === 'enabled' || flags['secure-pod-defaults'] === 'allow-root-bounded';
  const out: Violation[] = [];
  const refuse = (rule: KnativeRule, path: string, message: string) => out.push({ rule, path, message });
  const disallowed = (rule: KnativeRule, paths: string[]) => paths.forEach((p) => refuse(rule, p, 'must not set the field(s)'));

  const containers = objects(podSpec.containers);

  // PodSpecMask.
  const podAllowed = new Set([...POD_FIELDS, ...Object.keys(POD_FIELDS_BY_FLAG).filter((k) => on(POD_FIELDS_BY_FLAG[k]!))]);
  if (on('kubernetes.podspec-securitycontext') || on('secure-pod-defaults')) podAllowed.add('securityContext');
  disallowed('pod-fields', extraKeys(podSpec, podAllowed, ''));
  if (podSpec.automountServiceAccountToken === true) refuse('pod-fields', 'automountServiceAccountToken', 'must not set the field(s): only false is allowed');
  if (typeof podSpec.serviceAccountName === 'string' && podSpec.serviceAccountName && !DNS1123_SUBDOMAIN.test(podSpec.serviceAccountName)) {
    refuse('pod-fields', 'serviceAccountName', 'invalid value: not a DNS-1123 subdomain');
  }

  // ValidatePodSecurityContext with PodSecurityContextMask.
  if (isObject(podSpec.securityContext)) {
    const sc = podSpec.securityContext;
    const allowed = new Set(on('kubernetes.podspec-securitycontext') ? POD_SECURITY_CONTEXT_FIELDS : []);
    const seccomp = isObject(sc.seccompProfile) ? sc.seccompProfile.type : undefined;
    if (!allowed.has('seccompProfile') && securePodDefaults && (seccomp === 'RuntimeDefault' || seccomp === 'Unconfined')) allowed.add('seccompProfile');
    disallowed('pod-security-context', extraKeys(sc, allowed, 'securityContext'));
    for (const key of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
      const id = sc[key];
      if (typeof id === 'number' && (id < 0 || id > MAX_ID)) refuse('pod-security-context', `securityContext.${key}`, `expected 0 <= ${id} <= ${MAX_ID}`);
    }
  }

  // ValidatePodSpec, validateContainers, validateContainersPorts.
  if (containers.length === 0) refuse('containers', 'containers', 'missing field(s)');
  if (containers.length > 1 && !enabled('multi-container')) refuse('containers', 'containers', `multi-container is off, but found ${containers.length} containers`);
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const name = c.name as string;
    if (names.has(name)) refuse('containers', `containers[${i}].name`, `duplicate container name "${name}"`);
    names.add(name);
    if (RESERVED_CONTAINER_NAMES.has(name)) refuse('containers', `containers[${i}].name`, `"${name}" is a reserved container name`);
  });
  const withPorts = containers.filter((c) => objects(c.ports).length > 0);
  const portCount = containers.reduce((n, c) => n + objects(c.ports).length, 0);
  if (portCount === 0 && containers.length > 1) refuse('ports', 'containers[*].ports', 'missing field(s)');
  if (portCount > 1) refuse('ports', 'containers[*].ports', 'more than one container port is set: only a single port is allowed across all containers');
  const servingPort = objects(withPorts.at(-1)?.ports)[0] ?? {};
  const servingPortName = (servingPort.name as string | undefined) || 'http';

  // Volumes first: the mounts are checked against them. ValidateVolumes, validateVolume, VolumeMask, VolumeSourceMask.
  const volumes = new Map<string, Json>();
  const mounted = new Set(containers.flatMap((c) => objects(c.volumeMounts).map((m) => m.name as string)));
  objects(podSpec.volumes).forEach((v, i) => {
    const at = `volumes[${i}]`;
    const name = v.name as string | undefined;
    if (!name) refuse('volumes', `${at}.name`, 'missing field(s)');
    else if (!DNS1123_LABEL.test(name) || name.length > 63) refuse('volumes', `${at}.name`, 'invalid value: not a DNS-1123 label');
    if (name && volumes.has(name)) refuse('volumes', `${at}.name`, `duplicate volume name "${name}"`);
    if (name && !mounted.has(name)) refuse('volumes', `${at}.name`, `volume with name "${name}" not mounted`);
    const sources = Object.keys(v).filter((k) => k !== 'name');
    for (const source of sources) {
      if (!(source in VOLUME_SOURCES)) refuse('volumes', `${at}.${source}`, 'must not set the field(s)');
      const flag = VOLUME_SOURCES[source];
      if (flag && !enabled(flag)) refuse('volumes', `${at}.${source}`, `${source} volume support is disabled (${flag})`);
    }
    if (sources.length === 0) refuse('volumes', at, 'expected exactly one, got neither');
    if (sources.length > 1) refuse('volumes', at, `expected exactly one, got both: ${sources.join(', ')}`);
    if (isObject(v.emptyDir) && v.emptyDir.medium !== undefined && v.emptyDir.medium !== '' && v.emptyDir.medium !== 'Memory') {
      refuse('volumes', `${at}.emptyDir.medium`, `invalid value: ${String(v.emptyDir.medium)}`);
    }
    if (isObject(v.persistentVolumeClaim) && v.persistentVolumeClaim.readOnly !== true && !enabled('kubernetes.podspec-persistent-volume-write')) {
      refuse('volumes', `${at}.persistentVolumeClaim`, 'persistent volume write support is disabled, but the claim is not read-only');
    }
    if (name) volumes.set(name, v);
  });

  containers.forEach((c, i) => {
    const at = `containers[${i}]`;
    // A container with the port serves; with several containers the others are sidecars (validateContainers).
    const serving = containers.length === 1 || objects(c.ports).length > 0;

    // validate: ContainerMask, image, terminationMessagePolicy.
    disallowed('container-fields', extraKeys(c, CONTAINER_FIELDS, at));
    if (typeof c.terminationMessagePolicy === 'string' && !['', 'File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)) {
      refuse('container-fields', `${at}.terminationMessagePolicy`, `invalid value: ${c.terminationMessagePolicy}`);
    }
    if (typeof c.image !== 'string' || c.image === '') refuse('image', `${at}.image`, 'missing field(s)');

    // validateSecurityContext: SecurityContextMask, CapabilitiesMask, uid and gid bounds.
    if (isObject(c.securityContext)) {
      const sc = c.securityContext;
      disallowed('container-security-context', extraKeys(sc, SECURITY_CONTEXT_FIELDS, `${at}.securityContext`));
      if (sc.privileged === true) refuse('container-security-context', `${at}.securityContext.privileged`, 'must not set the field(s): only false is allowed');
      if (isObject(sc.capabilities)) {
        const caps = sc.capabilities;
        disallowed('container-security-context', extraKeys(caps, ['drop', 'add'], `${at}.securityContext.capabilities`));
        const add = caps.add;
        const addAllowed = enabled('kubernetes.containerspec-addcapabilities')
          || (securePodDefaults && Array.isArray(add) && add.length === 1 && add[0] === 'NET_BIND_SERVICE');
        if (add !== undefined && !addAllowed) refuse('container-security-context', `${at}.securityContext.capabilities.add`, 'must not set the field(s)');
      }
      for (const key of ['runAsUser', 'runAsGroup'] as const) {
        const id = sc[key];
        if (typeof id === 'number' && (id < 0 || id > MAX_ID)) refuse('container-security-context', `${at}.securityContext.${key}`, `expected 0 <= ${id} <= ${MAX_ID}`);
      }
    }

    // validateContainerPorts, validateContainerPortBasic, ContainerPortMask.
    objects(c.ports).slice(0, 1).forEach((p) => {
      const pat = `${at}.ports[0]`;
      disallowed('ports', extraKeys(p, PORT_FIELDS, pat));
      const number = p.containerPort as number;
      if (RESERVED_PORTS.has(number)) refuse('ports', `${pat}.containerPort`, `${number} is a reserved port, please use a different value`);
      if (number < 0 || number > 65535) refuse('ports', `${pat}.containerPort`, `expected 0 <= ${number} <= 65535`);
      if (p.protocol !== undefined && p.protocol !== '' && p.protocol !== 'TCP') refuse('ports', `${pat}.protocol`, `invalid value: ${String(p.protocol)}`);
      if (!PORT_NAMES.has((p.name as string | undefined) ?? '')) refuse('ports', `${pat}.name`, `Port name ${String(p.name)} is not allowed: name must be empty, or one of: 'h2c', 'http1'`);
    });

    // validateEnv, validateEnvVar, EnvVarMask, EnvVarSourceMask; validateEnvFrom, EnvFromSourceMask.
    const reserved = serving ? RESERVED_ENV : RESERVED_SIDECAR_ENV;
    objects(c.env).forEach((e, j) => {
      const eat = `${at}.env[${j}]`;
      disallowed('env', extraKeys(e, ENV_FIELDS, eat));
      if (!e.name) refuse('env', `${eat}.name`, 'missing field(s)');
      else if (reserved.has(e.name as string)) refuse('env', `${eat}.name`, `"${String(e.name)}" is a reserved environment variable`);
      if (isObject(e.valueFrom)) {
        const sources = on('kubernetes.podspec-fieldref') ? ['configMapKeyRef', 'secretKeyRef', 'fieldRef', 'resourceFieldRef'] : ['configMapKeyRef', 'secretKeyRef'];
        disallowed('env', extraKeys(e.valueFrom, sources, `${eat}.valueFrom`));
      }
    });
    objects(c.envFrom).forEach((e, j) => {
      const eat = `${at}.envFrom[${j}]`;
      disallowed('env', extraKeys(e, ENV_FROM_FIELDS, eat));
      const refs = ['configMapRef', 'secretRef'].filter((k) => e[k] !== undefined);
      if (refs.length !== 1) refuse('env', eat, refs.length === 0 ? 'expected exactly one, got neither: configMapRef, secretRef' : 'expected exactly one, got both: configMapRef, secretRef');
    });

    // ResourceRequirementsMask.
    if (isObject(c.resources)) disallowed('resources', extraKeys(c.resources, RESOURCE_FIELDS, `${at}.resources`));

    // ValidateUserContainer and validateSidecarContainer: validateProbe, validateReadinessProbe.
    for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (!isObject(c[kind])) continue;
      const probe = { ...(c[kind] as Json) };
      const pat = `${at}.${kind}`;
      if (!serving && !enabled('multi-container-probing')) {
        disallowed('probes', Object.keys(probe).map((k) => `${pat}.${k}`));
        continue;
      }
      disallowed('probes', extraKeys(probe, PROBE_FIELDS, pat));
      const handlers = Object.keys(ACTION_FIELDS).filter((h) => probe[h] !== undefined);
      if (handlers.length === 0) refuse('probes', pat, 'expected exactly one, got neither: httpGet, tcpSocket, exec, grpc');
      if (handlers.length > 1) refuse('probes', pat, `expected exactly one, got both: ${handlers.join(', ')}`);
      for (const h of handlers) {
        const action = isObject(probe[h]) ? (probe[h] as Json) : {};
        disallowed('probes', extraKeys(action, ACTION_FIELDS[h]!, `${pat}.${h}`));
        if (h !== 'httpGet' && h !== 'tcpSocket') continue;
        if (serving && typeof action.port === 'string' && action.port !== servingPortName) {
          refuse('probes', `${pat}.${h}.port`, `invalid value: ${action.port}: Probe port must match container port`);
        }
        if (!serving && (action.port === undefined || action.port === 0 || action.port === '')) refuse('probes', `${pat}.${h}.port`, 'Probe port must be specified');
      }
      if (kind === 'readinessProbe') {
        // revision_defaults.go `applyReadinessProbeDefaults` runs first: successThreshold 1 and, with a
        // periodSeconds, failureThreshold 3 and timeoutSeconds 1.
        const period = (probe.periodSeconds as number | undefined) ?? 0;
        const defaulted = { successThreshold: 1, ...(period !== 0 ? { failureThreshold: 3, timeoutSeconds: 1 } : {}) };
        for (const [k, v] of Object.entries(defaulted)) if (!probe[k]) probe[k] = v;
        const n = (k: string) => (probe[k] as number | undefined) ?? 0;
        if (period < 0) refuse('probes', `${pat}.periodSeconds`, `expected 0 <= ${period} <= ${MAX_ID}`);
        if (n('initialDelaySeconds') < 0) refuse('probes', `${pat}.initialDelaySeconds`, `expected 0 <= ${n('initialDelaySeconds')} <= ${MAX_ID}`);
        if (n('successThreshold') < 1) refuse('probes', `${pat}.successThreshold`, `expected 1 <= ${n('successThreshold')} <= ${MAX_ID}`);
        if (period === 0) {
          if (n('failureThreshold') !== 0) refuse('probes', `${pat}.failureThreshold`, 'failureThreshold is disallowed when periodSeconds is zero');
          if (n('timeoutSeconds') !== 0) refuse('probes', `${pat}.timeoutSeconds`, 'timeoutSeconds is disallowed when periodSeconds is zero');
        } else {
          if (n('timeoutSeconds') < 1) refuse('probes', `${pat}.timeoutSeconds`, `expected 1 <= ${n('timeoutSeconds')} <= ${MAX_ID}`);
          if (n('failureThreshold') < 1) refuse('probes', `${pat}.failureThreshold`, `expected 1 <= ${n('failureThreshold')} <= ${MAX_ID}`);
        }
      }
    }

    // validateVolumeMounts, VolumeMountMask. Its readOnly rule for other volume types is left out:
    // revision_defaults.go `applyDefault` sets readOnly on those mounts first, so no manifest breaks it.
    const paths = new Set<string>();
    objects(c.volumeMounts).forEach((m, j) => {
      const mat = `${at}.volumeMounts[${j}]`;
      const allowed = on('kubernetes.podspec-volumes-mount-propagation') ? MOUNT_FIELDS : MOUNT_FIELDS.filter((f) => f !== 'mountPropagation');
      disallowed('volume-mounts', extraKeys(m, allowed, mat));
      if (!volumes.has(m.name as string)) refuse('volume-mounts', `${mat}.name`, 'volumeMount has no matching volume');
      const path = typeof m.mountPath === 'string' ? cleanPath(m.mountPath) : '';
      if (!m.mountPath) refuse('volume-mounts', `${mat}.mountPath`, 'missing field(s)');
      else if (RESERVED_PATHS.has(path)) refuse('volume-mounts', `${mat}.mountPath`, `mountPath "${path}" is a reserved path`);
      else if (!path.startsWith('/')) refuse('volume-mounts', `${mat}.mountPath`, `invalid value: ${String(m.mountPath)}`);
      else if (paths.has(path)) refuse('volume-mounts', `${mat}.mountPath`, `"${String(m.mountPath)}" must be unique`);
      paths.add(path);
      const claim = volumes.get(m.name as string)?.persistentVolumeClaim;
      if (isObject(claim) && claim.readOnly === true && m.readOnly !== true) refuse('volume-mounts', `${mat}.readOnly`, 'volume is readOnly but volume mount is not');
    });
  });
  return out;
}

/** Go's path.Clean for the absolute and relative paths a mount can hold. */
function cleanPath(p: string): string {
  const abs = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { if (parts.length && parts.at(-1) !== '..') parts.pop(); else if (!abs) parts.push('..'); continue; }
    parts.push(seg);
  }
  const joined = parts.join('/');
  return abs ? `/${joined}` : joined || '.';
}
