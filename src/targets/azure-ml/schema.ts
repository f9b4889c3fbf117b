/** The azure-ml config entry: subscription, workspace, instances, auth mode, probes and request settings, Triton options. */
import { z } from 'zod';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { checkTritonOptions, tritonOptionsShape } from '../../kits/triton/schema.js';
import { azureInstanceTypeProblem } from './instance-types.js';

// Azure ML picks the Triton image of a no-code (triton_model) deployment, so the shared
// tritonVersion has nothing to choose here; it is refused below rather than silently ignored.
const { tritonVersion: _notOnAzure, ...tritonOptionsOnAzure } = tritonOptionsShape;

/** Counts and seconds are int32 in the ARM API (ProbeSettings, OnlineRequestSettings). */
const INT32_MAX = 2 ** 31 - 1;

/**
 * A probe's fields, each overriding the derived value (`planRuntimeSettings`). Minimums are Azure's
 * (CLI v2 managed online deployment YAML schema, ProbeSettings: initial_delay and timeout at least
 * 1, thresholds at least 1, the liveness probe's success_threshold fixed at 1) and Kubernetes' for
 * the period (periodSeconds at least 1).
 */
function probeSchema<S extends z.ZodType<number>>(kind: 'liveness' | 'readiness', successThreshold: S) {
  const derived = kind === 'liveness'
    ? { initialDelay: 'the start-up budget (600 s; with engine tensorrt and warmup 900 s fp32, 1200 s fp16, 1800 s int8)', failureThreshold: '6' }
    : { initialDelay: '10', failureThreshold: 'enough periods to cover the start-up budget, or the liveness initialDelaySeconds when set (59 to 179 at 10 s)' };
  const seconds = (what: string, def: string) => z.number().int().min(1).max(INT32_MAX).optional().describe(`${what}, in seconds. Default: ${def}.`);
  return z
    .object({
      /** @default - see the description (derived from engine, precision and warmup) */
      initialDelaySeconds: seconds('Wait after the container starts before the first probe', derived.initialDelay),
      /** @default 10 */
      periodSeconds: seconds('Time between probes', '10'),
      /** @default 2 */
      timeoutSeconds: seconds('How long one probe may take', '2'),
      /** @default - see the description */
      failureThreshold: z.number().int().min(1).max(INT32_MAX).optional()
        .describe(`Failed probes in a row before the container is ${kind === 'liveness' ? 'restarted' : 'taken out of traffic'}. Default: ${derived.failureThreshold}.`),
      /** @default 1 */
      successThreshold: successThreshold.optional()
        .describe(`Passed probes in a row before the container counts as ${kind === 'liveness' ? 'alive (Azure fixes it at 1)' : 'ready'}. Default: 1.`),
    })
    .strict()
    .optional();
}

/** How long one long-running Azure ML operation is waited for unless the config says otherwise. */
export const DEFAULT_AZURE_OPERATION_TIMEOUT_MINUTES = 60;

/** Online endpoint names: 3-32 characters, a letter first, letters, digits and -, unique in the region. */
export const AZURE_ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

