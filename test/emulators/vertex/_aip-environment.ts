/**
 * The variables Vertex AI sets in a custom container when it deploys a Model, with their values,
 * from Google Cloud's "Custom container requirements for prediction", section "Environment
 * variables available in the container" / "Variables set by Vertex AI" (document version 1.0.0),
 * and the defaults of `ModelContainerSpec.ports`, `predict_route` and `health_route` in
 * `google/cloud/aiplatform/v1/model.proto`.
 */
export interface AipContext {
  projectNumber: string;
  /** The last segment of the Endpoint's name. */
  endpointId: string;
  deployedModelId: string;
  /** Vertex AI's copy of the Model's artifactUri, or '' when the Model has none. */
  storageUri: string;
  containerSpec: { ports?: Array<{ containerPort?: number }>; healthRoute?: string; predictRoute?: string };
  machineSpec: { machineType?: string; acceleratorType?: string };
}

/** The container port Vertex AI sends health checks and predictions to: the first listed, else 8080. */
export function aipHttpPort(containerSpec: AipContext['containerSpec']): number {
  return Number(containerSpec.ports?.[0]?.containerPort ?? 8080);
}

export function aipEnvironment(c: AipContext): Record<string, string> {
  const route = `/v1/endpoints/${c.endpointId}/deployedModels/${c.deployedModelId}`;
  const accelerator = c.machineSpec.acceleratorType;
  return {
    // Unset when the machine has no accelerator.
    ...(accelerator && accelerator !== 'ACCELERATOR_TYPE_UNSPECIFIED' ? { AIP_ACCELERATOR_TYPE: accelerator } : {}),
    AIP_DEPLOYED_MODEL_ID: c.deployedModelId,
    AIP_ENDPOINT_ID: c.endpointId,
    AIP_FRAMEWORK: 'CUSTOM_CONTAINER',
    AIP_HEALTH_ROUTE: c.containerSpec.healthRoute || route,
    AIP_HTTP_PORT: String(aipHttpPort(c.containerSpec)),
    AIP_MACHINE_TYPE: c.machineSpec.machineType ?? '',
    AIP_MODE: 'PREDICTION',
    AIP_MODE_VERSION: '1.0.0',
    // Kept for compatibility: the endpoint id and the deployed model id again.
    AIP_MODEL_NAME: c.endpointId,
    AIP_PREDICT_ROUTE: c.containerSpec.predictRoute || `${route}:predict`,
    AIP_PROJECT_NUMBER: c.projectNumber,
    AIP_STORAGE_URI: c.storageUri,
    AIP_VERSION_NAME: c.deployedModelId,
  };
}
