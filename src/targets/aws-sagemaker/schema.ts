/** The aws-sagemaker target's config entry: instances, scaling, timeouts and the Triton options. */
import { z } from 'zod';
import {
  DEFAULT_BAKE_SECONDS, DEFAULT_INFERENCE_AMI_VERSION, DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS, DEFAULT_STARTUP_TIMEOUT_SECONDS,
  DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE, SAGEMAKER_INFERENCE_AMI_VERSIONS,
} from '../../kits/sagemaker/defaults.js';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { checkTritonOptions, tritonOptionsShape } from '../../kits/triton/schema.js';
import { SAGEMAKER_INSTANCE_TYPE, sageMakerInstanceTypeProblem, sageMakerVolumeSizeProblem } from '../../kits/sagemaker/instance-types.js';
import { DEFAULT_SAGEMAKER_TRITON_VERSION, ECR_IMAGE, sageMakerTritonImageProblem } from '../../kits/sagemaker/triton-images.js';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

const { tritonVersion: _sharedTritonVersion, ...sharedTritonOptions } = tritonOptionsShape;

export const awsSageMakerTargetSchema = z
  .object({
    type: z.literal('aws-sagemaker'),
    /** AWS region, e.g. `eu-west-1`. */
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1')
      .describe('AWS region, e.g. eu-west-1.'),
    /** The instance type of each instance, with an NVIDIA GPU, e.g. `ml.g5.xlarge`. */
    instanceType: z.string().regex(SAGEMAKER_INSTANCE_TYPE, 'must be a SageMaker instance type such as ml.g5.xlarge')
      .describe('Instance type with an NVIDIA GPU (ml.g4dn, g5, g6, g6e, p3, p4d, p4de, p5, p5e, p5en), e.g. ml.g5.xlarge.'),
    /**
     * Instances the endpoint starts with; each is billed per hour while the endpoint exists, even
     * when idle. With `autoscaling`, the scaling policy takes over from there.
     * @default 1
     */
    instanceCount: z.number().int().min(1).max(100).default(1)
      .describe('Instances the endpoint starts with (each is billed per hour while the endpoint exists, even idle). Default: 1.'),
    /**
     * Scales the instance count with the invocations per instance (Application Auto Scaling
     * target tracking on `SageMakerVariantInvocationsPerInstance`).
     * @default - none: `instanceCount` instances, always
     */
    autoscaling: z
      .object({
        /**
         * Fewest instances; SageMaker real-time endpoints cannot scale to 0.
         * @default 1
         */
        min: z.number().int().min(1).max(100).default(1).describe('Fewest instances (real-time endpoints cannot scale to 0). Default: 1.'),
        /** Most instances. */
        max: z.number().int().min(1).max(100).describe('Most instances.'),
        /**
         * Invocations per instance per minute the policy keeps each instance at. Measure what one
         * instance sustains and use about half of it.
         * @default 1000
         */
        targetInvocationsPerInstance: z.number().positive().default(DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE)
          .describe(`Invocations per instance per minute to hold each instance at (measure one instance's sustainable rate, use about half). Default: ${DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE}.`),
      })
      .strict()
      .optional()
      .describe('Target-tracking autoscaling on invocations per instance. Default: none (instanceCount instances, always).'),
    /**
     * EBS volume per instance, in GB, for EBS-backed families only (ml.p3); the others serve from
     * their own NVMe storage and SageMaker refuses a volume size there.
     * @default - the instance's own storage
     */
    volumeSizeGb: z.number().int().min(1).max(512).optional()
      .describe("EBS volume per instance in GB, EBS-backed families (ml.p3) only. Default: the instance's own storage."),
    /**
     * How long SageMaker waits for Triton to answer /ping after the container starts. With
     * `engine: 'tensorrt'` this covers the TensorRT engine build of the warmup (60-3600).
     * @default - 1200 with engine 'tensorrt', 600 with 'onnxruntime'
     */
    startupHealthCheckTimeoutSeconds: z.number().int().min(60).max(3600).optional()
      .describe(`How long SageMaker waits for Triton to pass /ping after start, including the TensorRT build (60-3600). Default: ${DEFAULT_STARTUP_TIMEOUT_SECONDS.tensorrt} with engine 'tensorrt', ${DEFAULT_STARTUP_TIMEOUT_SECONDS.onnxruntime} with 'onnxruntime'.`),
    /**
     * How long SageMaker may take to download and extract model.tar.gz on each instance (60-3600).
     * @default 900
     */
    modelDownloadTimeoutSeconds: z.number().int().min(60).max(3600).default(DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS)
      .describe(`How long SageMaker may take to download and extract model.tar.gz on each instance (60-3600). Default: ${DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS}.`),
    /**
     * Runs the instances in your VPC: their network interfaces get these subnets and security
     * groups. The subnets need a route to S3 (a gateway endpoint or NAT) for the model download
     * and to ECR for the image.
     * @default - no VPC (SageMaker's network)
     */
    vpc: z
      .object({
        subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0')).min(1).max(16)
          .describe('Subnet ids (1-16), in at least two availability zones for more than one instance.'),
        securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id such as sg-0123456789abcdef0')).min(1).max(5)
          .describe('Security group ids (1-5).'),
      })
      .strict()
      .optional()
      .describe("Runs the instances in your VPC (subnets need routes to S3 and ECR). Default: no VPC (SageMaker's network)."),
    /**
     * The Triton image, in ECR, instead of SageMaker's for `region` and `tritonVersion`. It must
     * follow SageMaker's container contract (serve on 8080, /ping and /invocations), as the
     * SageMaker Triton images do.
     * @default - SageMaker's Triton image for the region and tritonVersion (`sageMakerTritonImage`)
     */
    image: z.string().regex(ECR_IMAGE, 'must be an ECR image with a tag or digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:25.09-py3').optional()
      .describe("The Triton image in ECR instead of SageMaker's for the region and tritonVersion. Default: SageMaker's Triton image (sagemaker-tritonserver:<tritonVersion>-py3 in the region's AWS account)."),
    /**
     * Triton release of SageMaker's image (`YY.MM`); AWS publishes some releases only.
     * @default DEFAULT_SAGEMAKER_TRITON_VERSION
     */
    tritonVersion: z.string().regex(/^\d{2}\.\d{2}$/, "must be a Triton release such as '25.09'").default(DEFAULT_SAGEMAKER_TRITON_VERSION)
      .describe(`Triton release (YY.MM) of SageMaker's Triton image; AWS publishes some releases only. Default: '${DEFAULT_SAGEMAKER_TRITON_VERSION}'.`),
    /**
     * The instances' AMI, which fixes the NVIDIA driver: `gpu-3-1` has driver 550 (CUDA 12.4) and
     * lets the image's CUDA forward-compatibility libraries load, which recent Triton releases
     * (CUDA 12.6 and later) need on SageMaker's data-centre GPUs; SageMaker's own default on
     * ml.g4dn/g5/p4d is driver 470.
     * @default 'al2-ami-sagemaker-inference-gpu-3-1'
     */
    inferenceAmiVersion: z.enum(SAGEMAKER_INFERENCE_AMI_VERSIONS).default(DEFAULT_INFERENCE_AMI_VERSION)
      .describe(`The instances' AMI (NVIDIA driver): gpu-3-1 has driver 550 and lets recent Triton releases run. Default: '${DEFAULT_INFERENCE_AMI_VERSION}'.`),
    /**
     * During an update, how long SageMaker keeps the previous instances after moving traffic to
     * the new ones, rolling back automatically if the 5XX alarm fires (0-3600).
     * @default 300
     */
    bakeSeconds: z.number().int().min(0).max(3600).default(DEFAULT_BAKE_SECONDS)
      .describe(`During an update, how long the previous instances are kept while the rollback alarm watches the new ones (0-3600). Default: ${DEFAULT_BAKE_SECONDS}.`),
    /**
     * How traffic moves to a new version: SageMaker's blue/green traffic routing (deployment
     * guardrails). `canary` is CANARY (one canary size, at most 50 % of capacity, then the rest),
     * `linear` is LINEAR (one step size, 10-50 %, repeated until the new fleet takes all); SageMaker
     * waits `intervalSeconds` between steps and rolls back by itself when a CloudWatch alarm of
     * `alarms` (error rate, p99 ModelLatency) fires. `probeRequests` does not apply: SageMaker
     * watches the alarms.
     * @default - all at once, after the new instances pass their health check
     */
    rollout: rolloutSchema.optional()
      .describe("How traffic moves to a new version, by SageMaker's blue/green traffic routing: 'canary' (CANARY, one size <= 50 %), 'linear' (LINEAR, equal steps of 10-50 %), rolled back by CloudWatch alarms on the error rate and p99 latency. Default: all at once."),
    /**
     * How long the endpoint's CloudWatch logs (`/aws/sagemaker/Endpoints/<endpoint>`) are kept, in days.
     * @default 30
     */
    logRetentionDays: z.number().int().min(1).default(30)
      .describe('CloudWatch log retention in days. Default: 30.'),
    ...sharedTritonOptions,
  })
  .strict()
  .superRefine((value, ctx) => {
    checkTritonOptions(value, ctx);
    // zod runs refinements after format issues too; one message per field is enough.
    const wellFormed = SAGEMAKER_INSTANCE_TYPE.test(value.instanceType);
    const typeProblem = wellFormed ? sageMakerInstanceTypeProblem(value.instanceType, value.engine, value.image ? undefined : value.tritonVersion) : undefined;
    if (typeProblem) ctx.addIssue({ code: 'custom', path: ['instanceType'], message: typeProblem });
    if (wellFormed && value.volumeSizeGb !== undefined) {
      const volumeProblem = sageMakerVolumeSizeProblem(value.instanceType);
      if (volumeProblem) ctx.addIssue({ code: 'custom', path: ['volumeSizeGb'], message: volumeProblem });
    }
    if (value.image === undefined && REGION.test(value.region)) {
      const imageProblem = sageMakerTritonImageProblem(value.region, value.tritonVersion);
      if (imageProblem) ctx.addIssue({ code: 'custom', path: ['tritonVersion'], message: imageProblem });
    }
    const scaling = value.autoscaling;
    if (scaling) {
      if (scaling.max < scaling.min) {
        ctx.addIssue({ code: 'custom', path: ['autoscaling', 'max'], message: `autoscaling.max (${scaling.max}) must be at least autoscaling.min (${scaling.min})` });
      } else if (value.instanceCount < scaling.min || value.instanceCount > scaling.max) {
        ctx.addIssue({ code: 'custom', path: ['instanceCount'], message: `instanceCount (${value.instanceCount}) must lie between autoscaling.min (${scaling.min}) and autoscaling.max (${scaling.max}); it is the count the endpoint starts with` });
      }
    }
  })
  .describe('A SageMaker real-time endpoint on GPUs: NVIDIA Triton with TensorRT serving the generated model repository (model.tar.gz), blue/green updates with automatic rollback, optional autoscaling.');

export type AwsSageMakerTargetInput = z.input<typeof awsSageMakerTargetSchema>;
export type AwsSageMakerTargetConfig = z.output<typeof awsSageMakerTargetSchema>;

/** The startup health check timeout a target gets: its own, else the engine's default. */
export function startupTimeoutSeconds(target: Pick<AwsSageMakerTargetConfig, 'engine' | 'startupHealthCheckTimeoutSeconds'>): number {
  return target.startupHealthCheckTimeoutSeconds ?? DEFAULT_STARTUP_TIMEOUT_SECONDS[target.engine];
}
