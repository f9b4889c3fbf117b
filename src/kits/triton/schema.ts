// The Triton options shared by the GPU targets, and the Triton release they serve with.
import { z } from 'zod';

/**
 * The Triton release every GPU target serves with, in one place. It picks the NGC / SageMaker
 * image tag (`<version>-py3`) and so the TensorRT that builds engines: changing it invalidates
 * every cached engine (they are rebuilt at the next load), so bump it deliberately.
 */
export const DEFAULT_TRITON_VERSION = '25.06';

/** TensorRT's scratch memory default, in MB; large convolutions may want more. */
export const DEFAULT_WORKSPACE_MB = 4096;

/**
 * The Triton options of the GPU targets (SageMaker, Vertex AI, Azure ML, GPU container), as a raw
 * shape so that each target schema can spread it next to its own fields and stay one flat object:
 * `z.object({ type: z.literal('aws-sagemaker'), ...tritonOptionsShape, ... }).strict().superRefine(checkTritonOptions)`.
 */
export const tritonOptionsShape = {
  /**
   * `tensorrt` runs the ONNX model through ONNX Runtime's TensorRT execution provider (engines
   * built on the serving GPU at load); `onnxruntime` uses ONNX Runtime's CUDA provider only.
   * @default 'tensorrt'
   */
  engine: z.enum(['tensorrt', 'onnxruntime']).default('tensorrt')
    .describe("'tensorrt' builds TensorRT engines on the serving GPU at load (faster inference, slower start); 'onnxruntime' runs ONNX Runtime's CUDA provider. Default: 'tensorrt'."),
  /**
   * TensorRT precision. `int8` needs `int8Calibration`; ignored by the `onnxruntime` engine.
   * @default 'fp16'
   */
  precision: z.enum(['fp16', 'fp32', 'int8']).default('fp16')
    .describe("TensorRT precision; 'int8' needs int8Calibration. Ignored by engine 'onnxruntime'. Default: 'fp16'."),
  /**
   * INT8 calibration table, shipped in the model repository next to the engine cache, where
   * ONNX Runtime's TensorRT provider looks for it.
   * @default - none (required when precision is 'int8')
   */
  int8Calibration: z
    .object({
      /** Path of the calibration table file, relative to the config file. */
      table: z.string().min(1).describe('Path of the calibration table file, relative to the config file.'),
      /**
       * Who wrote the table: ONNX Runtime's calibration tools or TensorRT itself.
       * @default 'onnxruntime'
       */
      format: z.enum(['onnxruntime', 'tensorrt']).default('onnxruntime')
        .describe("Who wrote the table: ONNX Runtime's calibration tools ('onnxruntime') or TensorRT ('tensorrt'). Default: 'onnxruntime'."),
    })
    .strict()
    .optional()
    .describe("INT8 calibration table, shipped with the model. Default: none (required when precision is 'int8')."),
  /**
   * TensorRT's maximum scratch GPU memory while building and running engines, in MB.
   * @default 4096
   */
  workspaceMb: z.number().int().min(16).max(1024 * 1024).default(DEFAULT_WORKSPACE_MB)
    .describe(`TensorRT's maximum scratch GPU memory, in MB. Default: ${DEFAULT_WORKSPACE_MB}.`),
  /**
   * Model instances per GPU; more instances overlap requests at the cost of GPU memory.
   * @default 1
   */
  instancesPerGpu: z.number().int().min(1).max(64).default(1)
    .describe('Model instances per GPU (Triton instance_group count). Default: 1.'),
  /**
   * Triton release (`YY.MM`) of the serving image.
   * @default DEFAULT_TRITON_VERSION
   */
  tritonVersion: z.string().regex(/^\d{2}\.\d{2}$/, "must be a Triton release such as '25.06'").default(DEFAULT_TRITON_VERSION)
    .describe(`Triton release (YY.MM) of the serving image. Default: '${DEFAULT_TRITON_VERSION}'.`),
  /**
   * Absolute directory on the serving host where TensorRT engines are cached, so that a restart
   * of the server reuses them instead of building again. Its parent must exist there.
   * @default - `<model repository>/<model>/trt_engine_cache` where the target mounts the
   * repository at a fixed path (SageMaker `/opt/ml/model`, container `/models`), else
   * `/var/tmp/trt_engine_cache`; see `defaultEngineCachePath`
   */
  engineCachePath: z.string().regex(/^\/[^\0]*$/, 'must be an absolute path on the serving host, e.g. /opt/ml/model/cache').optional()
    .describe('Absolute directory on the serving host where TensorRT engines are cached across server restarts. Default: <model repository>/<model>/trt_engine_cache on SageMaker and containers, /var/tmp/trt_engine_cache on Vertex AI and Azure ML.'),
  /**
   * Runs one generated request through every instance before the model reports ready, so that
   * TensorRT builds its engines during startup instead of in the first user request.
   * @default true
   */
  warmup: z.boolean().default(true)
    .describe('Runs one generated request before the model reports ready, so engines are built during startup rather than in the first request. Default: true.'),
};

/** Cross-field rules of the Triton options, for `superRefine` on every schema that spreads them. */
export function checkTritonOptions(value: { engine: string; precision: string; int8Calibration?: unknown }, ctx: z.RefinementCtx): void {
  if (value.precision !== 'int8') return;
  if (value.engine !== 'tensorrt') {
    ctx.addIssue({
      code: 'custom',
      path: ['precision'],
      message: "precision 'int8' needs engine 'tensorrt' (ONNX Runtime's CUDA provider has no INT8 mode); set engine: 'tensorrt' or precision: 'fp16'",
    });
  }
  if (value.int8Calibration === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['int8Calibration'],
      message: "precision 'int8' needs a calibration table: set int8Calibration: { table: './calibration.flatbuffers' } (written by onnxruntime.quantization or TensorRT), or use precision 'fp16'",
    });
  }
}

/** The Triton options on their own, e.g. for tests and for callers that plan one repository. */
export const tritonOptionsSchema = z.object(tritonOptionsShape).strict().superRefine(checkTritonOptions);

export type TritonOptionsInput = z.input<typeof tritonOptionsSchema>;
export type TritonOptions = z.output<typeof tritonOptionsSchema>;
