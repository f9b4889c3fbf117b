import os from 'node:os';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { IoHelper, silentIoHost, type IoHost } from '../io/io-host.js';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from '../config/load-config.js';
import { problemLine, type ConfigProblem } from '../config/format-issues.js';
import { inspectModel, servabilityProblems } from '../model/inspect-model.js';
import type { ModelSignature } from '../model/types.js';
import { resolveShape } from '../model/resolve-shape.js';
import { runSmoke, type SmokeResult } from '../smoke/run-smoke.js';
import { smokeRequest, type V2Request } from '../smoke/smoke-input.js';
import type { BuildResult, DestroyResult, TargetContext, TargetDriver, TargetStatus } from '../targets/driver.js';
import { driverFor } from '../targets/registry.js';
import type { InferenceCall } from '../smoke/run-smoke.js';

export interface ToolkitOptions {
  /** Where progress goes. @default - nowhere */
  ioHost?: IoHost;
  /** Cache for layers and base images. @default ~/.cache/deploy-model (XDG_CACHE_HOME honoured) */
  cacheDir?: string;
}

/** A loaded config with its model's signature: what every action starts from. */
export interface Project {
  loaded: LoadedConfig;
  signature: ModelSignature;
}

export interface TargetReport {
  name: string;
  type: string;
  endpoint?: string;
  version?: string;
  status: 'passed' | 'failed';
  latencyMs?: { p50: number; max: number };
  checks: SmokeResult['checks'];
  promoted?: boolean;
  error?: { code: string; message: string };
  details?: Record<string, unknown>;
  /** Milliseconds this target took, from its start to its report (targets run in parallel). */
  durationMs: number;
}

export interface DeployReport {
  targets: TargetReport[];
}

/**
 * The programmatic API under the CLI: one method per action. Silent: progress goes to the IoHost.
 */
export class Toolkit {
  private readonly io: IoHelper;
  private readonly cacheDir: string;

