import { rmSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IoHelper } from '../../io/io-host.js';
import { readValidationReport, type NagFinding } from '../aws-lambda/synth.js';
import { sageMakerNames } from './names.js';
import { buildSageMakerStack, type BuildSageMakerStackOptions } from './stack.js';

export interface SynthSageMakerTargetOptions extends BuildSageMakerStackOptions {
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
   * Run aws-cdk-lib's built-in CloudFormation validation (over a second per synth).
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Run cdk-nag's AwsSolutionsChecks.
   * @default true
   */
  readonly nag?: boolean;
  readonly io?: IoHelper;
}

export interface SynthSageMakerTargetResult {
  readonly assemblyDir: string;
  readonly stackName: string;
  readonly endpointName: string;
  readonly templateFile: string;
  /** Unacknowledged cdk-nag findings; empty when the stack passes. */
  readonly nagFindings: NagFinding[];
  readonly durationMs: number;
}

/** Synthesises one aws-sagemaker target into its own cloud assembly, with cdk-nag. */
export function synthSageMakerTarget(options: SynthSageMakerTargetOptions): SynthSageMakerTargetResult {
  const started = performance.now();
  const names = sageMakerNames(options.config.name, options.stage, options.targetName);
  const assemblyDir = path.resolve(options.outdir ?? path.join(options.rootDir ?? process.cwd(), 'cdk.out', names.stackName));
  if (!options.outdir) rmSync(assemblyDir, { recursive: true, force: true });

  const app = new App({
    outdir: assemblyDir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    // Findings are returned to the caller instead of failing synth and printing to the console.
    context: { '@aws-cdk/core:failSynthOnValidationErrors': false },
  });
  const stack = buildSageMakerStack(app, options);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const assembly = app.synth();
  const templateFile = assembly.getStackArtifact(stack.artifactId).templateFullPath;
  const nagFindings = readValidationReport(assembly.directory);
  const durationMs = Math.round(performance.now() - started);

  options.io?.info('DM_SYNTH_DONE', `Synthesised ${names.stackName} in ${durationMs} ms`, { stackName: names.stackName, assemblyDir: assembly.directory, templateFile, durationMs });
  for (const f of nagFindings) options.io?.warn('DM_NAG_FINDING', `${f.constructPath}: ${f.ruleId}: ${f.description}`, f);
  return { assemblyDir: assembly.directory, stackName: names.stackName, endpointName: names.endpointName, templateFile, nagFindings, durationMs };
}
