/** The Kubernetes and KServe manifests of the image: planned as data, validated against the API schemas, written as YAML. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { CONTAINER_UID } from './dockerfile.js';
import { KSERVE_RUNTIME } from './engines.js';
import type { ContainerEngine, ContainerTargetConfig, KserveMode } from './schema.js';

type Json = Record<string, unknown>;

export interface ManifestInput {
  /** The config name: every object's name and the `app.kubernetes.io/name` label. */
  name: string;
  /** The immutable content reference, `<repository>:<content tag>`. */
  image: string;
  target: Pick<ContainerTargetConfig, 'port' | 'resources' | 'replicas' | 'targetCpuUtilization' | 'kserve'>;
  /** @default - none (the namespace of `kubectl apply`) */
  namespace?: string;
  /** @default 'onnxruntime' */
  engine?: ContainerEngine;
  /** The uid the server runs as. @default CONTAINER_UID */
  uid?: number;
  /** GPUs and the node pool. @default - none: a CPU pod on any node */
  gpu?: GpuScheduling;
  /** Engine 'triton': the TensorRT engine cache, a volume at this path. @default - none */
  engineCache?: { path: string; volume: 'emptyDir' | { persistentVolumeClaim: string } };
  /** How long the first start may take (engine builds), sizing the startup probe. @default - 60 (the Node server), 120 (OVMS) */
  startupBudgetSeconds?: number;
  /** Flags appended to the KServe runtime's own (KServe concatenates them). @default - none */
  runtimeArgs?: readonly string[];
  /**
   * The share of requests, in percent, KServe gives a new revision of the InferenceService while
   * the last one rolled out keeps the rest (the first step of a canary or linear rollout). Left out
   * in raw mode: KServe splits traffic between revisions on Knative only.
   * @default - none: a new revision takes all the traffic once ready
   */
  canaryTrafficPercent?: number;
}

