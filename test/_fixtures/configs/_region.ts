export function readRegion(stage: string): string {
  throw new Error(`no region is configured for stage ${stage}`);
}
