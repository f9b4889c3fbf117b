/** The label on every container a local deployment runs with package 'image', by which destroy finds the ones a killed daemon left. */
import { createHash } from 'node:crypto';
import path from 'node:path';

export const LOCAL_IMAGE_LABEL = 'io.deploy-model.local';

/** One value per state folder and key: the daemon's containers, and no other deployment's. */
export function imageLabels(stateDir: string, key: string): Record<string, string> {
  return { [LOCAL_IMAGE_LABEL]: createHash('sha256').update(`${path.resolve(stateDir)}\0${key}`).digest('hex').slice(0, 24) };
}

/** `<builder> ps --all --quiet --filter label=...`: the IDs of this deployment's containers, running or not. */
export function planListContainers(builder: string, stateDir: string, key: string): string[] {
  const [[name, value]] = Object.entries(imageLabels(stateDir, key)) as [[string, string]];
  return [builder, 'ps', '--all', '--quiet', '--filter', `label=${name}=${value}`];
}