/** The GPUs a pod requests and where it may be scheduled. */
export interface GpuScheduling {
  count: number;
  resource: string;
  nodeSelector: Record<string, string>;
  tolerations: Array<{ key?: string; operator: 'Exists' | 'Equal'; value?: string; effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
}

/** The objects, by the file each is written to (`<key>.yaml`). */
export interface Manifests {
  deployment: Json;
  service: Json;
  hpa: Json;
  inferenceService?: Json;
}

export const READY_PATH = '/v2/health/ready';
export const LIVE_PATH = '/v2/health/live';

/** KServe reads its deployment mode from this annotation; without it the cluster's default applies. */
const KSERVE_DEPLOYMENT_MODE = 'serving.kserve.io/deploymentMode';
/**
 * The legacy names, because every KServe release reads them: v0.16 renamed the modes Knative and
 * Standard and its defaulting webhook rewrites these two to the new names, while releases before it
 * know only these (kserve/kserve v0.20.0, pkg/constants/constants.go `ParseDeploymentMode`;
 * pkg/apis/serving/v1beta1/inference_service_defaults.go `DefaultInferenceService`).
 */
const DEPLOYMENT_MODE: Record<KserveMode, string> = { serverless: 'Serverless', raw: 'RawDeployment' };

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * What `kserve` asks for: no InferenceService, or one whose mode is pinned or left to the cluster.
 * A pod that must land on a GPU pool (a node selector or tolerations) is pinned to raw mode unless
 * serverless is asked for: Knative refuses both fields with its default flags
 * (`kubernetes.podspec-nodeselector`, `kubernetes.podspec-tolerations`).
 */
export function resolveKserve(kserve: ContainerTargetConfig['kserve'], gpu?: GpuScheduling): { mode?: KserveMode } | undefined {
  if (kserve === false) return undefined;
  if (kserve !== true && kserve.mode) return { mode: kserve.mode };
  const pinned = gpu && (Object.keys(gpu.nodeSelector).length > 0 || gpu.tolerations.length > 0);
  return pinned ? { mode: 'raw' } : {};
}

/**
 * The Kubernetes objects for the image, as plain data: a Deployment, a ClusterIP Service, an
 * autoscaling/v2 HorizontalPodAutoscaler on CPU and, unless `kserve: false`, a KServe
 * InferenceService. The pod meets the Pod Security "restricted" profile: non-root uid 10001, no
 * privilege escalation, every capability dropped, the RuntimeDefault seccomp profile, a read-only
 * root filesystem with an emptyDir on /tmp (and HOME there). The InferenceService's container
 * carries the same profile on its own, because Knative refuses a pod-level securityContext.
 */
export function planManifests(input: ManifestInput): Manifests {
  const { name, target } = input;
  const engine = input.engine ?? 'onnxruntime';
  const uid = input.uid ?? CONTAINER_UID;
  const gpu = input.gpu && input.gpu.count > 0 ? input.gpu : undefined;
  // Functions, not shared objects: every object gets its own copy, so editing one never edits another.
  const selector = () => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'predictor' });
  const labels = () => ({ ...selector(), 'app.kubernetes.io/managed-by': 'deploy-model' });
  const metadata = (objectName: string) => ({ name: objectName, ...(input.namespace ? { namespace: input.namespace } : {}), labels: labels() });
  // Extended resources (GPUs) are limits only: Kubernetes sets the request equal to the limit.
  const gpuLimit = () => (gpu ? { [gpu.resource]: String(gpu.count) } : {});
  const resources = () => ({ requests: { cpu: target.resources.cpu, memory: target.resources.memory }, limits: { memory: target.resources.memory, ...gpuLimit() } });
  const podSecurity = () => ({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } });
  const containerSecurity = () => ({
    runAsNonRoot: true, runAsUser: uid, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
  });
  // The model loads (Triton: TensorRT builds its engines) before the server is ready; the startup
  // probe waits that long before liveness counts.
  const budget = input.startupBudgetSeconds ?? (engine === 'openvino' ? 120 : 60);
  const startupPeriod = budget > 120 ? 10 : 2;
  const startupProbe = (port: string | number) => ({ httpGet: { path: LIVE_PATH, port }, periodSeconds: startupPeriod, failureThreshold: Math.ceil(budget / startupPeriod) });
  const readinessProbe = (port: string | number) => ({ httpGet: { path: READY_PATH, port }, periodSeconds: 5, failureThreshold: 2 });
  const livenessProbe = (port: string | number) => ({ httpGet: { path: LIVE_PATH, port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
  const scheduling = () => (gpu ? {
    ...(Object.keys(gpu.nodeSelector).length > 0 ? { nodeSelector: { ...gpu.nodeSelector } } : {}),
    ...(gpu.tolerations.length > 0 ? { tolerations: gpu.tolerations.map((t) => ({ ...t })) } : {}),
  } : {});
  const cacheVolume = () => {
    const cache = input.engineCache;
    if (!cache) return undefined;
    return cache.volume === 'emptyDir'
      ? { name: 'engine-cache', emptyDir: {} }
      : { name: 'engine-cache', persistentVolumeClaim: { claimName: cache.volume.persistentVolumeClaim } };
  };
  const cacheMount = () => (input.engineCache ? [{ name: 'engine-cache', mountPath: input.engineCache.path }] : []);
  const cacheVolumes = () => {
    const v = cacheVolume();
    return v ? [v] : [];
  };

  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name),
    spec: {
      // No `replicas`: the HPA owns the count, and `kubectl apply` would reset it on every deploy.
      selector: { matchLabels: selector() },
      template: {
        metadata: { labels: labels() },
        spec: {
          automountServiceAccountToken: false,
          // Matches the server's drain: in-flight requests finish before the pod goes.
          terminationGracePeriodSeconds: 30,
          securityContext: podSecurity(),
          ...scheduling(),
          containers: [{
            name: 'server',
            image: input.image,
            // The tag is the content hash: a given tag never changes, so a cached copy is right.
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: target.port, protocol: 'TCP' }],
            env: engine === 'onnxruntime' ? [{ name: 'PORT', value: String(target.port) }, { name: 'HOME', value: '/tmp' }] : [{ name: 'HOME', value: '/tmp' }],
            resources: resources(),
            startupProbe: startupProbe('http'),
            readinessProbe: readinessProbe('http'),
            livenessProbe: livenessProbe('http'),
            securityContext: containerSecurity(),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...cacheMount()],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }, ...cacheVolumes()],
        },
      },
    },
  };

  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(name),
    spec: { type: 'ClusterIP', selector: selector(), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };

  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: target.replicas.min,
      maxReplicas: target.replicas.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target.targetCpuUtilization } } }],
    },
  };

  const inferenceService = (mode: KserveMode | undefined): Json => {
    // Scaling differs by mode, and a mode left to the cluster gets neither: KServe's webhook accepts
    // only concurrency or rps on Knative's autoscaler and cpu or memory on an HPA
    // (inference_service_validation.go `validateScalingKPACompExtension`, `validateScalingHPACompExtension`),
    // and a scaleTarget means requests in flight on one and CPU percent on the other.
    const scaling = mode === 'raw' ? { scaleMetric: 'cpu', scaleTarget: target.targetCpuUtilization }
      : mode === 'serverless' ? { scaleMetric: 'concurrency' } : {};
    // `autoscalerClass: hpa` makes KServe's webhook check the HPA metric and target at admission.
    const annotations = mode ? { [KSERVE_DEPLOYMENT_MODE]: DEPLOYMENT_MODE[mode], ...(mode === 'raw' ? { 'serving.kserve.io/autoscalerClass': 'hpa' } : {}) } : undefined;
    // The restricted profile at container level, which Knative allows: the pod's fields, repeated.
    const isvcContainerSecurity = () => ({ ...containerSecurity(), runAsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } });
    // KServe's canary rollout (ComponentExtensionSpec.canaryTrafficPercent) splits traffic between
    // Knative revisions: "Canary rollout strategy is only supported in serverless deployment mode"
    // (KServe docs, Canary Rollout Strategy). A pinned raw mode gets no field that would do nothing.
    const canary = input.canaryTrafficPercent !== undefined && mode !== 'raw' ? { canaryTrafficPercent: input.canaryTrafficPercent } : {};
    const common = {
      ...canary,
      minReplicas: target.replicas.min,
      maxReplicas: target.replicas.max,
      ...scaling,
      automountServiceAccountToken: false,
      // Only a plain Deployment takes the pod-level context: Knative refuses it unless its
      // kubernetes.podspec-securitycontext flag is on, and it is off by default.
      ...(mode === 'raw' ? { securityContext: podSecurity() } : {}),
      ...scheduling(),
      ...(input.engineCache ? { volumes: cacheVolumes() } : {}),
    };
    const predictor = engine === 'onnxruntime'
      ? {
        ...common,
        // A custom-container predictor: KServe runs our image as is. `predictor.model` would need a
        // ServingRuntime that knows our server; the container named kserve-container with PROTOCOL=v2
        // is how KServe learns a custom predictor speaks the Open Inference Protocol (v2).
        // No /tmp volume: the server writes nothing to disk, and the pod stays the same in every mode.
        containers: [{
          name: 'kserve-container',
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          // Knative accepts one port, named http1 (HTTP/1.1) or h2c.
          ports: [{ name: 'http1', containerPort: target.port, protocol: 'TCP' }],
          // No PORT: Knative reserves it and sets it to the containerPort; the image's ENV has it too.
          env: [{ name: 'PROTOCOL', value: 'v2' }],
          resources: resources(),
          readinessProbe: readinessProbe(target.port),
          livenessProbe: livenessProbe(target.port),
          securityContext: isvcContainerSecurity(),
        }],
      }
      : {
        ...common,
        // KServe's own runtime for the engine, with our image in place of the runtime's: it holds the
        // model where the runtime looks (MODEL_MOUNT), so no storageUri and no download. KServe merges
        // these container fields into the runtime's container, appends `args` to the runtime's own, and
        // keeps the runtime's resources where ours leave a key out (utils.go `MergeRuntimeContainers`),
        // so the CPU limit is set explicitly: the runtime's would cap the server at one CPU.
        model: {
          modelFormat: { ...KSERVE_RUNTIME[engine].modelFormat },
          runtime: KSERVE_RUNTIME[engine].runtime,
          protocolVersion: 'v2',
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          ...(input.runtimeArgs && input.runtimeArgs.length > 0 ? { args: [...input.runtimeArgs] } : {}),
          // The runtime serves HTTP on 8080 (its --http-port / --rest_port); validate refuses another port.
          ports: [{ name: 'http1', containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: target.resources.cpu, memory: target.resources.memory }, limits: { cpu: target.resources.cpu, memory: target.resources.memory, ...gpuLimit() } },
          startupProbe: startupProbe(8080),
          readinessProbe: readinessProbe(8080),
          livenessProbe: livenessProbe(8080),
          securityContext: isvcContainerSecurity(),
          ...(input.engineCache ? { volumeMounts: cacheMount() } : {}),
        },
      };
    return {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { ...metadata(name), ...(annotations ? { annotations } : {}) },
      spec: { predictor },
    };
  };

  const manifests: Manifests = { deployment, service, hpa };
  const kserve = resolveKserve(target.kserve, gpu);
  if (kserve) manifests.inferenceService = inferenceService(kserve.mode);
  return manifests;
}

