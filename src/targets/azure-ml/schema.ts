import { z } from 'zod';
import { checkTritonOptions, tritonOptionsShape } from '../triton/schema.js';
import { azureInstanceTypeProblem } from './instance-types.js';

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
    ...tritonOptionsShape,
  })
  .strict()
  .superRefine((value, ctx) => {
    checkTritonOptions(value, ctx);
    const problem = azureInstanceTypeProblem(value.instanceType, value.engine);
    if (problem) ctx.addIssue({ code: 'custom', path: ['instanceType'], message: problem });
  })
  .describe('An Azure ML managed online endpoint on GPUs: NVIDIA Triton (no-code deployment of a triton_model), blue/green deployments.');

export type AzureMlTargetInput = z.input<typeof azureMlTargetSchema>;
export type AzureMlTargetConfig = z.output<typeof azureMlTargetSchema>;