export const azureMlTargetSchema = z
  .object({
    type: z.literal('azure-ml'),
    /** The subscription id (a GUID). */
    subscriptionId: z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000); see `az account show --query id`')
      .describe('The Azure subscription id (a GUID; `az account show --query id`).'),
    /** The resource group of the workspace. */
    resourceGroup: z.string().regex(/^[-\w._()]{0,89}[-\w_()]$/, 'must be a resource group name: 1-90 letters, digits, - _ . ( ), not ending with a period')
      .describe('The resource group of the workspace.'),
    /** The Azure Machine Learning workspace. */
    workspace: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/, 'must be a workspace name: 3-33 letters, digits, - and _, starting with a letter or digit')
      .describe('The Azure Machine Learning workspace name.'),
    /** The VM SKU of each instance, e.g. `Standard_NC4as_T4_v3`; must carry an NVIDIA GPU. */
    instanceType: z.string().regex(/^Standard_[A-Za-z0-9_]+$/, 'must be an Azure VM SKU such as Standard_NC4as_T4_v3')
      .describe('The VM SKU of each instance, with an NVIDIA GPU (NC, ND or NV families), e.g. Standard_NC4as_T4_v3.'),
    /**
     * VM instances of the deployment; each is billed per hour while it exists, even when idle.
     * @default 1
     */
    instanceCount: z.number().int().min(1).max(500).default(1)
      .describe('VM instances of the deployment (each is billed per hour while deployed, even idle). Default: 1.'),
    /**
     * How clients authenticate to the scoring URI: `key` (endpoint keys) or `aml_token`
     * (short-lived Azure ML tokens). Fixed when the endpoint is created.
     * @default 'key'
     */
    authMode: z.enum(['key', 'aml_token']).default('key')
      .describe("How clients authenticate to the scoring URI: 'key' (endpoint keys) or 'aml_token' (Azure ML tokens); fixed when the endpoint is created. Default: 'key'."),
    /**
     * The online endpoint's name; it is part of the scoring URI and unique in the Azure region.
     * @default - `<name>-<stage>-<target>`, lowercased, shortened with a hash to 32 characters
     */
    endpointName: z.string().regex(AZURE_ENDPOINT_NAME, 'must be 3-32 characters: a letter first, then letters, digits and -, not ending with -').optional()
      .describe('The online endpoint name, unique in the Azure region (3-32 chars). Default: <name>-<stage>-<target>, shortened with a hash to 32 characters.'),
    /**
     * How long deploy-model waits for one long-running operation (creating the endpoint or a
     * deployment, moving traffic, deleting) before it fails with AZURE_OPERATION_TIMEOUT. GPU
     * deployments usually take 10 to 20 minutes.
     * @default 60
     */
    operationTimeoutMinutes: z.number().positive().max(24 * 60).default(DEFAULT_AZURE_OPERATION_TIMEOUT_MINUTES)
      .describe(`How long one long-running operation (endpoint, deployment, traffic, delete) is waited for. Default: ${DEFAULT_AZURE_OPERATION_TIMEOUT_MINUTES}.`),
    /**
     * The liveness probe (Triton's `/v2/health/live`); a container that fails it is restarted.
     * @default - derived: it waits out the start-up budget, since Triton answers nothing while it
     * builds TensorRT engines (see docs/azure-ml.md)
     */
    livenessProbe: probeSchema('liveness', z.literal(1))
      .describe('Liveness probe; a failing container is restarted. Any field overrides the derived one. Default: derived from engine, precision and warmup (waits out the start-up budget, then 6 x 10 s).'),
    /**
     * The readiness probe (Triton's `/v2/health/ready`); a container that fails it gets no traffic.
     * @default - derived: from 10 s on, every 10 s, for as long as the start-up budget
     */
    readinessProbe: probeSchema('readiness', z.number().int().min(1).max(INT32_MAX))
      .describe('Readiness probe; a failing container gets no traffic. Any field overrides the derived one. Default: derived (every 10 s from 10 s on, for the whole start-up budget).'),
    /**
     * How the endpoint hands requests to each instance.
     * @default - derived: 60 s timeout (180 s, the managed endpoint's maximum, when a TensorRT
     * engine is built by the first request), 2 concurrent requests per model instance (a batch's
     * worth with `model.batching`), 500 ms queue wait
     */
    requestSettings: z
      .object({
        /** @default - 60000; 180000 with engine 'tensorrt' and warmup off */
        requestTimeoutMs: z.number().int().min(1).max(180_000).optional()
          .describe("How long one scoring request may take, in ms; managed online endpoints allow at most 180000. Default: 60000, or 180000 with engine 'tensorrt' and warmup off (the first request builds the engine)."),
        /** @default - instancesPerGpu x 2 (x model.batching.maxBatchSize when larger) */
        maxConcurrentRequestsPerInstance: z.number().int().min(1).max(INT32_MAX).optional()
          .describe('Requests one instance works on at once; more get 429. Default: instancesPerGpu x 2, or instancesPerGpu x model.batching.maxBatchSize when the model batches.'),
        /** @default 500 */
        maxQueueWaitMs: z.number().int().min(0).max(INT32_MAX).optional()
          .describe('How long a request may wait for a free slot before it gets 429, in ms. Default: 500.'),
      })
      .strict()
      .optional()
      .describe('Scoring request settings. Any field overrides the derived one. Default: derived (60 s timeout, 180 s when the first request builds a TensorRT engine; 2 requests per model instance; 500 ms queue wait).'),
    /**
     * How traffic moves to a new version: through the endpoint's traffic map (the new deployment
     * gets each step's share of the scoring requests, the serving one the rest), checked at each step.
     * @default - all at once, after the smoke test
     */
    rollout: rolloutSchema.optional()
      .describe("How traffic moves to a new deployment through the endpoint's traffic map: 'canary' or 'linear' steps, each checked against the alarms and the golden smoke test. Default: all at once, after the smoke test."),
    ...tritonOptionsOnAzure,
    /** Refused: Azure ML picks the Triton image of a no-code deployment, so there is no release to choose. */
    tritonVersion: z.unknown().optional()
      .describe('Not accepted on azure-ml: Azure ML picks the Triton image of a no-code deployment, and the generated config.pbtxt does not depend on the release. Default: none.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    checkTritonOptions(value, ctx);
    if (value.tritonVersion !== undefined) {
      ctx.addIssue({
        code: 'custom', path: ['tritonVersion'],
        message: 'azure-ml does not use tritonVersion: Azure ML chooses the Triton image of a no-code (triton_model) deployment, and the config.pbtxt deploy-model writes does not depend on the release; remove tritonVersion from this target',
      });
    }
    const problem = azureInstanceTypeProblem(value.instanceType, value.engine);
    if (problem) ctx.addIssue({ code: 'custom', path: ['instanceType'], message: problem });
  })
  .describe('An Azure ML managed online endpoint on GPUs: NVIDIA Triton (no-code deployment of a triton_model), blue/green deployments.');

export type AzureMlTargetInput = z.input<typeof azureMlTargetSchema>;
export type AzureMlTargetConfig = z.output<typeof azureMlTargetSchema>;
