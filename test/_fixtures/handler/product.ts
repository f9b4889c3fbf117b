export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
