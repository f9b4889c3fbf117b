/** Synthesises one stack into its own cloud assembly, with cdk-nag, returning the findings. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { App, AssetStaging, type Stack } from 'aws-cdk-lib';
import type { AwsSolutionsChecks as AwsSolutionsChecksType } from 'cdk-nag';
import { defaultCacheDir } from '../../cache-dir.js';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { packageVersion } from '../../package-root.js';

const require = createRequire(import.meta.url);

export interface SynthStackOptions {
  /**
   * Folder that `outdir` defaults under.
   * @default process.cwd()
   */
  readonly rootDir?: string;
  /**
   * Where the cloud assembly is written. The default folder is emptied first; an explicit one is not.
   * @default <rootDir>/cdk.out/<stack name>
   */
  readonly outdir?: string;
  /**
   * Run aws-cdk-lib's built-in CloudFormation validation. Our stacks pass it (tests synthesise
   * the constructs with it on), and it dominates synth time: measured on a 2-core machine for the
   * Lambda stack with cdk-nag, CPU time of a first synth in a fresh process was 1.0-1.4 s off and
   * 7.3-8.8 s on (RSS 205 MB vs 520 MB); a repeat synth in the same process 40-95 ms vs 230-1100 ms.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Run cdk-nag's AwsSolutionsChecks.
   * @default true
   */
  readonly nag?: boolean;
  /**
   * Where cdk-nag's findings are kept per template: a template that was checked before (same
   * bytes, same cdk-nag and deploy-model versions) is not checked again.
   * @default <the toolkit's cache folder>/cdk-nag
   */
  readonly nagCacheDir?: string;
  /** Progress and findings go here. */
  readonly io?: IoHelper;
}

/** One unacknowledged rule violation from a validation plugin (cdk-nag). */
export interface NagFinding {
  /** Full rule id as it must be acknowledged, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly ruleId: string;
  readonly constructPath: string;
  readonly description: string;
  /** 'error' | 'warning' | ... as the plugin reports it. */
  readonly severity: string;
  readonly plugin: string;
}

export interface SynthStackResult {
  readonly assemblyDir: string;
  readonly stackName: string;
  readonly templateFile: string;
  /** Unacknowledged findings; empty when the stack passes. */
  readonly nagFindings: NagFinding[];
  readonly durationMs: number;
}

/**
 * Synthesises one stack into its own cloud assembly, with cdk-nag's AwsSolutionsChecks, and
 * returns the findings instead of failing synth and printing them. Shared by the AWS targets.
 */
export function synthStack(stackName: string, options: SynthStackOptions, build: (app: App) => Stack): SynthStackResult {
  const started = performance.now();
  const assemblyDir = path.resolve(options.outdir ?? path.join(options.rootDir ?? process.cwd(), 'cdk.out', stackName));
  if (!options.outdir) rmSync(assemblyDir, { recursive: true, force: true });
  // CDK remembers, per process, which assets it staged into which folder, and does not copy them
  // again: a second synth into a folder that was emptied (synth, then deploy, in one process)
  // would name asset files that are not there.
  AssetStaging.clearAssetHashCache();

  const app = new App({
    outdir: assemblyDir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    context: { '@aws-cdk/core:failSynthOnValidationErrors': false },
  });
  const stack = build(app);
  const assembly = app.synth();
  const templateFile = assembly.getStackArtifact(stack.artifactId).templateFullPath;
  const nag = options.nag ?? true ? nagCheck(app, templateFile, assembly, options) : undefined;
  const nagFindings = nag?.findings ?? [];
  const durationMs = Math.round(performance.now() - started);

  options.io?.info('DM_SYNTH_DONE', `Synthesised ${stackName} in ${durationMs} ms${nag?.cached ? ' (cdk-nag checked this template before)' : ''}`, { stackName, assemblyDir: assembly.directory, templateFile, durationMs, nagCached: nag?.cached ?? false });
  for (const f of nagFindings) options.io?.warn('DM_NAG_FINDING', `${f.constructPath}: ${f.ruleId}: ${f.description}`, f);
  return { assemblyDir: assembly.directory, stackName, templateFile, nagFindings, durationMs };
}

