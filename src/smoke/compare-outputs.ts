// Outputs compared with reference outputs (golden outputs): the same shapes, and values within a tolerance.

/** One output of a v2 response (KServe v2 / Open Inference Protocol). */
export interface V2OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

export interface OutputComparison {
  name: string;
  passed: boolean;
  /** Largest absolute difference; Infinity when shapes, sizes or NaNs differ; null when the output is missing. */
  maxAbsDiff: number | null;
  message: string;
}

function maxAbsDiff(a: readonly unknown[], b: readonly unknown[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    // String tensors must match exactly; non-finite floats arrive as "NaN" / "Infinity" from JSON.
    if (typeof a[i] === 'string' && typeof b[i] === 'string' && Number.isNaN(Number(a[i]))) return Number.POSITIVE_INFINITY;
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (x === y) continue;
    max = Math.max(max, Math.abs(x - y));
  }
  return max;
}

/**
 * Compares each expected output with the actual one: same shape, and every value within
 * `tolerance` (strings and booleans must be equal). One entry per expected output.
 */
export function compareOutputs(expected: { outputs: V2OutputTensor[] }, actual: { outputs: V2OutputTensor[] }, tolerance: number): OutputComparison[] {
  return expected.outputs.map((want) => {
    const got = actual.outputs.find((o) => o.name === want.name);
    if (!got) return { name: want.name, passed: false, maxAbsDiff: null, message: `output ${want.name} is missing from the answer` };
    if (got.shape.join(',') !== want.shape.join(',')) {
      return { name: want.name, passed: false, maxAbsDiff: Number.POSITIVE_INFINITY, message: `shape [${got.shape.join(', ')}], the reference has [${want.shape.join(', ')}]` };
    }
    const diff = maxAbsDiff(want.data, got.data);
    const passed = diff <= tolerance;
    return { name: want.name, passed, maxAbsDiff: diff, message: `max |Δ| ${diff.toExponential(2)} ${passed ? '<=' : '>'} tolerance ${tolerance}` };
  });
}
