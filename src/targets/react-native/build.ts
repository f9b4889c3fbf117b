// Writes the React Native package the plan describes.
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../bundling/hash.js';
import type { IoHelper } from '../../io/io-host.js';
import { convertToOrt } from '../../kits/on-device/convert-to-ort.js';
import { assertNoErrors } from '../../kits/on-device/device-problem.js';
import { packageFolder, type RnPlan } from './plan.js';

export interface RnBuild {
  /** The package folder. */
  dir: string;
  files: { path: string; bytes: number; sha256: string }[];
}

/** Writes the package the plan describes into `<outDir>/<package folder>` (replaced). Refuses a plan with errors. */
export async function build(plan: RnPlan, options: { outDir: string; io?: IoHelper }): Promise<RnBuild> {
  assertNoErrors(plan.problems, 'RN_PLAN_INVALID', `The React Native package of ${plan.name}`);
  const dir = path.join(options.outDir, packageFolder(plan.packageName));
  await rm(dir, { recursive: true, force: true });
  options.io?.info('DM_RN_BUILD', `Writing the React Native package ${plan.packageName} to ${dir}`, { dir });
  const files: RnBuild['files'] = [];
  for (const f of plan.files) {
    const dest = path.join(dir, ...f.path.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    if (f.source.kind === 'generated') await writeFile(dest, f.source.content);
    else if (f.source.kind === 'model') await copyFile(f.source.file, dest);
    else await convertToOrt(f.source.file, dest);
    files.push({ path: f.path, bytes: (await stat(dest)).size, sha256: await sha256File(dest) });
  }
  return { dir, files };
}