/**
 * Validates each object against the Kubernetes OpenAPI schema (kubernetes-models). No maintained
 * package carries KServe's CRD schema, so the InferenceService is checked where it embeds core
 * types: its predictor is a PodSpec with KServe's scaling fields inlined (KServe's
 * CustomPredictor type embeds corev1.PodSpec). The name must be a DNS-1035 label, and an
 * InferenceService that may run on Knative (any mode but raw) must also pass Knative's default field
 * rules (`knativeRefusals`), or its pods would never start. Throws `CONTAINER_MANIFEST_INVALID`.
 * kubernetes-models (about 200 modules) is imported here, when a container target is checked, and
 * not by every command that loads the target registry.
 */
export async function validateManifests(manifests: Manifests): Promise<void> {
  const [{ Deployment }, { HorizontalPodAutoscaler }, { PodSpec }, { Service }] = await Promise.all([
    import('kubernetes-models/apps/v1/Deployment'), import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'),
    import('kubernetes-models/v1/PodSpec'), import('kubernetes-models/v1/Service'),
  ]);
  const check = (what: string, validate: () => void) => {
    try {
      validate();
    } catch (cause) {
      throw new DeployModelError('CONTAINER_MANIFEST_INVALID', `The generated ${what} does not match the Kubernetes API schema: ${(cause as Error).message}. Check the target's resources and replicas.`, {
        cause, details: { manifest: what },
      });
    }
  };
  // kubernetes-models does not check names. A Service name is a DNS-1035 label
  // (k8s.io/apimachinery validation `IsDNS1035Label`), as is KServe's InferenceService name
  // (inference_service_validation.go `IsvcNameFmt`); the config's name pattern allows a trailing '-'.
  const name = String((manifests.service as { metadata?: { name?: unknown } }).metadata?.name ?? '');
  if (!DNS1035_LABEL.test(name) || name.length > 63) {
    throw new DeployModelError('CONTAINER_MANIFEST_INVALID', `The name '${name}' cannot name a Kubernetes Service or a KServe InferenceService: it must start with a lowercase letter, hold only lowercase letters, digits and '-', end in a letter or a digit, and be at most 63 characters. Change the config's name (e.g. '${name.replace(/-+$/, '') || 'model'}').`, {
      details: { manifest: 'Service', name },
    });
  }
  check('Deployment', () => new Deployment(manifests.deployment as never).validate());
  check('Service', () => new Service(manifests.service as never).validate());
  check('HorizontalPodAutoscaler', () => new HorizontalPodAutoscaler(manifests.hpa as never).validate());
  if (manifests.inferenceService) {
    const isvc = manifests.inferenceService as { apiVersion?: string; kind?: string; metadata?: { name?: string; annotations?: Record<string, string> }; spec?: { predictor?: Json } };
    check('InferenceService', () => {
      if (isvc.apiVersion !== 'serving.kserve.io/v1beta1' || isvc.kind !== 'InferenceService' || !isvc.metadata?.name) {
        throw new Error('apiVersion must be serving.kserve.io/v1beta1, kind InferenceService, with metadata.name');
      }
      const predictor = isvc.spec?.predictor;
      if (!predictor) throw new Error('spec.predictor is required');
      new PodSpec(predictorAsPodSpec(predictor) as never).validate();
    });
    const mode = isvc.metadata?.annotations?.[KSERVE_DEPLOYMENT_MODE];
    const refusals = mode === 'RawDeployment' || mode === 'Standard' ? [] : knativeRefusals(predictorAsPodSpec(isvc.spec!.predictor!));
    if (refusals.length > 0) {
      throw new DeployModelError('CONTAINER_MANIFEST_INVALID', `The generated InferenceService would be refused in KServe's serverless mode (Knative, default feature flags): ${refusals.map((r) => `${r.path} ${r.rule}; ${r.fix}`).join('. ')}.`, {
        details: { manifest: 'InferenceService', refusals },
      });
    }
  }
}

