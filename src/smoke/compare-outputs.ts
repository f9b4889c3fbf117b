// Outputs compared with reference outputs (golden outputs): the same shapes, values within a tolerance, top-k agreement.

/** One output of a v2 response (KServe v2 / Open Inference Protocol). */
export interface V2OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/**
 * How far an output may stray from its reference: an element passes when
 * `|actual - expected| <= abs + rel * |expected|` (numpy's `allclose`). Integer, bool and string
 * outputs are always compared exactly.
 */
export interface OutputTolerance {
  abs: number;
  rel: number;
  /** Also require the same top-k classes along the last axis, row by row. @default - not checked */
  topK?: number;
}

/** The element that strayed furthest past its tolerance. */
export interface WorstElement {
  /** Flat index into the output's data. */
  index: number;
  /** Its position in the output's shape. */
  position: number[];
  expected: unknown;
  actual: unknown;
}

export interface OutputComparison {
  name: string;
  passed: boolean;
  /** Largest absolute difference; Infinity when shapes, sizes or NaNs differ; null when the output is missing. */
  maxAbsDiff: number | null;
  /** Largest `|actual - expected| / |expected|` over the elements whose reference is not 0; null when the output is missing. @default - not computed (one absolute tolerance) */
  maxRelDiff?: number | null;
  /** The tolerance applied. */
  tolerance?: OutputTolerance;
  /** The element furthest past its tolerance, when one is. */
  worst?: WorstElement;
  message: string;
}

const EXACT: OutputTolerance = { abs: 0, rel: 0 };

/** Whether a v2 datatype holds floating-point values, whose answers may differ within a tolerance. */
export function isFloatDatatype(datatype: string): boolean {
  return /^(FP|BF)\d+$/.test(datatype);
}

function positionOf(index: number, shape: number[]): number[] {
  const out: number[] = new Array(shape.length).fill(0);
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] || 1;
    out[d] = rest % size;
    rest = Math.floor(rest / size);
  }
  return out;
}

interface Diff { maxAbs: number; maxRel: number; worst?: { index: number; excess: number }; failed: number }

function diffValues(a: readonly unknown[], b: readonly unknown[], tol: OutputTolerance): Diff {
  if (a.length !== b.length) return { maxAbs: Number.POSITIVE_INFINITY, maxRel: Number.POSITIVE_INFINITY, failed: Math.max(a.length, b.length) };
  let maxAbs = 0;
  let maxRel = 0;
  let failed = 0;
  let worst: Diff['worst'];
  const fail = (index: number, excess: number) => {
    failed++;
    if (!worst || excess > worst.excess) worst = { index, excess };
  };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    // String tensors must match exactly; non-finite floats arrive as "NaN" / "Infinity" from JSON.
    if (typeof a[i] === 'string' && typeof b[i] === 'string' && Number.isNaN(Number(a[i]))) {
      maxAbs = maxRel = Number.POSITIVE_INFINITY;
      fail(i, Number.POSITIVE_INFINITY);
      continue;
    }
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) {
        maxAbs = maxRel = Number.POSITIVE_INFINITY;
        fail(i, Number.POSITIVE_INFINITY);
      }
      continue;
    }
    if (x === y) continue;
    const d = Math.abs(x - y);
    maxAbs = Math.max(maxAbs, d);
    if (x !== 0) maxRel = Math.max(maxRel, d / Math.abs(x));
    const allowed = tol.abs + tol.rel * Math.abs(x);
    if (!(d <= allowed)) fail(i, d - allowed);
  }
  return { maxAbs, maxRel, failed, ...(worst ? { worst } : {}) };
}

const fmt = (n: number): string => (Number.isFinite(n) ? (n === 0 ? '0' : n.toExponential(2)) : String(n));
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));

function describeTolerance(tol: OutputTolerance): string {
  if (tol.abs === 0 && tol.rel === 0) return 'exact';
  return `abs ${tol.abs}${tol.rel ? ` + rel ${tol.rel}` : ''}`;
}

/** The indices of the k largest values of `row`, as a sorted set. */
function topIndices(row: number[], k: number): number[] {
  return row.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]).slice(0, k).map(([, i]) => i).sort((p, q) => p - q);
}

/**
 * Whether the top-k classes along the last axis agree, row by row: the first row that differs,
 * or undefined when every row agrees.
 */
export function topKDisagreement(expected: V2OutputTensor, actual: V2OutputTensor, k: number): { row: number; expected: number[]; actual: number[] } | undefined {
  const classes = expected.shape[expected.shape.length - 1] ?? expected.data.length;
  if (!classes) return undefined;
  for (let row = 0; row * classes < expected.data.length; row++) {
    const slice = (t: V2OutputTensor) => t.data.slice(row * classes, (row + 1) * classes).map(Number);
    const want = topIndices(slice(expected), k);
    const got = topIndices(slice(actual), k);
    if (want.join(',') !== got.join(',')) return { row, expected: want, actual: got };
  }
  return undefined;
}

