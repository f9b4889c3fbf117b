/**
 * The one schema: it is the config's TypeScript type, its runtime validation and, through
 * `z.toJSONSchema`, the JSON Schema printed by `deploy-model schema` and the README reference.
 * The target schemas come from the registry (src/targets/registry.ts).
 */
import { z } from 'zod';
import { KNOWN_TARGET_TYPES, targetSchemas } from '../targets/registry.js';

export { KNOWN_TARGET_TYPES };

export const targetSchema = z.discriminatedUnion('type', targetSchemas);

const tensorValue: z.ZodType<unknown> = z.lazy(() => z.union([z.number(), z.boolean(), z.string(), z.array(tensorValue)]));

const inlineTensor = z.union([
  z.object({
    shape: z.array(z.number().int().min(0)),
    data: z.array(z.union([z.number(), z.boolean(), z.string()])),
    datatype: z.string().optional(),
  }).strict(),
  tensorValue,
]);

export const modelSchema = z
  .object({
    /**
     * The .onnx file: a path relative to the config file, or an object-storage URL
     * (`s3://bucket/key`, `gs://bucket/object`, `https://<account>.blob.core.windows.net/<container>/<blob>`),
     * downloaded once into the cache with its external data files and checked against `sha256`.
     */
    path: z.string().min(1)
      .describe('The .onnx file: a path relative to the config file, or an object-storage URL (s3://bucket/key, gs://bucket/object, https://<account>.blob.core.windows.net/<container>/<blob>) downloaded once into the cache and checked against sha256.'),
    /**
     * sha256 (64 hex digits) of the .onnx file at a URL `path`; a download that does not match is refused.
     * @default - recorded on the first download, and checked on every later one
     */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits, as `sha256sum model.onnx` prints them').optional()
      .describe('sha256 (64 hex digits) of the .onnx file at a URL path; a download that does not match is refused. Default: recorded on the first download and checked on every later one.'),
    /**
     * Concrete shapes for inputs with dynamic dims, used by smoke tests, warmup and TensorRT
     * profiles. Fixed dims must match the model.
     * @default - dynamic dims resolve to small defaults (1 for batch-like dims, 64 for others)
     */
    inputs: z
      .record(z.string(), z.object({ shape: z.array(z.number().int().min(0)) }).strict())
      .optional()
      .describe('Concrete shapes for inputs with dynamic dims ({ x: { shape: [1, 3, 640, 640] } }). Default: dynamic dims resolve to 1 (first dim) or 64.'),
    /**
     * Dynamic batching of concurrent requests along a dynamic first dim.
     * @default - off
     */
    batching: z
      .object({
        /** @default 8 */
        maxBatchSize: z.number().int().min(1).max(1024).default(8).describe('Largest merged batch. Default: 8.'),
        /** @default 2 */
        maxQueueDelayMs: z.number().min(0).max(10_000).default(2).describe('Longest a request waits for others to join its batch. Default: 2.'),
        /** @default - none */
        preferredBatchSizes: z.array(z.number().int().min(1)).optional().describe('Batch sizes the scheduler prefers (Triton preferred_batch_size). Default: none.'),
      })
      .strict()
      .optional()
      .describe('Dynamic batching of concurrent requests along a dynamic first dim. Default: off.'),
  })
  .strict()
  .describe('The ONNX model; its signature is read from the graph.');

export const runtimeSchema = z
  .object({
    /**
     * onnxruntime execution providers in order of preference, for the targets that run the
     * project's runtime; one that fails to load falls back to the next, and finally to CPU. The GPU
     * targets serve through Triton, where their `engine` option chooses TensorRT or CUDA.
     * @default ['cpu']
     */
    executionProviders: z.array(z.enum(['cpu', 'cuda', 'tensorrt', 'coreml', 'dml'])).min(1).default(['cpu'])
      .describe("onnxruntime execution providers in order of preference, for the targets that run the project's runtime (local, aws-lambda, container); a provider that fails to load falls back to CPU. The GPU targets' engine option chooses for Triton. Default: ['cpu']."),
    /**
     * Intra-op threads per session; on the GPU targets, Triton's `intra_op_thread_count`.
     * @default - onnxruntime's choice (the number of cores)
     */
    intraOpThreads: z.number().int().min(1).max(256).optional()
      .describe("Intra-op threads per session (DM_INTRA_OP_THREADS; on the GPU targets, Triton's intra_op_thread_count). Default: onnxruntime's choice."),
  })
  .strict()
  .default({ executionProviders: ['cpu'] })
  .describe('How onnxruntime runs the model: the project runtime on local, aws-lambda and container; Triton on the GPU targets.');