  constructor(options: ToolkitOptions = {}) {
    this.io = new IoHelper(options.ioHost ?? silentIoHost);
    this.cacheDir = options.cacheDir ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'deploy-model');
  }

  async inspect(modelPath: string): Promise<ModelSignature> {
    return inspectModel(modelPath);
  }

  /** Loads the config and reads its model's signature. */
  async load(options: LoadConfigOptions = {}): Promise<Project> {
    const loaded = await loadConfig(options);
    this.io.debug('DM_CONFIG_LOADED', `Loaded ${loaded.configFile} (stage ${loaded.stage})`, { file: loaded.configFile, stage: loaded.stage });
    const signature = await inspectModel(loaded.modelPath);
    this.io.debug('DM_MODEL_INSPECTED', `Model ${signature.file}: ${signature.inputs.length} inputs, ${signature.outputs.length} outputs`, { sha256: signature.sha256 });
    return { loaded, signature };
  }

  /** Everything that can be checked without a cloud. Returns the problems; none means valid. */
  async validate(project: Project, targets?: string[]): Promise<ConfigProblem[]> {
    const problems: ConfigProblem[] = servabilityProblems(project.signature).map((rule) => ({
      path: 'model.path', value: project.signature.file, rule, fix: 'change the model so every input and output is a tensor of a servable type',
    }));
    problems.push(...shapeOverrideProblems(project));
    for (const ctx of this.contexts(project, targets)) {
      problems.push(...(await (await driverFor(ctx.target)).validate(ctx)));
    }
    return problems;
  }

  async build(project: Project, targets?: string[]): Promise<Record<string, BuildResult>> {
    const out: Record<string, BuildResult> = {};
    for (const ctx of this.contexts(project, targets)) {
      await this.failOnProblems(ctx);
      out[ctx.targetName] = await (await driverFor(ctx.target)).build(ctx);
    }
    return out;
  }

  async synth(project: Project, targets?: string[]): Promise<Record<string, BuildResult>> {
    const out: Record<string, BuildResult> = {};
    for (const ctx of this.contexts(project, targets)) {
      await this.failOnProblems(ctx);
      const driver = await driverFor(ctx.target);
      out[ctx.targetName] = driver.synth ? await driver.synth(ctx) : await driver.build(ctx);
    }
    return out;
  }

  /** Builds, deploys, smoke-tests before traffic moves; targets in parallel; one report. */
  async deploy(project: Project, targets?: string[]): Promise<DeployReport> {
    const contexts = this.contexts(project, targets);
    for (const ctx of contexts) await this.failOnProblems(ctx);
    const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    const reports = await Promise.all(contexts.map(async (ctx): Promise<TargetReport> => {
      const started = performance.now();
      const driver = await driverFor(ctx.target);
      try {
        ctx.io.info('DM_DEPLOY_START', `Deploying ${ctx.targetName} (${ctx.target.type})`);
        const result = await driver.deploy(ctx, (client) => this.smokeWith(ctx, client, request));
        ctx.io.info(result.smoke.status === 'passed' ? 'DM_DEPLOY_DONE' : 'DM_DEPLOY_SMOKE_FAILED',
          result.smoke.status === 'passed' ? `${ctx.targetName} is live at ${result.endpoint}` : `${ctx.targetName}: the smoke test failed; ${result.promoted ? 'the new version is serving' : 'the previous version keeps serving'}`);
        return { name: ctx.targetName, type: ctx.target.type, endpoint: result.endpoint, version: result.version, status: result.smoke.status, latencyMs: result.smoke.latencyMs, checks: result.smoke.checks, promoted: result.promoted, details: result.details, durationMs: since(started) };
      } catch (e) {
        return this.failedReport(ctx, e, started);
      }
    }));
    return { targets: reports };
  }

  /** Smoke-tests what is live now. */
  async smoke(project: Project, targets?: string[]): Promise<DeployReport> {
    const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    const reports = await Promise.all(this.contexts(project, targets).map(async (ctx): Promise<TargetReport> => {
      const started = performance.now();
      try {
        const deployment = await (await driverFor(ctx.target)).connect(ctx);
        const smoke = await this.smokeWith(ctx, deployment.client, request);
        return { name: ctx.targetName, type: ctx.target.type, endpoint: deployment.endpoint, version: deployment.version, status: smoke.status, latencyMs: smoke.latencyMs, checks: smoke.checks, durationMs: since(started) };
      } catch (e) {
        return this.failedReport(ctx, e, started);
      }
    }));
    return { targets: reports };
  }

  /** Sends one request to a live target. */
  async invoke(project: Project, target: string, request: V2Request): Promise<InferenceCall> {
    const [ctx] = this.contexts(project, [target]);
    const deployment = await (await driverFor(ctx.target)).connect(ctx);
    return deployment.client(request);
  }

  async status(project: Project, targets?: string[]): Promise<Array<{ name: string; type: string } & TargetStatus>> {
    return Promise.all(this.contexts(project, targets).map(async (ctx) => ({ name: ctx.targetName, type: ctx.target.type, ...(await (await driverFor(ctx.target)).status(ctx)) })));
  }

  async destroy(project: Project, targets?: string[]): Promise<Array<{ name: string } & DestroyResult>> {
    const out: Array<{ name: string } & DestroyResult> = [];
    for (const ctx of this.contexts(project, targets)) {
      const { removed, retained } = await (await driverFor(ctx.target)).destroy(ctx);
      ctx.io.info('DM_DESTROYED', removed ? `${ctx.targetName}: removed` : `${ctx.targetName}: nothing was deployed`);
      out.push({ name: ctx.targetName, removed, ...(retained?.length ? { retained } : {}) });
    }
    return out;
  }

  /** The context of each selected target; unknown names are a usage error listing the known ones. */
  contexts(project: Project, targets?: string[]): TargetContext[] {
    const { loaded, signature } = project;
    const all = Object.keys(loaded.config.targets);
    const names = targets && targets.length > 0 ? targets : all;
    for (const name of names) {
      if (!loaded.config.targets[name]) {
        throw new DeployModelError('TARGET_UNKNOWN', `There is no target '${name}' in ${loaded.configFile}. Its targets are: ${all.join(', ')}.`, { kind: 'usage', details: { target: name, known: all } });
      }
    }
    const base = path.join(loaded.rootDir, '.deploy-model');
    return names.map((name) => ({
      loaded, config: loaded.config, signature, targetName: name, target: loaded.config.targets[name],
      io: this.io.forTarget(name),
      workDir: path.join(base, loaded.stage, name),
      stateDir: path.join(base, 'state'),
      cacheDir: this.cacheDir,
    }));
  }

  private async smokeWith(ctx: TargetContext, client: Parameters<typeof runSmoke>[0]['client'], request: V2Request): Promise<SmokeResult> {
    ctx.io.info('DM_SMOKE_START', `Smoke-testing ${ctx.targetName} with ${ctx.config.smoke.requests} request(s)`);
    const result = await runSmoke({ signature: ctx.signature, smoke: ctx.config.smoke, request, client });
    for (const c of result.checks.filter((x) => !x.passed)) ctx.io.warn('DM_SMOKE_CHECK_FAILED', `${ctx.targetName}: ${c.name}: ${c.message}`, c);
    ctx.io.info('DM_SMOKE_DONE', `${ctx.targetName}: smoke ${result.status} (p50 ${result.latencyMs.p50} ms)`, result);
    return result;
  }

  private async failOnProblems(ctx: TargetContext): Promise<void> {
    const problems = await (await driverFor(ctx.target)).validate(ctx);
    if (problems.length > 0) {
      throw new DeployModelError('TARGET_INVALID', `Target '${ctx.targetName}' cannot be built:\n${problems.map((p) => `  - ${problemLine(p)}`).join('\n')}`, { details: { target: ctx.targetName, problems } });
    }
  }

  private failedReport(ctx: TargetContext, e: unknown, started: number): TargetReport {
    const err = e instanceof DeployModelError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error)?.stack ?? String(e) };
    ctx.io.error('DM_TARGET_FAILED', `${ctx.targetName}: ${err.message}`, err);
    return { name: ctx.targetName, type: ctx.target.type, status: 'failed', checks: [], error: err, durationMs: since(started) };
  }
}

/** Whole milliseconds since a `performance.now()` reading. */
function since(started: number): number {
  return Math.round(performance.now() - started);
}

function shapeOverrideProblems(project: Project): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, { shape }] of Object.entries(project.loaded.config.model.inputs ?? {})) {
    const spec = project.signature.inputs.find((i) => i.name === name);
    if (!spec) {
      problems.push({ path: `model.inputs.${name}`, value: JSON.stringify(name), rule: `the model has no input '${name}'`, fix: `use one of: ${project.signature.inputs.map((i) => i.name).join(', ')}` });
      continue;
    }
    try {
      resolveShape(spec, shape);
    } catch (e) {
      problems.push({ path: `model.inputs.${name}.shape`, value: JSON.stringify(shape), rule: (e as Error).message, fix: `give the model's rank and keep its fixed dims (${JSON.stringify(spec.shape)})` });
    }
  }
  return problems;
}

export type { TargetDriver };
