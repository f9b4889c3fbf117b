import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodSpec } from 'kubernetes-models/v1/PodSpec';
import { Service } from 'kubernetes-models/v1/Service';
import { stringify } from 'yaml';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { CONTAINER_UID } from './dockerfile.js';
import type { ContainerTargetConfig } from './schema.js';

type Json = Record<string, unknown>;

export interface ManifestInput {
  /** The config name: every object's name and the `app.kubernetes.io/name` label. */
  name: string;
  /** The immutable content reference, `<repository>:<content tag>`. */
  image: string;
  target: Pick<ContainerTargetConfig, 'port' | 'resources' | 'replicas' | 'targetCpuUtilization' | 'kserve'>;
  /** @default - none (the namespace of `kubectl apply`) */
  namespace?: string;
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

/**
 * The Kubernetes objects for the image, as plain data: a Deployment, a ClusterIP Service, an
 * autoscaling/v2 HorizontalPodAutoscaler on CPU and, unless `kserve: false`, a KServe
 * InferenceService. The pod meets the Pod Security "restricted" profile: non-root uid 10001, no
 * privilege escalation, every capability dropped, the RuntimeDefault seccomp profile, a read-only
 * root filesystem with an emptyDir on /tmp (and HOME there).
 */
export function planManifests(input: ManifestInput): Manifests {
  const { name, target } = input;
  // Functions, not shared objects: every object gets its own copy, so editing one never edits another.
  const selector = () => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'predictor' });
  const labels = () => ({ ...selector(), 'app.kubernetes.io/managed-by': 'deploy-model' });
  const metadata = (objectName: string) => ({ name: objectName, ...(input.namespace ? { namespace: input.namespace } : {}), labels: labels() });
  const resources = () => ({ requests: { cpu: target.resources.cpu, memory: target.resources.memory }, limits: { memory: target.resources.memory } });
  const podSecurity = () => ({ runAsNonRoot: true, runAsUser: CONTAINER_UID, runAsGroup: CONTAINER_UID, seccompProfile: { type: 'RuntimeDefault' } });
  const containerSecurity = () => ({
    runAsNonRoot: true, runAsUser: CONTAINER_UID, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
  });
  const probes = (port: string) => ({
    // The model loads before the server listens; the startup probe gives it a minute before liveness counts.
    startupProbe: { httpGet: { path: LIVE_PATH, port }, periodSeconds: 2, failureThreshold: 30 },
    readinessProbe: { httpGet: { path: READY_PATH, port }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: LIVE_PATH, port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
  });

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
          containers: [{
            name: 'server',
            image: input.image,
            // The tag is the content hash: a given tag never changes, so a cached copy is right.
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: target.port, protocol: 'TCP' }],
            env: [{ name: 'PORT', value: String(target.port) }, { name: 'HOME', value: '/tmp' }],
            resources: resources(),
            ...probes('http'),
            securityContext: containerSecurity(),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
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

  const manifests: Manifests = { deployment, service, hpa };
  if (target.kserve) {
    // A custom-container predictor: KServe runs our image as is. `predictor.model` would need a
    // ServingRuntime that knows our server; the container named kserve-container with PROTOCOL=v2
    // is how KServe learns a custom predictor speaks the Open Inference Protocol (v2).
    // No /tmp volume here: Knative (KServe's serverless mode) rejects emptyDir unless a feature
    // flag is on, and the server writes nothing to disk.
    manifests.inferenceService = {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: metadata(name),
      spec: {
        predictor: {
          minReplicas: target.replicas.min,
          maxReplicas: target.replicas.max,
          scaleMetric: 'cpu',
          scaleTarget: target.targetCpuUtilization,
          securityContext: podSecurity(),
          containers: [{
            name: 'kserve-container',
            image: input.image,
            imagePullPolicy: 'IfNotPresent',
            // Knative accepts one port, named http1 (HTTP/1.1) or h2c.
            ports: [{ name: 'http1', containerPort: target.port, protocol: 'TCP' }],
            env: [{ name: 'PROTOCOL', value: 'v2' }, { name: 'PORT', value: String(target.port) }],
            resources: resources(),
            readinessProbe: { httpGet: { path: READY_PATH, port: target.port }, periodSeconds: 5, failureThreshold: 2 },
            livenessProbe: { httpGet: { path: LIVE_PATH, port: target.port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
            securityContext: containerSecurity(),
          }],
        },
      },
    };
  }
  return manifests;
}

/**
 * Validates each object against the Kubernetes OpenAPI schema (kubernetes-models). No maintained
 * package carries KServe's CRD schema, so the InferenceService is checked where it embeds core
 * types: its predictor is a PodSpec with KServe's scaling fields inlined (KServe's
 * CustomPredictor type embeds corev1.PodSpec). Throws `CONTAINER_MANIFEST_INVALID`.
 */
export function validateManifests(manifests: Manifests): void {
  const check = (what: string, validate: () => void) => {
    try {
      validate();
    } catch (cause) {
      throw new DeployModelError('CONTAINER_MANIFEST_INVALID', `The generated ${what} does not match the Kubernetes API schema: ${(cause as Error).message}. Check the target's resources and replicas.`, {
        cause, details: { manifest: what },
      });
    }
  };
  check('Deployment', () => new Deployment(manifests.deployment as never).validate());
  check('Service', () => new Service(manifests.service as never).validate());
  check('HorizontalPodAutoscaler', () => new HorizontalPodAutoscaler(manifests.hpa as never).validate());
  if (manifests.inferenceService) {
    const isvc = manifests.inferenceService as { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: { predictor?: Json } };
    check('InferenceService', () => {
      if (isvc.apiVersion !== 'serving.kserve.io/v1beta1' || isvc.kind !== 'InferenceService' || !isvc.metadata?.name) {
        throw new Error('apiVersion must be serving.kserve.io/v1beta1, kind InferenceService, with metadata.name');
      }
      const predictor = isvc.spec?.predictor;
      if (!predictor) throw new Error('spec.predictor is required');
      new PodSpec(predictor as never).validate();
    });
  }
}

export interface WrittenManifests {
  dir: string;
  files: string[];
}

/** Validates, then writes `<outDir>/k8s/<kind>.yaml`, one object per file. */
export async function writeManifests(manifests: Manifests, outDir: string, io?: IoHelper): Promise<WrittenManifests> {
  validateManifests(manifests);
  const dir = join(outDir, 'k8s');
  await mkdir(dir, { recursive: true });
  const names: Record<keyof Manifests, string> = { deployment: 'deployment', service: 'service', hpa: 'hpa', inferenceService: 'inferenceservice' };
  const files: string[] = [];
  for (const key of Object.keys(names) as (keyof Manifests)[]) {
    const object = manifests[key];
    const file = join(dir, `${names[key]}.yaml`);
    if (!object) {
      // A manifest turned off since the last build (kserve: false) must not linger.
      await rm(file, { force: true });
      continue;
    }
    await writeFile(file, `# Generated by deploy-model; re-run the build to change it.\n${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`);
    files.push(file);
  }
  io?.info('DM_CONTAINER_MANIFESTS', `Wrote ${files.length} Kubernetes manifests to ${dir}`, { dir, files });
  return { dir, files };
}
