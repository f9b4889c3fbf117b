/**
 * What a new target type takes: the throwaway target under `_throwaway/` (schema, plan, driver,
 * index), registered for this file only by adding it to the list in
 * src/targets/registered-targets.ts, keeps the same rollout contract as the real targets; and the
 * files it took are counted, so src/targets/README.md's figures stay true.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { KNOWN_TARGET_TYPES, targetModule } from '../../src/targets/registry.js';
import { describeTargetContract } from './_contract/describe-target-contract.js';
import { throwawayTarget } from './_throwaway/index.js';

vi.mock('../../src/targets/registered-targets.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/targets/registered-targets.js')>();
  const { throwawayTarget: added } = await import('./_throwaway/index.js');
  return { TARGETS: [...real.TARGETS, added] };
});

const FOLDER = path.join(import.meta.dirname, '_throwaway');
const ROOT = path.join(import.meta.dirname, '../..');

describe('a new target type', () => {
  it('is registered by the one list: the registry, the config schema and the error messages know it', () => {
    expect(KNOWN_TARGET_TYPES).toContain('throwaway');
    expect(targetModule('throwaway')).toBe(throwawayTarget);
    const parsed = configSchema.safeParse({ name: 'adder', model: { path: './m.onnx' }, targets: { t: { type: 'throwaway' } } });
    expect(parsed.error).toBeUndefined();
    // The schema is the target's own: a field it does not declare is refused on that field.
    const misspelt = configSchema.safeParse({ name: 'adder', model: { path: './m.onnx' }, targets: { t: { type: 'throwaway', memmory: 1 } } });
    expect(misspelt.success).toBe(false);
  });

  it('takes four files of its own and no change to an existing file of src/', async () => {
    const files = (await readdir(FOLDER)).sort();
    const lines = await Promise.all(files.map(async (f) => (await readFile(path.join(FOLDER, f), 'utf8')).trimEnd().split('\n').length));
    // The figures src/targets/README.md quotes ("Adding a target").
    expect(files).toEqual(['driver.ts', 'index.ts', 'plan.ts', 'schema.ts']);
    const readme = await readFile(path.join(ROOT, 'src/targets/README.md'), 'utf8');
    const quoted = Object.fromEntries([...readme.matchAll(/^\| `(\w+\.ts)` \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(quoted).toEqual(Object.fromEntries(files.map((f, i) => [f, lines[i]])));
    expect(readme).toContain(`| **${files.length} files** | **${lines.reduce((a, b) => a + b, 0)}** |`);
    // Registering it took no line in src/: nothing there names it.
    const named: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (/'throwaway'|throwawayTarget/.test(await readFile(p, 'utf8'))) named.push(path.relative(ROOT, p));
      }
    };
    await walk(path.join(ROOT, 'src'));
    expect(named).toEqual([]);
  });
});

describeTargetContract('throwaway', { entry: { type: 'throwaway' }, deployedState: 'running', invocable: true, remoteState: false });