/**
 * Compares each expected output with the actual one: same shape, and every value within its
 * tolerance. `tolerance` is either one absolute tolerance for every value (strings and booleans
 * must be equal), or a function giving each output's tolerance (integer and bool outputs are then
 * compared exactly). One entry per expected output, plus one per top-k check asked for.
 */
export function compareOutputs(
  expected: { outputs: V2OutputTensor[] },
  actual: { outputs: V2OutputTensor[] },
  tolerance: number | ((output: V2OutputTensor) => OutputTolerance),
): OutputComparison[] {
  if (typeof tolerance === 'number') return expected.outputs.map((want) => compareAbsolute(want, actual.outputs.find((o) => o.name === want.name), tolerance));
  return expected.outputs.flatMap((want) => {
    const asked = tolerance(want);
    const tol = isFloatDatatype(want.datatype) ? asked : { ...EXACT, ...(asked.topK ? { topK: asked.topK } : {}) };
    return compareWithin(want, actual.outputs.find((o) => o.name === want.name), tol);
  });
}

/** One absolute tolerance for every value: the comparison the web target's page reports. */
function compareAbsolute(want: V2OutputTensor, got: V2OutputTensor | undefined, tolerance: number): OutputComparison {
  if (!got) return { name: want.name, passed: false, maxAbsDiff: null, message: `output ${want.name} is missing from the answer` };
  if (got.shape.join(',') !== want.shape.join(',')) {
    return { name: want.name, passed: false, maxAbsDiff: Number.POSITIVE_INFINITY, message: `shape [${got.shape.join(', ')}], the reference has [${want.shape.join(', ')}]` };
  }
  const diff = diffValues(want.data, got.data, { abs: tolerance, rel: 0 }).maxAbs;
  const passed = diff <= tolerance;
  return { name: want.name, passed, maxAbsDiff: diff, message: `max |Δ| ${diff.toExponential(2)} ${passed ? '<=' : '>'} tolerance ${tolerance}` };
}

/** An output against its reference within `abs + rel * |expected|`, naming the worst element when one strays; and its top-k check. */
function compareWithin(want: V2OutputTensor, got: V2OutputTensor | undefined, tol: OutputTolerance): OutputComparison[] {
  if (!got) return [{ name: want.name, passed: false, maxAbsDiff: null, maxRelDiff: null, tolerance: tol, message: `output ${want.name} is missing from the answer` }];
  if (got.shape.join(',') !== want.shape.join(',')) {
    return [{ name: want.name, passed: false, maxAbsDiff: Number.POSITIVE_INFINITY, maxRelDiff: Number.POSITIVE_INFINITY, tolerance: tol, message: `shape [${got.shape.join(', ')}], the reference has [${want.shape.join(', ')}]` }];
  }
  const diff = diffValues(want.data, got.data, tol);
  const passed = diff.failed === 0;
  const errors = `max abs error ${fmt(diff.maxAbs)}, max rel error ${fmt(diff.maxRel)}`;
  let message: string;
  let worst: WorstElement | undefined;
  if (passed) message = `${errors} within ${describeTolerance(tol)}`;
  else if (want.data.length !== got.data.length) message = `${got.data.length} values, the reference has ${want.data.length}`;
  else {
    const i = diff.worst!.index;
    worst = { index: i, position: positionOf(i, want.shape), expected: want.data[i], actual: got.data[i] };
    message = `element [${worst.position.join(', ')}] is ${show(worst.actual)}, the reference has ${show(worst.expected)}: outside the tolerance (${describeTolerance(tol)}); ${diff.failed} of ${want.data.length} values outside; ${errors}`;
  }
  const out: OutputComparison[] = [{ name: want.name, passed, maxAbsDiff: diff.maxAbs, maxRelDiff: diff.maxRel, tolerance: tol, ...(worst ? { worst } : {}), message }];
  if (tol.topK) {
    const miss = topKDisagreement(want, got, tol.topK);
    out.push({
      name: `${want.name} top-${tol.topK}`, passed: !miss, maxAbsDiff: diff.maxAbs, maxRelDiff: diff.maxRel, tolerance: tol,
      message: miss ? `row ${miss.row}: top-${tol.topK} classes [${miss.actual.join(', ')}], the reference has [${miss.expected.join(', ')}]` : `top-${tol.topK} classes agree on every row`,
    });
  }
  return out;
}
