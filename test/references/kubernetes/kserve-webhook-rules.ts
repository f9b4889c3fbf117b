// KServe's admission rules for an InferenceService's predictor, written for tests from kserve/kserve
// tag v0.20.0 (commit 1fb781055dd1567164358233e1125142ca6ef1fe):
//   pkg/apis/serving/v1beta1/inference_service_validation.go  the validating webhook (`validateInferenceService`)
//   pkg/apis/serving/v1beta1/inference_service_defaults.go    the defaulting webhook, which runs first
//   pkg/apis/serving/v1beta1/component.go, predictor.go, predictor_custom.go  the predictor's types and checks
//   pkg/constants/constants.go                                the mode, class and metric names
//   pkg/controller/v1beta1/inferenceservice/utils/utils.go    `GetDeploymentMode`
//   pkg/validation/env_policy.go                              `DefaultBlockedEnvVars`
//   config/configmap/inferenceservice.yaml                    the default install's defaultDeploymentMode
// The structure and the code are ours; each rule names the upstream function it follows.
import { isObject, objects, type Json, type Violation } from './violation.js';

/**
 * The predictor's own fields: PredictorSpec (predictor.go) and the ComponentExtensionSpec it inlines
 * (component.go). Everything else in the predictor is the PodSpec it also inlines, which KServe hands
 * to Knative as the revision's pod spec in serverless mode (reconcilers/knative/ksvc_reconciler.go
 * `createKnativeService`: `PodSpec: *podSpec`) and to a Deployment in raw mode.
 */
export const PREDICTOR_OWN_FIELDS = [
  'name', 'sklearn', 'xgboost', 'tensorflow', 'pytorch', 'triton', 'onnx', 'huggingface', 'pmml', 'lightgbm', 'paddle', 'model',
  'storageUris', 'storageContainerName', 'workerSpec',
  'minReplicas', 'maxReplicas', 'scaleTarget', 'scaleMetric', 'scaleMetricType', 'autoScaling', 'containerConcurrency', 'timeout',
  'canaryTrafficPercent', 'logger', 'batcher', 'labels', 'annotations', 'deploymentStrategy',
] as const;
const FRAMEWORKS = ['sklearn', 'xgboost', 'tensorflow', 'pytorch', 'triton', 'onnx', 'huggingface', 'pmml', 'lightgbm', 'paddle', 'model'];

/** The pod spec inside a predictor: what Knative (serverless) or the Deployment (raw) receives. */
export function predictorPodSpec(predictor: Json): Json {
  const own = new Set<string>(PREDICTOR_OWN_FIELDS);
  return Object.fromEntries(Object.entries(predictor).filter(([k]) => !own.has(k)));
}

export const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
const AUTOSCALER_CLASS_ANNOTATION = 'serving.kserve.io/autoscalerClass';
const KNATIVE_CLASS_ANNOTATION = 'autoscaling.knative.dev/class';
// constants.go `DeploymentModeType`: the current names and the legacy ones `ParseDeploymentMode` maps to them.
const MODES: Record<string, string> = { Knative: 'Knative', Serverless: 'Knative', Standard: 'Standard', RawDeployment: 'Standard', ModelMesh: 'ModelMesh' };
// constants.go `AutoscalerAllowedClassList`, `AutoscalerAllowedHPAMetricsList`, `AutoscalerAllowedKPAMetricsList`.
const AUTOSCALER_CLASSES = new Set(['hpa', 'external', 'keda', 'none']);
const HPA_METRICS = new Set(['cpu', 'memory']);
const KPA_METRICS = new Set(['concurrency', 'rps']);
// inference_service_validation.go `IsvcNameFmt`.
const ISVC_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// predictor_custom.go `validateCustomProtocol`: constants.go ProtocolV1, ProtocolV2.
const PROTOCOLS = new Set(['v1', 'v2']);
// env_policy.go `DefaultBlockedEnvVars`.
const BLOCKED_ENV = new Set(['PYTHONPATH']);

