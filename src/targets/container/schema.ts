/** The container target's config entry: engine, base image, builder, push, port, contract, Kubernetes resources and KServe. */
import { z } from 'zod';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { checkTritonOptions, tritonOptionsShape } from '../../kits/triton/schema.js';
import { CONTAINER_BUILDERS } from '../../kits/container/builder-names.js';

/** The serving contracts the image's HTTP server speaks; all routes are always served. */
export const CONTAINER_CONTRACTS = ['kserve-v2', 'sagemaker', 'vertex', 'azure-ml'] as const;
export type ContainerContract = (typeof CONTAINER_CONTRACTS)[number];

/** KServe deployment modes: on Knative, or as a plain Deployment (KServe's RawDeployment). */
export const KSERVE_MODES = ['serverless', 'raw'] as const;
export type KserveMode = (typeof KSERVE_MODES)[number];

/** The serving engines an image can hold. */
export const CONTAINER_ENGINES = ['onnxruntime', 'triton', 'openvino'] as const;
export type ContainerEngine = (typeof CONTAINER_ENGINES)[number];

/** The platforms an image can be built for. */
export const CONTAINER_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type ContainerPlatform = (typeof CONTAINER_PLATFORMS)[number];

export { CONTAINER_BUILDERS, type ContainerBuilderName } from '../../kits/container/builder-names.js';

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

/** Kubernetes label keys and values, as the API server checks them (qualified names, at most 63 characters). */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** A pod toleration (core/v1 Toleration). */
const tolerationSchema = z
  .object({
    key: z.string().regex(LABEL_KEY, 'must be a label key such as nvidia.com/gpu').optional().describe('The taint key, e.g. nvidia.com/gpu.'),
    operator: z.enum(['Exists', 'Equal']).default('Equal').describe("'Exists' or 'Equal'. Default: 'Equal'."),
    value: z.string().regex(LABEL_VALUE, 'must be a label value').optional().describe("The taint value, with operator 'Equal'."),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('The taint effect tolerated. Default: every effect.'),
  })
  .strict();

const gpuSchema = z
  .object({
    /** @default 1 */
    count: z.number().int().min(0).max(16).default(1).describe('GPUs per pod. Default: 1.'),
    /** @default 'nvidia.com/gpu' */
    resource: z.string().regex(LABEL_KEY, 'must be an extended resource name such as nvidia.com/gpu').default('nvidia.com/gpu')
      .describe("The extended resource the device plugin advertises. Default: 'nvidia.com/gpu'."),
    /** @default { 'nvidia.com/gpu.present': 'true' } (the label NVIDIA's GPU feature discovery puts on GPU nodes) */
    nodeSelector: z.record(z.string().regex(LABEL_KEY, 'must be a label key'), z.string().regex(LABEL_VALUE, 'must be a label value'))
      .default({ 'nvidia.com/gpu.present': 'true' })
      .describe("Node labels of the GPU pool, e.g. { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }. Default: { 'nvidia.com/gpu.present': 'true' }."),
    /** @default [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] */
    tolerations: z.array(tolerationSchema).default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }])
      .describe("Tolerations for the GPU pool's taints. Default: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]."),
  })
  .strict();

