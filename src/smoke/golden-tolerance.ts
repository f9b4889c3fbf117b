/** The tolerance golden outputs are checked with: chosen from how a target runs the model, overridable per output (`smoke.tolerance`). */
import type { OutputTolerance, V2OutputTensor } from './compare-outputs.js';

/** How a target computes: what its answers may differ from onnxruntime on the build machine's CPU by. */
export type Numerics = 'cpu-same-arch' | 'cpu-other-arch' | 'cuda' | 'tensorrt-fp16' | 'int8';

/**
 * The default float tolerance of each kind of target; an element passes when
 * `|actual - expected| <= abs + rel * |expected|`. Integer, bool and string outputs are exact.
 * The README's table shows the same numbers (`test/smoke/golden-tolerance.test.ts` keeps them equal).
 */
export const DEFAULT_TOLERANCES: Readonly<Record<Numerics, { abs: number; rel: number; why: string }>> = {
  'cpu-same-arch': { abs: 1e-5, rel: 1e-4, why: 'onnxruntime on CPU, the architecture the golden outputs were recorded on (thread counts reorder sums)' },
  'cpu-other-arch': { abs: 1e-4, rel: 1e-3, why: 'onnxruntime on CPU on another architecture, OpenVINO, or WebAssembly (other kernels and FMA)' },
  cuda: { abs: 1e-3, rel: 1e-2, why: 'CUDA or TensorRT in fp32 (TF32 matmuls keep 10 mantissa bits)' },
  'tensorrt-fp16': { abs: 1e-2, rel: 5e-2, why: 'TensorRT in fp16 (11 mantissa bits through every layer)' },
  int8: { abs: 1e-1, rel: 2e-1, why: 'TensorRT int8 (calibrated; ask for a top-k check on classifiers)' },
};

/** The CPU architecture in the config's words (`x86_64`, `arm64`) of a Node `process.arch`. */
export function configArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'x86_64' : arch;
}

/**
 * How a target entry runs the model, read from its fields: the GPU targets' Triton `engine` and
 * `precision`, a container's engine, a CPU target's architecture against the build machine's,
 * and the execution providers of the project's runtime.
 */
export function numericsOf(target: { type: string } & Record<string, unknown>, executionProviders: readonly string[] = ['cpu'], hostArch: string = configArch()): Numerics {
  const triton = (target.triton ?? {}) as Record<string, unknown>;
  const engine = String(target.engine ?? triton.engine ?? '');
  const precision = String(target.precision ?? triton.precision ?? '');
  const gpuTarget = ['aws-sagemaker', 'gcp-vertex', 'azure-ml'].includes(target.type) || engine === 'triton';
  if (gpuTarget) {
    const tensorrt = target.type === 'container' ? (triton.engine ?? 'tensorrt') === 'tensorrt' : (engine || 'tensorrt') === 'tensorrt';
    if (!tensorrt) return 'cuda';
    const p = precision || 'fp16';
    return p === 'int8' ? 'int8' : p === 'fp32' ? 'cuda' : 'tensorrt-fp16';
  }
  if (engine === 'openvino' || target.type === 'web' || target.type === 'react-native') return 'cpu-other-arch';
  if (executionProviders.some((p) => p === 'cuda' || p === 'tensorrt')) return 'cuda';
  const platforms = Array.isArray(target.platforms) ? (target.platforms as string[]) : [];
  const arches = platforms.length ? platforms.map((p) => (p.endsWith('arm64') ? 'arm64' : 'x86_64')) : [String(target.architecture ?? (target.type === 'local' ? hostArch : 'x86_64'))];
  return arches.every((a) => a === hostArch) ? 'cpu-same-arch' : 'cpu-other-arch';
}

/** Each output's tolerance: the user's `smoke.tolerance` entry over the target's default. */
export function toleranceFor(numerics: Numerics, overrides: Readonly<Record<string, Partial<OutputTolerance>>> = {}): (output: Pick<V2OutputTensor, 'name'>) => OutputTolerance {
  const base = DEFAULT_TOLERANCES[numerics];
  return (output) => {
    const own = overrides[output.name] ?? {};
    return { abs: own.abs ?? base.abs, rel: own.rel ?? base.rel, ...(own.topK ? { topK: own.topK } : {}) };
  };
}
