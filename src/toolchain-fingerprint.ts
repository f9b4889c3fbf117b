// The fingerprint of what builds artifacts: deploy-model's version and its runtime and layer sources.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot, packageVersion } from './package-root.js';

let toolchain: string | undefined;

/**
 * deploy-model's version and, in a checkout, the sizes and times of the sources that go into
 * artifacts (the runtime and the layer builder), so that editing them rebuilds. Shared by the
 * toolkit's build cache and the CDK constructs' build-at-synth cache; computed once per process.
 */
export function toolchainFingerprint(): string {
  if (toolchain !== undefined) return toolchain;
  const hash = createHash('sha256').update(packageVersion());
  for (const folder of ['handlers', 'layers']) {
    const dir = path.join(packageRoot(), folder);
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const info = statSync(path.join(dir, name));
      if (info.isFile()) hash.update(`${folder}/${name}\0${info.size}\0${info.mtimeMs}\n`);
    }
  }
  toolchain = hash.digest('hex');
  return toolchain;
}