/** Triton's options in a container target: the GPU targets' own, and where the engine cache lives in the pod. */
export const containerTritonSchema = z
  .object({
    ...tritonOptionsShape,
    /**
     * The volume mounted on the engine cache (`engineCachePath`): an emptyDir keeps engines across
     * restarts of the container, a PersistentVolumeClaim across pods (one per GPU model).
     * @default 'emptyDir'
     */
    engineCacheVolume: z.union([z.literal('emptyDir'), z.object({ persistentVolumeClaim: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a PersistentVolumeClaim name') }).strict()])
      .default('emptyDir')
      .describe("The volume on the TensorRT engine cache: 'emptyDir' (kept across container restarts) or { persistentVolumeClaim: 'name' } (kept across pods). Default: 'emptyDir'."),
  })
  .strict()
  .superRefine(checkTritonOptions);

export const OPENVINO_PERFORMANCE_HINTS = ['LATENCY', 'THROUGHPUT', 'CUMULATIVE_THROUGHPUT'] as const;

export const openvinoOptionsSchema = z
  .object({
    /**
     * OpenVINO's PERFORMANCE_HINT for the CPU plugin.
     * @default - 'THROUGHPUT' with model.batching, else 'LATENCY'
     */
    performanceHint: z.enum(OPENVINO_PERFORMANCE_HINTS).optional()
      .describe("OpenVINO's PERFORMANCE_HINT: 'LATENCY', 'THROUGHPUT' or 'CUMULATIVE_THROUGHPUT'. Default: THROUGHPUT with model.batching, else LATENCY."),
    /**
     * NUM_STREAMS: parallel inference streams on the CPU.
     * @default - chosen by the performance hint
     */
    streams: z.union([z.number().int().min(1).max(256), z.literal('AUTO')]).optional()
      .describe("OpenVINO's NUM_STREAMS, a number or 'AUTO'. Default: chosen by the performance hint."),
  })
  .strict();

export const containerTargetSchema = z
  .object({
    type: z.literal('container'),
    /**
     * The serving engine in the image: `onnxruntime` is the project's Node runtime on CPU,
     * `triton` NVIDIA Triton with TensorRT on GPU nodes (the generated Triton model repository),
     * `openvino` OpenVINO Model Server on CPU (a generated `config.json`). See docs/containers.md.
     * @default 'onnxruntime'
     */
    engine: z
      .enum(CONTAINER_ENGINES, {
        error: () => "must be 'onnxruntime' (the project's Node runtime, CPU), 'triton' (NVIDIA Triton on GPU nodes) or 'openvino' (OpenVINO Model Server, CPU)",
      })
      .default('onnxruntime')
      .describe("The serving engine in the image: 'onnxruntime' (the project's Node runtime, CPU), 'triton' (NVIDIA Triton + TensorRT, GPU nodes) or 'openvino' (OpenVINO Model Server, CPU). Default: 'onnxruntime'."),
    /**
     * The image the server is layered on. With engine `onnxruntime` it must provide `node` (20 or
     * later) on the PATH and glibc; with `triton` it must be a Triton release image, with `openvino`
     * an OpenVINO Model Server image (a mirror of the default, for instance). Fully qualified,
     * because podman and buildah refuse short names such as `node:22` when they cannot prompt (CI)
     * unless the machine has an alias for them.
     * @default - per engine: 'docker.io/library/node:22-bookworm-slim' (onnxruntime),
     * 'nvcr.io/nvidia/tritonserver:<triton.tritonVersion>-py3' (triton),
     * 'docker.io/openvino/model_server:2026.2' (openvino)
     */
    baseImage: z.string().min(1).optional()
      .describe("The image the server is layered on: with onnxruntime it must provide node (20+) and glibc; with triton a Triton release image; with openvino an OpenVINO Model Server image. Default: docker.io/library/node:22-bookworm-slim, nvcr.io/nvidia/tritonserver:<tritonVersion>-py3 or docker.io/openvino/model_server:2026.2 by engine."),
    /**
     * CPU architecture of a single-architecture image; the onnxruntime-node binaries are chosen for
     * it. Use `platforms` for several.
     * @default - 'x86_64' (unless `platforms` is set)
     */
    architecture: z.enum(['x86_64', 'arm64']).optional()
      .describe("CPU architecture of a single-architecture image (linux/amd64 or linux/arm64); use platforms for several. Default: 'x86_64' unless platforms is set."),
    /**
     * The platforms to build, one image each, pushed together as one manifest list (an image index)
     * under the same tags. Each image carries onnxruntime-node for its own architecture only.
     * @default - [the platform of `architecture`]
     */
    platforms: z.array(z.enum(CONTAINER_PLATFORMS, { error: () => "must be 'linux/amd64' or 'linux/arm64'" })).min(1)
      .refine((p) => new Set(p).size === p.length, { message: 'lists a platform twice' })
      .optional()
      .describe("The platforms to build, e.g. ['linux/amd64', 'linux/arm64']: one image each, pushed as one manifest list. Default: the platform of architecture (linux/amd64)."),
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
     * Triton's options with engine `triton`: the same as the GPU targets' (precision, TensorRT
     * workspace, instances per GPU, the release, the engine cache, warmup), plus where the pod keeps
     * the TensorRT engine cache.
     * @default - the GPU targets' defaults (engine 'tensorrt', precision 'fp16', tritonVersion
     * DEFAULT_TRITON_VERSION, warmup on) and an emptyDir engine cache
     */
    triton: containerTritonSchema.optional()
      .describe("Triton's options with engine 'triton': engine ('tensorrt' or 'onnxruntime'), precision, int8Calibration, workspaceMb, instancesPerGpu, tritonVersion, engineCachePath, warmup (as on the GPU targets), and engineCacheVolume. Default: the GPU targets' defaults, an emptyDir engine cache."),
    /**
     * OpenVINO Model Server's options with engine `openvino`.
     * @default - PERFORMANCE_HINT 'THROUGHPUT' with model.batching, else 'LATENCY'; streams from the hint
     */
    openvino: openvinoOptionsSchema.optional()
      .describe("OpenVINO Model Server's options with engine 'openvino': performanceHint ('LATENCY', 'THROUGHPUT', 'CUMULATIVE_THROUGHPUT') and streams. Default: THROUGHPUT with model.batching, else LATENCY; streams chosen by the hint."),
    /**
     * The GPUs each pod requests and the node pool it is scheduled on: the extended resource, a
     * node selector and tolerations for the pool's taint. Engine `triton` needs at least one GPU;
     * the CPU engines take none.
     * @default - with engine 'triton': { count: 1, resource: 'nvidia.com/gpu',
     * nodeSelector: { 'nvidia.com/gpu.present': 'true' },
     * tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }; none otherwise
     */
    gpu: z.union([z.literal(false), gpuSchema]).optional()
      .describe("GPUs per pod and the GPU node pool (engine 'triton'): { count, resource, nodeSelector, tolerations }, or false. Default: with triton, 1 x nvidia.com/gpu on nodes labelled nvidia.com/gpu.present=true, tolerating the nvidia.com/gpu taint."),
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
    /**
     * How traffic moves to a new image. Here, when a previous image of this target is recorded,
     * deploy runs it and the new one side by side behind a weighted front on 127.0.0.1 and steps the
     * new one's share, checked at each step; the InferenceService carries the first step as
     * `canaryTrafficPercent` (KServe's canary rollout; see docs/kubernetes.md to promote it).
     * @default - all at once, after the smoke test
     */
    rollout: rolloutSchema.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.architecture !== undefined && value.platforms !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['architecture'], message: "set architecture or platforms, not both: platforms: ['linux/amd64', 'linux/arm64'] builds both architectures" });
    }
    for (const engine of ['triton', 'openvino'] as const) {
      if (value[engine] !== undefined && value.engine !== engine) {
        ctx.addIssue({ code: 'custom', path: [engine], message: `${engine} options apply to engine '${engine}' only; this target's engine is '${value.engine}': set engine: '${engine}' or remove ${engine}` });
      }
    }
  })
  .describe('An OCI image serving the model over HTTP, built with docker, podman or buildah, smoke-tested, optionally pushed, with Kubernetes and KServe manifests; engines: the Node onnxruntime server (CPU), NVIDIA Triton (GPU nodes) or OpenVINO Model Server (CPU); one or several platforms.');

export type ContainerTargetInput = z.input<typeof containerTargetSchema>;
export type ContainerTargetConfig = z.output<typeof containerTargetSchema>;