// ModelSpec's own fields (predictor_model.go `ModelSpec`, PredictorExtensionSpec); the rest is the container KServe merges into the runtime's.
const MODEL_SPEC_FIELDS = new Set(['modelFormat', 'runtime', 'protocolVersion', 'storageUri', 'runtimeVersion', 'storage']);

/**
 * The predictor as the pod spec it becomes: a `model` predictor's container fields go into the
 * container named kserve-container (the runtime's own fields, merged in by KServe, are not known
 * here; test/references/kubernetes/ merges them from the runtimes' definitions).
 */
export function predictorAsPodSpec(predictor: Json): Json {
  const model = predictor.model as Json | undefined;
  if (!model) return predictor;
  const { model: _model, ...rest } = predictor;
  const container = Object.fromEntries(Object.entries(model).filter(([k]) => !MODEL_SPEC_FIELDS.has(k)));
  return { ...rest, containers: [{ name: 'kserve-container', ...container }] };
}

/** A field of the predictor that Knative or KServe's webhook would refuse, and what to do instead. */
export interface KnativeRefusal {
  path: string;
  rule: string;
  fix: string;
}

// Fields of KServe's PredictorSpec and ComponentExtensionSpec that KServe keeps to itself; the rest of
// the predictor is the pod spec it hands to Knative (kserve/kserve v0.20.0, pkg/apis/serving/v1beta1/
// predictor.go and component.go; reconcilers/knative/ksvc_reconciler.go `createKnativeService`).
const KSERVE_FIELDS = new Set(['name', 'minReplicas', 'maxReplicas', 'scaleTarget', 'scaleMetric', 'scaleMetricType', 'autoScaling',
  'containerConcurrency', 'timeout', 'canaryTrafficPercent', 'logger', 'batcher', 'labels', 'annotations', 'deploymentStrategy',
  'storageUris', 'storageContainerName', 'workerSpec', 'model', 'sklearn', 'xgboost', 'tensorflow', 'pytorch', 'triton', 'onnx',
  'huggingface', 'pmml', 'lightgbm', 'paddle']);
