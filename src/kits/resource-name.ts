/** The one place `<name>-<stage>-<target>` is built: the base of every resource name a target derives. */
export function resourceName(name: string, stage: string, targetName: string): string {
  return `${name}-${stage}-${targetName}`;
}
