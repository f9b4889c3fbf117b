/** The container target's config entry: engine, base image, builder, push, port, contract, Kubernetes resources and KServe. */
import { z } from 'zod';

/** The serving contracts the image's HTTP server speaks; all routes are always served. */
export const CONTAINER_CONTRACTS = ['kserve-v2', 'sagemaker', 'vertex', 'azure-ml'] as const;
export type ContainerContract = (typeof CONTAINER_CONTRACTS)[number];

/** KServe deployment modes: on Knative, or as a plain Deployment (KServe's RawDeployment). */
export const KSERVE_MODES = ['serverless', 'raw'] as const;
export type KserveMode = (typeof KSERVE_MODES)[number];

export const CONTAINER_BUILDERS = ['docker', 'podman', 'buildah'] as const;
export type ContainerBuilderName = (typeof CONTAINER_BUILDERS)[number];

/** Kubernetes quantities as the API server accepts them (a subset: decimal with an optional suffix). */
const CPU_QUANTITY = /^(\d+(\.\d+)?|\d+m)$/;
const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/**
 * An image repository with an explicit registry host (a dot or a port in the first component, or
 * `localhost`), lowercase path components, no tag: Docker's reference grammar, narrowed so that a
 * push never goes to an implicit default registry.
 */
export const IMAGE_REPOSITORY = /^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+|[a-z0-9.-]+:\d+)(:\d+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)+$/;
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export const containerTargetSchema = z
  .object({
    type: z.literal('container'),
    /**
     * The serving engine in the image. `onnxruntime` is the project's Node runtime on CPU.
     * @default 'onnxruntime'
     */
    engine: z
      .enum(['onnxruntime'], {
        error: () => "must be 'onnxruntime' (the CPU Node runtime); 'triton' images are not supported yet, use an aws-sagemaker, gcp-vertex or azure-ml target for Triton on GPU",
      })
      .default('onnxruntime')
      .describe("The serving engine in the image: 'onnxruntime' (the project's Node runtime, CPU). Default: 'onnxruntime'."),
    /**
     * The image the server is layered on. It must provide `node` (20 or later) on the PATH and glibc.
     * Fully qualified, because podman and buildah refuse short names such as `node:22` when they
     * cannot prompt (CI) unless the machine has an alias for them.
     * @default 'docker.io/library/node:22-bookworm-slim'
     */
    baseImage: z.string().min(1).default('docker.io/library/node:22-bookworm-slim')
      .describe("The image the server is layered on; it must provide node (20+) and glibc. Default: 'docker.io/library/node:22-bookworm-slim'."),
    /**
     * CPU architecture of the image; the onnxruntime-node binaries are chosen for it.
     * @default 'x86_64'
     */
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64')
      .describe("CPU architecture of the image (linux/amd64 or linux/arm64). Default: 'x86_64'."),
    /**
     * Registry and repository to push to, e.g. `registry.example.com/ocr-det`. Credentials come from
     * the builder's own login (`docker login`, `podman login`).
     * @default - not pushed: the image stays local as `localhost/<name>`
     */
    push: z.string().regex(IMAGE_REPOSITORY, 'must be a registry host and a repository without a tag, e.g. registry.example.com/ocr-det or 127.0.0.1:5000/ocr-det').optional()
      .describe('Registry and repository to push to, e.g. registry.example.com/ocr-det (no tag). Default: not pushed, the image stays local.'),
    /**
     * An extra tag besides the content tag (the first 12 hex digits of the build context's sha256).
     * @default - the content tag only
     */
    tag: z.string().regex(IMAGE_TAG, 'must be a Docker tag: letters, digits, _ . -, at most 128 characters, not starting with . or -').optional()
      .describe('An extra tag besides the content tag (12 hex digits of the build context sha256), e.g. latest or v3. Default: the content tag only.'),
    /**
     * The image builder.
     * @default - the first that answers: docker (with buildx when present), podman, buildah
     */
    builder: z.enum(CONTAINER_BUILDERS).optional()
      .describe('The image builder: docker, podman or buildah. Default: the first that works on this machine, in that order.'),
    /**
     * Port the server listens on inside the container.
     * @default 8080
     */
    port: z.number().int().min(1).max(65535).default(8080)
      .describe('Port the server listens on inside the container. Default: 8080.'),
    /**
     * The contract the image is set up for (`DM_CONTRACT`, and the route its HEALTHCHECK calls).
     * The server answers every contract's routes; Vertex AI's routes come from its AIP_* variables.
     * @default 'kserve-v2'
     */
    contract: z.enum(CONTAINER_CONTRACTS).default('kserve-v2')
      .describe("The contract the image is set up for (DM_CONTRACT and the HEALTHCHECK route); every contract's routes are served. Default: 'kserve-v2'."),
    /**
     * Kubernetes resource requests. Memory is also the limit; CPU has no limit, so the runtime is not
     * throttled, and the HPA scales on the CPU request.
     * @default { cpu: '1', memory: '1Gi' }
     */
    resources: z
      .object({
        /** @default '1' */
        cpu: z.string().regex(CPU_QUANTITY, "must be a CPU quantity such as '500m', '1' or '2.5'").default('1')
          .describe("CPU request, e.g. '500m' or '2'. Default: '1'."),
        /** @default '1Gi' */
        memory: z.string().regex(MEMORY_QUANTITY, "must be a memory quantity such as '512Mi' or '2Gi'").default('1Gi')
          .describe("Memory request and limit, e.g. '512Mi' or '2Gi'. Default: '1Gi'."),
      })
      .strict()
      .default({ cpu: '1', memory: '1Gi' })
      .describe("Kubernetes resources: cpu is requested (no limit), memory is requested and limited. Default: { cpu: '1', memory: '1Gi' }."),
    /**
     * Replica bounds for the HorizontalPodAutoscaler (and the InferenceService).
     * @default { min: 1, max: 3 }
     */
    replicas: z
      .object({
        /** @default 1 */
        min: z.number().int().min(1).default(1).describe('Fewest replicas. Default: 1.'),
        /** @default 3 */
        max: z.number().int().min(1).default(3).describe('Most replicas. Default: 3.'),
      })
      .strict()
      .default({ min: 1, max: 3 })
      .refine((r) => r.max >= r.min, { message: 'replicas.max must be at least replicas.min' })
      .describe('Replica bounds for the HorizontalPodAutoscaler. Default: { min: 1, max: 3 }.'),
    /**
     * Average CPU utilisation (percent of the request) the HPA aims for.
     * @default 70
     */
    targetCpuUtilization: z.number().int().min(1).max(100).default(70)
      .describe('Average CPU utilisation, in percent of the request, that the HPA aims for. Default: 70.'),
    /**
     * Also write a KServe InferenceService (a custom-container predictor speaking v2). `true` (or
     * `{}`) leaves the deployment mode to the cluster's `defaultDeploymentMode` and writes a manifest
     * that is valid in both modes; `{ mode }` pins it (see docs/kubernetes.md); `false` writes none.
     * @default true
     */
    kserve: z
      .union([
        z.boolean(),
        z
          .object({
            /**
             * KServe's deployment mode: `'serverless'` runs on Knative (scales on requests in flight),
             * `'raw'` as a plain Deployment with an HPA on CPU and the pod-level security context that
             * Knative refuses by default.
             * @default - the cluster's defaultDeploymentMode (no annotation)
             */
            mode: z.enum(KSERVE_MODES, { error: () => "must be 'serverless' (Knative) or 'raw' (a Deployment and an HPA); leave it out to follow the cluster's defaultDeploymentMode" }).optional()
              .describe("KServe deployment mode: 'serverless' (Knative, scales on concurrency) or 'raw' (Deployment + HPA on CPU, pod-level securityContext). Default: the cluster's defaultDeploymentMode, with a manifest valid in both."),
          })
          .strict(),
      ])
      .default(true)
      .describe("Also write a KServe InferenceService (custom container predictor, protocol v2): true, false, or { mode: 'serverless' | 'raw' } to pin KServe's deployment mode. Default: true (the cluster's default mode, a manifest valid in both)."),
  })
  .strict()
  .describe('An OCI image serving the model over HTTP (KServe v2, SageMaker, Vertex AI, Azure ML routes), built with docker, podman or buildah, optionally pushed, with Kubernetes and KServe manifests.');

export type ContainerTargetInput = z.input<typeof containerTargetSchema>;
export type ContainerTargetConfig = z.output<typeof containerTargetSchema>;
