/** Synthesises one stack into its own cloud assembly, with cdk-nag, returning the findings. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { App, AssetStaging, Validations, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';

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
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const assembly = app.synth();
  const templateFile = assembly.getStackArtifact(stack.artifactId).templateFullPath;
  const nagFindings = readValidationReport(assembly.directory);
  const durationMs = Math.round(performance.now() - started);

  options.io?.info('DM_SYNTH_DONE', `Synthesised ${stackName} in ${durationMs} ms`, { stackName, assemblyDir: assembly.directory, templateFile, durationMs });
  for (const f of nagFindings) options.io?.warn('DM_NAG_FINDING', `${f.constructPath}: ${f.ruleId}: ${f.description}`, f);
  return { assemblyDir: assembly.directory, stackName, templateFile, nagFindings, durationMs };
}

/** The error for unacknowledged cdk-nag findings in a stack deploy-model builds: its own bug, not the user's. */
export function nagFindingsError(result: Pick<SynthStackResult, 'stackName' | 'nagFindings'>): DeployModelError {
  return new DeployModelError('NAG_FINDINGS', `The ${result.stackName} stack has ${result.nagFindings.length} unacknowledged cdk-nag finding(s):\n${result.nagFindings.map((f) => `  - ${f.ruleId} at ${f.constructPath}: ${f.description}`).join('\n')}\nThis is a bug in deploy-model's stack; please report it.`, { kind: 'internal', details: { findings: result.nagFindings } });
}

interface ValidationReportJson {
  pluginReports?: Array<{
    pluginName: string;
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