export const KSERVE_WEBHOOK_RULES = ['isvc-name', 'deployment-mode', 'autoscaler-class', 'autoscaling', 'replicas', 'custom-predictor', 'blocked-env'] as const;
export type KserveWebhookRule = (typeof KSERVE_WEBHOOK_RULES)[number];

export interface KserveCluster {
  /**
   * The `deploy.defaultDeploymentMode` of the inferenceservice-config ConfigMap.
   * @default 'Serverless' (config/configmap/inferenceservice.yaml; the Helm chart's `deploymentMode: Knative`)
   */
  defaultDeploymentMode?: 'Serverless' | 'Knative' | 'RawDeployment' | 'Standard';
}

/** The mode the controller runs the InferenceService in (utils.go `GetDeploymentMode`). */
export function effectiveDeploymentMode(isvc: Json, cluster: KserveCluster = {}): string {
  const annotation = annotationsOf(isvc)[DEPLOYMENT_MODE_ANNOTATION];
  return MODES[annotation ?? ''] ?? MODES[cluster.defaultDeploymentMode ?? 'Serverless']!;
}

/** What KServe's defaulting then validating webhooks refuse in `isvc`, on a cluster configured as given. */
export function kserveWebhookViolations(isvc: Json, cluster: KserveCluster = {}): Violation[] {
  const out: Violation[] = [];
  const refuse = (rule: KserveWebhookRule, path: string, message: string) => out.push({ rule, path, message });
  const metadata = isObject(isvc.metadata) ? isvc.metadata : {};
  const written = annotationsOf(isvc);
  const spec = isObject(isvc.spec) ? isvc.spec : {};
  const predictor = isObject(spec.predictor) ? spec.predictor : {};

  // `validateInferenceServiceName`.
  if (!ISVC_NAME.test(String(metadata.name ?? ''))) refuse('isvc-name', 'metadata.name', `the InferenceService "${String(metadata.name)}" is invalid: a name must match ${ISVC_NAME.source}`);

  // `GetDeploymentMode` falls back to the cluster default for a value it does not know, silently:
  // a misspelt mode is a manifest that runs in the wrong mode.
  const mode = written[DEPLOYMENT_MODE_ANNOTATION];
  if (mode !== undefined && !(mode in MODES)) refuse('deployment-mode', `metadata.annotations.${DEPLOYMENT_MODE_ANNOTATION}`, `"${mode}" is not a deployment mode KServe knows (${Object.keys(MODES).join(', ')})`);

  // `DefaultInferenceService` (the defaulting webhook) rewrites the legacy names and writes the cluster
  // default when it is Standard or ModelMesh; the validating webhook sees that result.
  const annotations = { ...written };
  if (mode === 'RawDeployment') annotations[DEPLOYMENT_MODE_ANNOTATION] = 'Standard';
  if (mode === 'Serverless') annotations[DEPLOYMENT_MODE_ANNOTATION] = 'Knative';
  const clusterDefault = MODES[cluster.defaultDeploymentMode ?? 'Serverless'];
  if (mode === undefined && (clusterDefault === 'Standard' || clusterDefault === 'ModelMesh')) annotations[DEPLOYMENT_MODE_ANNOTATION] = clusterDefault!;

  // `validateInferenceServiceAutoscaler`.
  const autoscalerClass = annotations[AUTOSCALER_CLASS_ANNOTATION];
  if (autoscalerClass !== undefined && !AUTOSCALER_CLASSES.has(autoscalerClass)) refuse('autoscaler-class', `metadata.annotations.${AUTOSCALER_CLASS_ANNOTATION}`, `[${autoscalerClass}] is not a supported autoscaler class type`);

  // `validateAutoScalingCompExtension`, with `validateScalingHPACompExtension`, `validateScalingKedaCompExtension`
  // and `validateScalingKPACompExtension`. It reads the annotation as written after defaulting, so only
  // "Standard" counts as raw here.
  const metric = predictor.scaleMetric as string | undefined;
  const target = predictor.scaleTarget as number | undefined;
  const hpa = () => {
    const m = metric ?? 'cpu';
    if (!HPA_METRICS.has(m)) refuse('autoscaling', 'spec.predictor.scaleMetric', `[${m}] is not a supported metric`);
    if (target !== undefined && ((m === 'cpu' && target < 1) || target > 100)) refuse('autoscaling', 'spec.predictor.scaleTarget', 'the target utilization percentage should be a [1-100] integer');
    if (target !== undefined && m === 'memory' && target < 1) refuse('autoscaling', 'spec.predictor.scaleTarget', 'the target memory should be greater than 1 MiB');
  };
  if (annotations[DEPLOYMENT_MODE_ANNOTATION] === 'Standard') {
    if (autoscalerClass === 'hpa') hpa();
    if (autoscalerClass === 'keda' && metric !== undefined) refuse('autoscaling', 'spec.predictor.scaleMetric', 'ScaleMetric is not supported for KEDA');
  } else if (annotations[KNATIVE_CLASS_ANNOTATION] === 'hpa.autoscaling.knative.dev') {
    hpa();
  } else {
    if (predictor.deploymentStrategy !== undefined) refuse('autoscaling', 'spec.predictor.deploymentStrategy', 'customizing deploymentStrategy is only supported for raw deployment mode');
    const m = metric ?? 'concurrency';
    if (!KPA_METRICS.has(m)) refuse('autoscaling', 'spec.predictor.scaleMetric', `[${m}] is not a supported metric`);
    if (m === 'rps' && target !== undefined && target < 1) refuse('autoscaling', 'spec.predictor.scaleTarget', 'the target for rps should be greater than 1');
  }

  // component.go `validateReplicas` (minReplicas defaults to constants.go DefaultMinReplicas, 1).
  const min = (predictor.minReplicas as number | undefined) ?? 1;
  const max = (predictor.maxReplicas as number | undefined) ?? 0;
  if (min < 0) refuse('replicas', 'spec.predictor.minReplicas', "'MinReplicas' cannot be less than 0");
  if (max < 0) refuse('replicas', 'spec.predictor.maxReplicas', "'MaxReplicas' cannot be less than 0");
  if (min > max && max !== 0) refuse('replicas', 'spec.predictor.minReplicas', "'MinReplicas' cannot be greater than MaxReplicas");

  // `validateExactlyOneImplementation` with predictor.go `GetImplementations` (containers make a custom
  // predictor), and predictor_custom.go `validateCustomProtocol` on the first container.
  const containers = objects(predictor.containers);
  const implementations = FRAMEWORKS.filter((f) => predictor[f] !== undefined).length + (containers.length > 0 ? 1 : 0);
  if (implementations !== 1) refuse('custom-predictor', 'spec.predictor', `exactly one implementation is required, found ${implementations}`);
  const protocol = objects(containers[0]?.env).find((e) => e.name === 'PROTOCOL');
  if (protocol && !PROTOCOLS.has(String(protocol.value))) refuse('custom-predictor', 'spec.predictor.containers[0].env', `PROTOCOL "${String(protocol.value)}" is not one of v1, v2`);

  // `validateBlockedEnvVars` with env_policy.go `ValidateBlockedEnvVars`.
  containers.forEach((c, i) => objects(c.env).forEach((e, j) => {
    if (BLOCKED_ENV.has(e.name as string)) refuse('blocked-env', `spec.predictor.containers[${i}].env[${j}]`, `setting ${String(e.name)} in container "${String(c.name)}" is not allowed for security reasons`);
  }));
  return out;
}

function annotationsOf(isvc: Json): Record<string, string> {
  const metadata = isObject(isvc.metadata) ? isvc.metadata : {};
  return isObject(metadata.annotations) ? (metadata.annotations as Record<string, string>) : {};
}
