import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * cfn-lint (aws-cloudformation/cfn-lint) checks a template against the CloudFormation resource
 * provider schemas it bundles (`cfnlint/data/schemas`), region by region, plus its own rules: a
 * reference we did not write, so it catches what our own assertions share assumptions with.
 */

const run = promisify(execFile);

/** The version the suppressions below were verified against. */
export const CFN_LINT_VERIFIED_VERSION = '1.51.0';

let probed: { version?: string } | undefined;

/** `cfn-lint --version` (`cfn-lint 1.51.0`) as `1.51.0`, or undefined when it does not run; asked once (it takes seconds). */
export function cfnLintVersion(): string | undefined {
  if (!probed) {
    const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    probed = { version: probe.error || probe.status !== 0 ? undefined : probe.stdout.trim().replace(/^cfn-lint\s+/, '') };
  }
  return probed.version;
}

/** Why cfn-lint cannot run here, or undefined when it can. */
export function cfnLintMissing(): string | undefined {
  return cfnLintVersion() ? undefined : `cfn-lint is not on PATH (pip install cfn-lint==${CFN_LINT_VERIFIED_VERSION}; CI machines have it)`;
}

export interface CfnLintFinding {
  /** Rule id: E… error, W… warning, I… informational. */
  readonly rule: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  readonly template: string;
  /** Where in the template, e.g. `Resources/EndpointScalableTarget3226CE36/Properties/Tags`. */
  readonly path: string;
  /** The type of the resource the path is under, when it is under one. */
  readonly resourceType?: string;
  readonly message: string;
}

/** A finding that cfn-lint gets wrong, named with the reason it is wrong. */
export interface CfnLintSuppression {
  readonly rule: string;
  readonly resourceType: string;
  /** The path under the resource, e.g. `Properties/Tags`. */
  readonly path: string;
  readonly reason: string;
}

interface CfnLintJson {
  Rule: { Id: string };
  Level: CfnLintFinding['level'];
  Filename: string;
  Location: { Path: Array<string | number> };
  Message: string;
}

/**
 * Runs one cfn-lint process over every template (it starts in about a second and lints each
 * template in tens of milliseconds), informational rules included, and returns its findings.
 */
export async function runCfnLint(templates: string[], regions: string[]): Promise<CfnLintFinding[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('cfn-lint', ['--format', 'json', '--include-checks', 'I', '--regions', ...regions, '--', ...templates], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (e) {
    // Exit codes 2, 4 and 8 flag errors, warnings and informational findings; 1 is a crash.
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number' || (err.code & 1) === 1 || !err.stdout) throw new Error(`cfn-lint failed (exit ${err.code}): ${err.stderr ?? e}`);
    stdout = err.stdout;
  }
  const resources = new Map<string, Record<string, { Type?: string }>>();
  const resourcesOf = (file: string) => {
    if (!resources.has(file)) resources.set(file, (JSON.parse(readFileSync(file, 'utf8')) as { Resources?: Record<string, { Type?: string }> }).Resources ?? {});
    return resources.get(file)!;
  };
  return (JSON.parse(stdout) as CfnLintJson[]).map((f) => {
    const location = f.Location.Path.map(String);
    return {
      rule: f.Rule.Id,
      level: f.Level,
      template: f.Filename,
      path: location.join('/'),
      resourceType: location[0] === 'Resources' && location[1] ? resourcesOf(f.Filename)[location[1]]?.Type : undefined,
      message: f.Message,
    };
  });
}

/** Whether a suppression covers a finding: same rule, same resource type, same path under the resource. */
export function suppressedBy(finding: CfnLintFinding, suppressions: readonly CfnLintSuppression[]): CfnLintSuppression | undefined {
  const underResource = finding.path.split('/').slice(2).join('/');
  return suppressions.find((s) => s.rule === finding.rule && s.resourceType === finding.resourceType && s.path === underResource);
}
