export function memoryFor(stage: string): number {
  return stage === 'prod' ? 3008 : 1024;
}