// knative/serving knative-v1.23.0, pkg/apis/serving/fieldmask.go: `PodSpecMask` with the default flags
// of pkg/apis/config/features.go `defaultFeaturesConfig`, `ContainerMask`, `SecurityContextMask`.
const KNATIVE_POD_FIELDS = new Set(['serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks', 'automountServiceAccountToken']);
const KNATIVE_CONTAINER_FIELDS = new Set(['name', 'args', 'command', 'env', 'workingDir', 'envFrom', 'image', 'imagePullPolicy', 'livenessProbe',
  'ports', 'readinessProbe', 'resources', 'securityContext', 'startupProbe', 'terminationMessagePath', 'terminationMessagePolicy', 'volumeMounts']);
const KNATIVE_SECURITY_FIELDS = new Set(['capabilities', 'readOnlyRootFilesystem', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'allowPrivilegeEscalation', 'seccompProfile', 'privileged']);
// pkg/apis/serving/k8s_validation.go: `validPortNames`, `reservedPorts` (queue-proxy, metrics and
// profiling ports: pkg/networking/constants.go, knative.dev/pkg ProfilingDefaultPort), `reservedEnvVars`.
const KNATIVE_PORT_NAMES = new Set(['', 'http1', 'h2c']);
const KNATIVE_RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
const KNATIVE_RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
// KServe's webhook checks the metric against Knative's autoscaler unless the mode is raw
// (inference_service_validation.go `validateAutoScalingCompExtension`; constants.go `AutoscalerAllowedKPAMetricsList`).
const KPA_METRICS = new Set(['concurrency', 'rps']);