/**
 * cdk-nag's AwsSolutionsChecks over the synthesised app, remembered by the template it produced:
 * the rules read the resources' properties and the acknowledgements, which are all in the template
 * (and in deploy-model's own code, whose version is in the key). Re-synthesising an unchanged
 * stack, the usual case of synth, diff and deploy, then costs no check at all and does not even
 * load cdk-nag. The findings are also written to the assembly as `validation-report.json`, as
 * aws-cdk-lib writes it for validation plugins.
 */
function nagCheck(app: App, templateFile: string, assembly: { directory: string; version: string }, options: SynthStackOptions): { findings: NagFinding[]; cached: boolean } {
  const pluginName = 'AwsSolutions';
  const nagVersion = (require('cdk-nag/package.json') as { version: string }).version;
  const key = createHash('sha256').update(`cdk-nag ${nagVersion}\ndeploy-model ${packageVersion()}\n`).update(readFileSync(templateFile)).digest('hex');
  const cacheDir = options.nagCacheDir ?? path.join(defaultCacheDir(), 'cdk-nag');
  const cached = path.join(cacheDir, `${key}.json`);
  let findings: NagFinding[] | undefined;
  let hit = false;
  if (existsSync(cached)) {
    try {
      findings = JSON.parse(readFileSync(cached, 'utf8')) as NagFinding[];
      hit = true;
    } catch {
      findings = undefined; // unreadable: check again
    }
  }
  if (!findings) {
    const { AwsSolutionsChecks } = require('cdk-nag') as { AwsSolutionsChecks: typeof AwsSolutionsChecksType };
    const pack = new AwsSolutionsChecks();
    const report = pack.validateScope(app);
    findings = [];
    for (const v of report.violations) {
      for (const c of (v as { violatingConstructs?: Array<{ constructPath?: string }> }).violatingConstructs ?? [{}]) {
        findings.push({ ruleId: v.ruleName, constructPath: c.constructPath ?? '', description: v.description, severity: v.severity ?? 'error', plugin: pluginName });
      }
    }
    try {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.partial`;
      writeFileSync(tmp, JSON.stringify(findings));
      renameSync(tmp, cached);
    } catch {
      // A cache that cannot be written only costs the next synth a check.
    }
  }
  // aws-cdk-lib may have written the report already (its own template checks); the cdk-nag report
  // joins it, in the schema toolkit-lib validates before it deploys (version, conclusion).
  const reportFile = path.join(assembly.directory, 'validation-report.json');
  const existing = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReportJson) : undefined;
  const report: ValidationReportJson = {
    ...existing,
    version: existing?.version ?? assembly.version,
    pluginReports: [
      ...(existing?.pluginReports ?? []).filter((r) => r.pluginName !== pluginName),
      {
        pluginName,
        conclusion: findings.some((f) => f.severity === 'error' || f.severity === 'fatal') ? 'failure' : 'success',
        violations: findings.map((f) => ({ ruleName: f.ruleId, description: f.description, severity: f.severity, violatingConstructs: [{ constructPath: f.constructPath }] })),
      },
    ],
  };
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  return { findings, cached: hit };
}

/** The error for unacknowledged cdk-nag findings in a stack deploy-model builds: its own bug, not the user's. */
export function nagFindingsError(result: Pick<SynthStackResult, 'stackName' | 'nagFindings'>): DeployModelError {
  return new DeployModelError('NAG_FINDINGS', `The ${result.stackName} stack has ${result.nagFindings.length} unacknowledged cdk-nag finding(s):\n${result.nagFindings.map((f) => `  - ${f.ruleId} at ${f.constructPath}: ${f.description}`).join('\n')}\nThis is a bug in deploy-model's stack; please report it.`, { kind: 'internal', details: { findings: result.nagFindings } });
}

interface ValidationReportJson {
  version?: string;
  pluginReports?: Array<{
    pluginName: string;
    conclusion?: string;
    violations?: Array<{
      ruleName: string;
      description: string;
      severity?: string;
      violatingConstructs?: Array<{ constructPath?: string }>;
    }>;
  }>;
}

/** Reads `validation-report.json`, which aws-cdk-lib writes when validation plugins ran. */
export function readValidationReport(assemblyDir: string): NagFinding[] {
  const file = path.join(assemblyDir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReportJson;
  const findings: NagFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const v of plugin.violations ?? []) {
      for (const c of v.violatingConstructs ?? [{}]) {
        findings.push({ ruleId: v.ruleName, constructPath: c.constructPath ?? '', description: v.description, severity: v.severity ?? 'error', plugin: plugin.pluginName });
      }
    }
  }
  return findings;
}
