/** The gcp-vertex config entry: project, region, machine and GPU, replicas, the Triton image, the staging bucket. */
import { z } from 'zod';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { checkTritonOptions, tritonOptionsShape } from '../../kits/triton/schema.js';
import { checkVertexMachine, VERTEX_GPU_TYPES } from './machine-types.js';

/** How long one long-running Vertex AI operation is waited for unless the config says otherwise. */
export const DEFAULT_VERTEX_OPERATION_TIMEOUT_MINUTES = 60;

/**
 * An image in Artifact Registry (`REGION-docker.pkg.dev/PROJECT/REPO/IMAGE`) or Container Registry
 * (`[REGION.]gcr.io/PROJECT/IMAGE`) with a tag or a digest: the only registries Vertex AI pulls from.
 */
export const VERTEX_IMAGE = /^(([a-z0-9-]+-docker\.pkg\.dev\/[a-z0-9-]+\/[a-z0-9._-]+)|(([a-z]+\.)?gcr\.io\/[a-z0-9-]+))(\/[a-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

export const gcpVertexTargetSchema = z
  .object({
    type: z.literal('gcp-vertex'),
    /** Google Cloud project id, e.g. `my-project`. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id: 6-30 characters, lowercase letters, digits and -, starting with a letter')
      .describe('Google Cloud project id, e.g. my-project.'),
    /** Vertex AI region, e.g. `us-central1`. */
    region: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, 'must be a Google Cloud region such as us-central1 or europe-west4')
      .describe('Vertex AI region, e.g. us-central1.'),
    /** Machine type of each replica, e.g. `g2-standard-4` (1 x NVIDIA L4). */
    machineType: z.string().min(1)
      .describe('Machine type of each replica: g2-* (L4), a2-* (A100), a3-* (H100/H200), a4-* (B200) or n1-* with an attached GPU. E.g. g2-standard-4.'),
    /**
     * The GPU of each replica. Checked against the machine type.
     * @default - the machine type's own GPU for g2, a2, a3 and a4; required for n1
     */
    accelerator: z
      .object({
        type: z.enum(VERTEX_GPU_TYPES).describe('Vertex AI accelerator type, e.g. NVIDIA_L4.'),
        /** @default 1 */
        count: z.number().int().min(1).max(16).default(1).describe('GPUs per replica. Default: 1.'),
      })
      .strict()
      .optional()
      .describe("The GPU of each replica, checked against the machine type. Default: the machine type's own GPU for g2, a2, a3 and a4; required for n1."),
    /**
     * Replicas kept running; each is billed per hour while deployed, even when idle.
     * @default 1
     */
    minReplicas: z.number().int().min(1).max(1000).default(1)
      .describe('Replicas kept running (each is billed per hour while deployed, even idle). Default: 1.'),
    /**
     * Vertex AI adds replicas up to this number under load (60% GPU duty cycle or CPU).
     * @default - minReplicas (no autoscaling)
     */
    maxReplicas: z.number().int().min(1).max(1000).optional()
      .describe('Vertex AI scales out up to this number under load. Default: minReplicas (no autoscaling).'),
    /**
     * The Triton image Vertex AI runs, in your Artifact Registry: Vertex AI cannot pull from
     * nvcr.io. Copy NVIDIA's image once, with the same release as `tritonVersion`:
     * `docker pull nvcr.io/nvidia/tritonserver:25.06-py3`,
     * `docker tag nvcr.io/nvidia/tritonserver:25.06-py3 us-docker.pkg.dev/PROJECT/REPO/tritonserver:25.06-py3`,
     * `docker push us-docker.pkg.dev/PROJECT/REPO/tritonserver:25.06-py3`
     * (or `gcrane cp` without a local Docker).
     */
    image: z.string().regex(VERTEX_IMAGE, 'must be an image in Artifact Registry (or gcr.io) with a tag or digest, e.g. us-docker.pkg.dev/PROJECT/REPO/tritonserver:25.06-py3; copy nvcr.io/nvidia/tritonserver there first, Vertex AI cannot pull from nvcr.io')
      .describe("The Triton image in your Artifact Registry, e.g. us-docker.pkg.dev/PROJECT/REPO/tritonserver:25.06-py3 (copy NVIDIA's nvcr.io/nvidia/tritonserver:<tritonVersion>-py3 there; Vertex AI cannot pull from nvcr.io)."),
    /**
     * Cloud Storage location the model repository is uploaded to, `gs://bucket` or
     * `gs://bucket/prefix`. The bucket must exist, in the same region as the endpoint.
     */
    stagingBucket: z.string().regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](\/[^\s]*)?$/, 'must be a Cloud Storage URI such as gs://my-bucket or gs://my-bucket/models')
      .describe('Cloud Storage location for the model repository, gs://bucket or gs://bucket/prefix; the bucket must exist in the same region.'),
    /**
     * How long deploy-model waits for one long-running operation (model upload, deploying a model
     * on replicas, undeploying) before it fails with VERTEX_OPERATION_TIMEOUT. Deploying on GPUs
     * usually takes 10 to 30 minutes; TensorRT engine builds at startup add to it.
     * @default 60
     */
    operationTimeoutMinutes: z.number().positive().max(24 * 60).default(DEFAULT_VERTEX_OPERATION_TIMEOUT_MINUTES)
      .describe(`How long one long-running operation (upload, deploy on replicas, undeploy) is waited for. Default: ${DEFAULT_VERTEX_OPERATION_TIMEOUT_MINUTES}.`),
    /**
     * How traffic moves to a new version: through the live endpoint's traffic split (the new
     * deployed model gets each step's share of the requests, the serving one the rest), checked
     * at each step.
     * @default - all at once, after the smoke test
     */
    rollout: rolloutSchema.optional()
      .describe("How traffic moves to a new version through the live endpoint's trafficSplit: 'canary' or 'linear' steps, each checked against the alarms and the golden smoke test. Default: all at once, after the smoke test."),
    ...tritonOptionsShape,
  })
  .strict()
  .superRefine((value, ctx) => {
    checkTritonOptions(value, ctx);
    for (const problem of checkVertexMachine(value.machineType, value.accelerator)) {
      ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
    }
    if (value.maxReplicas !== undefined && value.maxReplicas < value.minReplicas) {
      ctx.addIssue({ code: 'custom', path: ['maxReplicas'], message: `maxReplicas (${value.maxReplicas}) must be at least minReplicas (${value.minReplicas})` });
    }
  })
  .describe('Vertex AI online prediction on GPUs: NVIDIA Triton serving the generated model repository from Cloud Storage, an endpoint, a deployed model per version.');

export type GcpVertexTargetInput = z.input<typeof gcpVertexTargetSchema>;
export type GcpVertexTargetConfig = z.output<typeof gcpVertexTargetSchema>;