/**
 * The essential rules a predictor breaks on Knative with its default feature flags, the ones the
 * generated manifest can break: the pod, container and security-context field masks, one port with
 * an allowed name and an unreserved number, no reserved variable, and a metric Knative scales on.
 * test/references/kubernetes/ checks the full set, written apart from this.
 */
export function knativeRefusals(predictor: Json): KnativeRefusal[] {
  const out: KnativeRefusal[] = [];
  const refuse = (path: string, rule: string, fix: string) => out.push({ path: `spec.predictor.${path}`, rule, fix });
  const raw = "set kserve: { mode: 'raw' } to run it as a plain Deployment";
  for (const key of Object.keys(predictor)) {
    if (KSERVE_FIELDS.has(key) || KNATIVE_POD_FIELDS.has(key)) continue;
    const flag = key === 'securityContext' ? 'kubernetes.podspec-securitycontext' : key === 'nodeSelector' ? 'kubernetes.podspec-nodeselector' : key === 'tolerations' ? 'kubernetes.podspec-tolerations' : undefined;
    const rule = key === 'securityContext' ? "is refused: a pod-level securityContext needs Knative's kubernetes.podspec-securitycontext flag, off by default"
      : flag ? `is refused: it needs Knative's ${flag} flag, off by default` : 'is not a pod field Knative allows with its default flags';
    refuse(key, rule, flag && flag !== 'kubernetes.podspec-securitycontext' ? `${raw}, or enable ${flag} in Knative's config-features` : raw);
  }
  if (predictor.automountServiceAccountToken === true) refuse('automountServiceAccountToken', 'may only be false on Knative', raw);
  ((predictor.volumes ?? []) as Json[]).forEach((v, i) => {
    if (v.persistentVolumeClaim !== undefined) refuse(`volumes[${i}].persistentVolumeClaim`, "needs Knative's kubernetes.podspec-persistent-volume-claim flag, off by default", raw);
  });
  if (typeof predictor.scaleMetric === 'string' && !KPA_METRICS.has(predictor.scaleMetric)) {
    refuse('scaleMetric', `'${predictor.scaleMetric}' is not a metric Knative's autoscaler scales on (concurrency, rps)`, raw);
  }
  const containers = (predictor.containers ?? []) as Json[];
  if (containers.flatMap((c) => (c.ports ?? []) as Json[]).length > 1) refuse('containers[*].ports', 'declares more than one port; Knative routes to exactly one', raw);
  containers.forEach((c, i) => {
    const at = `containers[${i}]`;
    for (const key of Object.keys(c)) if (!KNATIVE_CONTAINER_FIELDS.has(key)) refuse(`${at}.${key}`, 'is not a container field Knative allows', raw);
    const sc = (c.securityContext ?? {}) as Json;
    for (const key of Object.keys(sc)) if (!KNATIVE_SECURITY_FIELDS.has(key)) refuse(`${at}.securityContext.${key}`, 'is not a securityContext field Knative allows', raw);
    if (sc.privileged === true) refuse(`${at}.securityContext.privileged`, 'may only be false on Knative', raw);
    if ((sc.capabilities as Json | undefined)?.add) refuse(`${at}.securityContext.capabilities.add`, "needs Knative's kubernetes.containerspec-addcapabilities flag, off by default", raw);
    ((c.ports ?? []) as Json[]).forEach((p, j) => {
      if (!KNATIVE_PORT_NAMES.has((p.name as string | undefined) ?? '')) refuse(`${at}.ports[${j}].name`, `'${p.name}' is not a port name Knative allows (http1, h2c or none)`, raw);
      if (p.protocol !== undefined && p.protocol !== 'TCP') refuse(`${at}.ports[${j}].protocol`, `'${p.protocol}' is not TCP`, raw);
      if (KNATIVE_RESERVED_PORTS.has(p.containerPort as number)) {
        refuse(`${at}.ports[${j}].containerPort`, `${p.containerPort} is reserved by Knative (8012, 8013, 8022, 8008, 9090, 9091 are its queue-proxy's)`, `set the container target's port to another number (8080 is the default), or ${raw}`);
      }
    });
    ((c.env ?? []) as Json[]).forEach((e, j) => {
      if (KNATIVE_RESERVED_ENV.has(e.name as string)) refuse(`${at}.env[${j}]`, `sets ${e.name}, which Knative reserves and sets itself`, raw);
    });
  });
  return out;
}