export const smokeSchema = z
  .object({
    /**
     * `'auto'` generates inputs from the signature; a string is a JSON file (a v2 request or
     * `{ name: nested array }`) relative to the config; an object gives the tensors inline.
     * @default 'auto'
     */
    input: z.union([z.literal('auto'), z.string().min(1), z.record(z.string(), inlineTensor)]).default('auto')
      .describe("'auto' generates inputs from the signature; a string is a JSON file relative to the config; an object gives tensors inline. Default: 'auto'."),
    /**
     * Fails the smoke test when the median latency exceeds it.
     * @default 2000
     */
    maxLatencyMs: z.number().positive().default(2000).describe('Fails the smoke test when the median latency exceeds it. Default: 2000.'),
    /**
     * How many requests the smoke test sends (the first warms up).
     * @default 5
     */
    requests: z.number().int().min(1).max(1000).default(5).describe('How many requests the smoke test sends. Default: 5.'),
    /**
     * Expected output shapes; `null` accepts any size for that dim.
     * @default - shapes are checked against the signature only
     */
    expectShapes: z.record(z.string(), z.array(z.number().int().min(0).nullable())).optional()
      .describe('Expected output shapes, e.g. { logits: [1, 1000] }; null accepts any size. Default: checked against the signature only.'),
    /**
     * Golden outputs every smoke test compares the target's answers with: `'auto'` records
     * onnxruntime-node's answer to the smoke request on this machine's CPU at build; a string is
     * a file written by `deploy-model golden` (several requests, recorded once and kept with the
     * project); `'off'` checks shapes and types only.
     * @default 'auto'
     */
    golden: z.union([z.literal('off'), z.literal('auto'), z.string().min(1)]).optional()
      .describe("Golden outputs the smoke test compares answers with: 'auto' records onnxruntime-node's answer to the smoke request at build; a path is a file written by `deploy-model golden` (relative to the config); 'off' checks shapes and types only. Default: 'auto'."),
    /**
     * Per output, how far a float answer may stray from the golden outputs
     * (`|actual - expected| <= abs + rel * |expected|`), and a top-k agreement check for
     * classifiers. Integer and bool outputs are exact.
     * @default - chosen from how each target runs the model (see the README's tolerance table)
     */
    tolerance: z.record(z.string(), z.object({
      /** @default - the target's default */
      abs: z.number().min(0).optional().describe("Absolute tolerance. Default: the target's."),
      /** @default - the target's default */
      rel: z.number().min(0).optional().describe("Relative tolerance, times |expected|. Default: the target's."),
      /** @default - not checked */
      topK: z.number().int().min(1).max(1000).optional().describe('Also require the same top-k classes along the last axis, row by row. Default: not checked.'),
    }).strict()).optional()
      .describe("Per output, the golden outputs tolerance { abs, rel, topK }; integer and bool outputs are exact. Default: chosen from how each target runs the model (README: tolerance table)."),
  })
  .strict()
  .default({ input: 'auto', maxLatencyMs: 2000, requests: 5 })
  .describe('The smoke test run against every new deployment before it takes traffic.');

export const configSchema = z
  .object({
    /** Lowercase name used to derive every resource name (1-40 chars, a-z, 0-9, -). */
    name: z.string().regex(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/, 'must start with a lowercase letter, end with a letter or digit, and contain only a-z, 0-9 and -, at most 40 characters')
      .describe('Lowercase name used to derive every resource name (1-40 chars: a-z, 0-9, -).'),
    model: modelSchema,
    runtime: runtimeSchema,
    /** Named targets, each discriminated by `type`. */
    targets: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/, 'must start with a letter and contain only letters, digits and -'), targetSchema)
      .refine((t) => Object.keys(t).length > 0, 'needs at least one target, e.g. { local: { type: "local" } }')
      .describe('Named targets, each discriminated by type.'),
    smoke: smokeSchema,
  })
  .strict();

/** What the user writes (defaults optional); `config-types.ts` spells the same type with each field's docs. */
export type UserConfigInput = z.input<typeof configSchema>;
/** What the toolkit works with (defaults applied). */
export type Config = z.output<typeof configSchema>;
export type TargetConfig = Config['targets'][string];
export type TargetType = TargetConfig['type'];
/** The config entry of one target type, e.g. `TargetConfigOf<'aws-lambda'>`. */
export type TargetConfigOf<T extends TargetType> = Extract<TargetConfig, { type: T }>;
export type SmokeConfig = z.output<typeof smokeSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type RuntimeConfig = z.output<typeof runtimeSchema>;
/**
 * The config without its targets: what a target's planner and driver read besides their own
 * entry. Declared apart from `Config` because the target schemas, and so `Config`, come from the
 * target modules, whose types read this.
 */
export interface ProjectConfig {
  name: string;
  model: ModelConfig;
  runtime: RuntimeConfig;
  smoke: SmokeConfig;
}
