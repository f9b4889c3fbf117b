/** Small statistics and printing helpers shared by the benchmarks. */

/** `BENCH_QUICK=1`: fewer rounds and shorter runs, for a quick look. */
export const QUICK = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const ms = (v: number, digits = 2) => `${v.toFixed(digits)} ms`;
export const ratio = (v: number) => `${v.toFixed(2)}x`;
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** A plain text table: the header row, then rows, columns padded. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/**
 * Runs `a` and `b` alternately for `rounds` rounds (ABAB…, with the order flipped every other
 * round so neither always goes first) and returns each side's results, one per round.
 */
export async function interleave<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

/**
 * Wall and CPU milliseconds per call of `fn`, over `n` calls. CPU time (this process, all its
 * threads) does not count the time other processes on a shared machine took the CPU away, so it
 * is the steadier figure of the two.
 */
export async function timeBlock(n: number, fn: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const wall = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 / n };
}

/** Times `fn` `n` times; milliseconds per call. */
export async function timeEach(n: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