/** The file each object is written to, under `k8s/`, in the order they are written. */
export const MANIFEST_FILES: Readonly<Record<keyof Manifests, string>> = {
  deployment: 'deployment.yaml', service: 'service.yaml', hpa: 'hpa.yaml', inferenceService: 'inferenceservice.yaml',
};

// yaml is required when a manifest is rendered (it is CommonJS, so this stays synchronous), not
// whenever the target registry loads.
const require = createRequire(import.meta.url);
const yaml = (): typeof import('yaml') => require('yaml') as typeof import('yaml');

/** One object as its file holds it: a header, then plain YAML with no anchors or aliases. */
export function renderManifest(object: Json): string {
  return `# Generated by deploy-model; re-run the build to change it.\n${yaml().stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/**
 * The objects with no canary share on the InferenceService: what a rollback writes, so that the
 * restored image, once applied, takes all of KServe's traffic instead of starting a canary.
 */
export function withoutCanary(manifests: Manifests): Manifests {
  const isvc = manifests.inferenceService as { spec?: { predictor?: Json } } | undefined;
  if (!isvc?.spec?.predictor || !('canaryTrafficPercent' in isvc.spec.predictor)) return manifests;
  const { canaryTrafficPercent: _dropped, ...predictor } = isvc.spec.predictor;
  return { ...manifests, inferenceService: { ...isvc, spec: { ...isvc.spec, predictor } } };
}

/**
 * The planned objects with every string equal to `placeholder` (the planned image reference, whose
 * content tag only the build knows) replaced by `image`. The plan is left as it is.
 */
export function withImage(manifests: Manifests, placeholder: string, image: string): Manifests {
  const fill = (value: unknown): unknown => {
    if (value === placeholder) return image;
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(manifests) as Manifests;
}

export interface WrittenManifests {
  dir: string;
  files: string[];
}

/** Validates, then writes `<outDir>/k8s/<kind>.yaml`, one object per file. */
export async function writeManifests(manifests: Manifests, outDir: string, io?: IoHelper): Promise<WrittenManifests> {
  await validateManifests(manifests);
  const dir = join(outDir, 'k8s');
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const key of Object.keys(MANIFEST_FILES) as (keyof Manifests)[]) {
    const object = manifests[key];
    const file = join(dir, MANIFEST_FILES[key]);
    if (!object) {
      // A manifest turned off since the last build (kserve: false) must not linger.
      await rm(file, { force: true });
      continue;
    }
    await writeFile(file, renderManifest(object));
    files.push(file);
  }
  io?.info('DM_CONTAINER_MANIFESTS', `Wrote ${files.length} Kubernetes manifests to ${dir}`, { dir, files });
  return { dir, files };
}
