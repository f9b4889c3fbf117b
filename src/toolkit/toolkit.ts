/** The programmatic API under the CLI: one method per action (load, validate, plan, build, synth, deploy, ...). */
import os from 'node:os';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { IoHelper, silentIoHost, type IoHost } from '../io/io-host.js';
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from '../config/load-config.js';
import { problemLine, type ConfigProblem } from '../config/format-issues.js';
import { inspectModel } from '../model/inspect-model.js';
import { fetchRemoteModel } from '../model/remote/fetch-remote-model.js';
import { isModelUrl } from '../model/remote/model-url.js';
import type { ModelSignature } from '../model/types.js';
import { runSmoke, type InferenceCall, type SmokeReference, type SmokeResult } from '../smoke/run-smoke.js';
import { generatedInputHint } from '../smoke/generated-input-hint.js';
import { smokeRequest, type V2Request } from '../smoke/smoke-input.js';
import { recordGoldenOutputs, resolveGoldenOutputs, writeGoldenOutputs, type GoldenOutputs } from '../smoke/golden-outputs.js';
import { numericsOf, toleranceFor } from '../smoke/golden-tolerance.js';
import type { BuildResult, Deployment, DestroyResult, TargetContext, TargetDiff, TargetDriver, TargetStatus } from '../targets/driver.js';
import { targetLogs } from './target-logs.js';
import type { LogLine, LogsOptions } from '../kits/logs/log-line.js';
import { targetModule } from '../targets/registry.js';
import { basePlan } from '../targets/base-plan.js';
import type { PlanInput, TargetPlanBase } from '../targets/target-module.js';
import { cachedBuild, recordBuild } from './build-cache.js';
import { withDeployLock } from './deploy-lock.js';
import { modelLoadProblems } from './model-load-problems.js';
import { projectProblems } from './project-problems.js';
import { runRollout } from './rollout.js';

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
  /** The version that served before this deploy; absent on a first deploy. */
  previousVersion?: string;
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

/** What `rollback` did on one target. */
export interface RollbackReport {
  name: string;
  type: string;
  /** `rolled-back`: the previous version serves again; `failed`: nothing changed (see `error`). */
  status: 'rolled-back' | 'failed';
  /** The version taken away. */
  from?: string;
  /** The version that serves again. */
  to?: string;
  endpoint?: string;
  /** The smoke test of the restored version (golden outputs included). */
  smoke?: SmokeResult;
  error?: { code: string; message: string };
  details?: Record<string, unknown>;
  durationMs: number;
}

/** What `diff` found for one target; `supported: false` when its driver cannot tell. */
export type DiffReport = { name: string; type: string } & ({ supported: true } & TargetDiff | { supported: false; reason: string });

export interface DeployOptions {
  /**
   * Asked before a target's rollout when its diff replaces or deletes something that serves;
   * `false` skips that target (reported as failed with DEPLOY_NOT_CONFIRMED).
   * @default - never asked
   */
  confirmDisruptive?: (target: string, diff: TargetDiff) => Promise<boolean>;
  /**
   * Stops the deploy at the next safe point (after staging, after the smoke test): a candidate
   * not yet promoted is rolled back, so what served keeps serving.
   * @default - runs to the end
   */
  signal?: AbortSignal;
}

/**
 * The programmatic API under the CLI: one method per action. Silent: progress goes to the IoHost.
 * Every action that builds plans first, and planning runs every check `validate` runs.
 */
export class Toolkit {
  private readonly io: IoHelper;
  private readonly cacheDir: string;

  constructor(options: ToolkitOptions = {}) {
    this.io = new IoHelper(options.ioHost ?? silentIoHost);
    this.cacheDir = options.cacheDir ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'deploy-model');
  }

  /** Where progress about one target goes (for actions built on the toolkit, such as `bench`). */
  progress(target: string): IoHelper {
    return this.io.forTarget(target);
  }

  /** The signature of a model file, or of a model at an object-storage URL (downloaded once into the cache). */
  async inspect(modelPath: string): Promise<ModelSignature> {
    return inspectModel(isModelUrl(modelPath) ? await this.fetchModel(modelPath, undefined) : modelPath);
  }

  /** Loads the config and reads its model's signature. */
  async load(options: LoadConfigOptions = {}): Promise<Project> {
    const loaded = await loadConfig(options);
    this.io.debug('DM_CONFIG_LOADED', `Loaded ${loaded.configFile} (stage ${loaded.stage})`, { file: loaded.configFile, stage: loaded.stage });
    if (loaded.modelUrl) loaded.modelPath = await this.fetchModel(loaded.modelUrl, loaded.config.model.sha256);
    const signature = await inspectModel(loaded.modelPath);
    const pinned = loaded.config.model.sha256;
    if (pinned && signature.sha256 !== pinned) {
      throw new DeployModelError('MODEL_SHA256_MISMATCH', `model.path ${loaded.modelPath} has sha256 ${signature.sha256}, not ${pinned} (model.sha256 in the config). If the model was replaced on purpose, set model.sha256 to '${signature.sha256}'; else restore the file.`, { details: { file: loaded.modelPath, expected: pinned, actual: signature.sha256, source: 'config' } });
    }
    this.io.debug('DM_MODEL_INSPECTED', `Model ${signature.file}: ${signature.inputs.length} inputs, ${signature.outputs.length} outputs`, { sha256: signature.sha256 });
    return { loaded, signature };
  }

  /** Downloads a model at a URL into the cache, once, checked against its sha256; returns the cached file. */
  private async fetchModel(url: string, sha256: string | undefined): Promise<string> {
    const fetched = await fetchRemoteModel({ url, cacheDir: this.cacheDir, ...(sha256 ? { sha256 } : {}) });
    if (fetched.downloaded) this.io.info('DM_MODEL_DOWNLOADED', `Downloaded ${url} (sha256 ${fetched.sha256}) into the cache`, { url, sha256: fetched.sha256, file: fetched.file });
    if (fetched.checkedAgainst === 'recorded-now') {
      this.io.warn('DM_MODEL_SHA256_RECORDED', `model.sha256 is not set: recorded ${fetched.sha256} for ${url}, and later downloads must match it. Pin it in the config: model: { path: '${url}', sha256: '${fetched.sha256}' }`, { url, sha256: fetched.sha256 });
    }
    return fetched.file;
  }

  /** Everything that can be checked without a cloud. Returns the problems; none means valid. */
  async validate(project: Project, targets?: string[]): Promise<ConfigProblem[]> {
    const problems = await this.modelProblems(project);
    for (const name of this.selected(project, targets)) problems.push(...(await this.targetProblems(project, name)));
    return problems;
  }

  /** The plan of each selected target: every value build, synth and deploy will use. Throws when `validate` would find problems. */
  async plan(project: Project, targets?: string[]): Promise<Record<string, TargetPlanBase>> {
    const contexts = await this.contexts(project, targets);
    return Object.fromEntries(contexts.map((ctx) => [ctx.targetName, ctx.plan]));
  }

  async build(project: Project, targets?: string[]): Promise<Record<string, BuildResult>> {
    const out: Record<string, BuildResult> = {};
    for (const ctx of await this.contexts(project, targets)) out[ctx.targetName] = await this.buildTarget(ctx);
    // `smoke.golden: 'auto'`: the reference outputs are recorded beside the artifacts.
    await this.golden(project, await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir));
    return out;
  }

  /**
   * Records golden outputs: onnxruntime-node's answers, on this machine's CPU, to the smoke
   * request and to each of `requests`, written to `file` for `smoke.golden` to name.
   */
  async recordGolden(project: Project, file: string, requests: V2Request[] = []): Promise<GoldenOutputs> {
    const smoke = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    const golden = await recordGoldenOutputs(project.signature, [smoke, ...requests]);
    await writeGoldenOutputs(file, golden);
    this.io.info('DM_GOLDEN_RECORDED', `Recorded ${golden.cases.length} golden case(s) of ${golden.model.file} with onnxruntime-node ${golden.producer.version} (${golden.producer.arch}) in ${file}`, { file, cases: golden.cases.length, producer: golden.producer });
    return golden;
  }

  /** The project's golden outputs (`smoke.golden`), recorded or read once per action; undefined when off. */
  private async golden(project: Project, request: V2Request): Promise<GoldenOutputs | undefined> {
    const { loaded, signature } = project;
    const chosen = loaded.config.smoke.golden;
    const found = await resolveGoldenOutputs({
      golden: chosen ?? 'auto', signature, request, rootDir: loaded.rootDir,
      cacheFile: path.join(loaded.rootDir, '.deploy-model', loaded.stage, 'golden-outputs.json'),
    }).catch((e: unknown) => {
      // By default a smoke request the model refuses is the smoke test's to report (with the hint
      // of what to set); asked for by name, golden outputs that cannot be recorded stop the action.
      if (chosen !== undefined || (e as { code?: string }).code !== 'GOLDEN_RECORD_FAILED') throw e;
      this.io.warn('DM_GOLDEN_NOT_RECORDED', `Golden outputs were not recorded (${(e as Error).message}); the smoke test checks shapes and types only. Set smoke.golden: 'off' to silence this, or fix the smoke input.`, { error: (e as Error).message });
      return undefined;
    });
    if (!found) return undefined;
    const { golden, file } = found;
    if (golden.model.sha256 !== signature.sha256) {
      // The golden outputs of another model version: what it answered is what this one must answer.
      this.io.warn('DM_GOLDEN_OTHER_MODEL', `The golden outputs in ${file} were recorded from another model (${golden.model.file}, sha256 ${golden.model.sha256.slice(0, 12)}) than ${signature.file} (${signature.sha256.slice(0, 12)}): the new model must answer as the recorded one did. Record them again with \`deploy-model golden --out ${path.relative(loaded.rootDir, file) || file}\` if it should not.`, { file, recorded: golden.model.sha256, model: signature.sha256 });
    }
    this.io.debug('DM_GOLDEN_READY', `Golden outputs: ${golden.cases.length} case(s) from onnxruntime-node ${golden.producer.version} (${golden.producer.arch}), ${file}`, { file, cases: golden.cases.length });
    return golden;
  }

  async synth(project: Project, targets?: string[]): Promise<Record<string, BuildResult>> {
    const out: Record<string, BuildResult> = {};
    for (const ctx of await this.contexts(project, targets)) {
      const driver = await this.driver(ctx);
      const built = await this.buildTarget(ctx);
      out[ctx.targetName] = driver.synth ? await driver.synth(ctx, built) : built;
    }
    return out;
  }

  /**
   * Plans every selected target first (so a problem in any stops the deploy before anything is
   * built), then builds, stages, smoke-tests and promotes or rolls back each, in parallel.
   */
  async deploy(project: Project, targets?: string[], options: DeployOptions = {}): Promise<DeployReport> {
    const contexts = await this.contexts(project, targets);
    const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    const golden = await this.golden(project, request);
    const reports = await Promise.all(contexts.map(async (ctx): Promise<TargetReport> => {
      const started = performance.now();
      try {
        ctx.io.info('DM_DEPLOY_START', `Deploying ${ctx.targetName} (${ctx.target.type})`);
        const driver = await this.driver(ctx);
        const smoke = (client: Parameters<typeof runSmoke>[0]['client'], reference?: SmokeReference) => this.smokeWith(ctx, client, request, reference, golden);
        const result = await withDeployLock(ctx.workDir, ctx.targetName, 'deploy', async () => {
          const built = await this.buildTarget(ctx);
          if (options.confirmDisruptive && driver.diff) {
            const diff = await driver.diff(ctx, built);
            if (diff.changes.some((c) => c.disruptive) && !(await options.confirmDisruptive(ctx.targetName, diff))) {
              throw new DeployModelError('DEPLOY_NOT_CONFIRMED', `Nothing deployed to ${ctx.targetName}: the deploy would replace or delete something that serves, and it was not confirmed. Review it with \`deploy-model diff --target ${ctx.targetName}\`, then deploy with --yes.`, { kind: 'usage', details: { target: ctx.targetName, changes: diff.changes } });
            }
          }
          return runRollout(ctx, driver, built, smoke, options.signal, request);
        });
        const passed = result.smoke.status === 'passed';
        ctx.io.info(passed ? 'DM_DEPLOY_DONE' : 'DM_DEPLOY_SMOKE_FAILED', passed
          ? `${ctx.targetName} is live at ${result.endpoint}`
          : `${ctx.targetName}: the smoke test failed; ${result.details?.unchanged ? `nothing changed, and version ${result.version} keeps serving` : result.promoted ? 'the new version is serving' : result.previousVersion ? 'the previous version keeps serving' : 'there was no previous version, and nothing serves'}`);
        return {
          name: ctx.targetName, type: ctx.target.type, ...(result.endpoint ? { endpoint: result.endpoint } : {}), version: result.version,
          ...(result.previousVersion ? { previousVersion: result.previousVersion } : {}),
          status: result.smoke.status, latencyMs: result.smoke.latencyMs, checks: result.smoke.checks, promoted: result.promoted, details: result.details, durationMs: since(started),
        };
      } catch (e) {
        return this.failedReport(ctx, e, started);
      }
    }));
    return { targets: reports };
  }

  /**
   * Returns each selected target to the version it served before its last deploy, then
   * smoke-tests what serves (signature checks; not the golden outputs, which describe the config's
   * model rather than the restored one). A target type that keeps no previous version is reported as failed
   * with TARGET_ACTION_UNAVAILABLE; one with nothing to go back to with ROLLBACK_NO_PREVIOUS.
   */
  async rollback(project: Project, targets?: string[]): Promise<RollbackReport[]> {
    const contexts = await this.contexts(project, targets);
    const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    return Promise.all(contexts.map(async (ctx): Promise<RollbackReport> => {
      const started = performance.now();
      const head = { name: ctx.targetName, type: ctx.target.type };
      try {
        const driver = await this.driver(ctx);
        if (!driver.restorePrevious) {
          throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `The ${ctx.target.type} target keeps no previous version to roll back to: ${ROLLBACK_UNAVAILABLE[ctx.target.type] ?? 'it retires the version that served once a new one is promoted. Deploy the earlier model or config again (it is smoke-tested like any other)'}.`, { kind: 'usage', details: { target: ctx.targetName, type: ctx.target.type, action: 'rollback' } });
        }
        const restored = await withDeployLock(ctx.workDir, ctx.targetName, 'rollback', async () => driver.restorePrevious!(ctx, await this.buildTarget(ctx)));
        ctx.io.info('DM_ROLLBACK_DONE', `${ctx.targetName}: version ${restored.to} serves again (version ${restored.from} no longer does)`, restored);
        const deployment = await driver.connect(ctx);
        let smoke: SmokeResult;
        try {
          // Not against the golden outputs: they describe the config's model, which the restored version is not.
          smoke = await this.smokeWith(ctx, deployment.client, request, deployment.reference);
        } finally {
          await deployment.close?.();
        }
        return { ...head, status: 'rolled-back', from: restored.from, to: restored.to, endpoint: restored.endpoint ?? deployment.endpoint, smoke, ...(restored.details ? { details: restored.details } : {}), durationMs: since(started) };
      } catch (e) {
        const { error } = this.failedReport(ctx, e, started);
        return { ...head, status: 'failed', error: error!, durationMs: since(started) };
      }
    }));
  }

  /** What a deploy would change, per target, against what is deployed now. */
  async diff(project: Project, targets?: string[]): Promise<DiffReport[]> {
    const out: DiffReport[] = [];
    for (const ctx of await this.contexts(project, targets)) {
      const driver = await this.driver(ctx);
      const head = { name: ctx.targetName, type: ctx.target.type };
      if (!driver.diff) {
        out.push({ ...head, supported: false, reason: `the ${ctx.target.type} target cannot compare a plan with its deployment yet` });
        continue;
      }
      out.push({ ...head, supported: true, ...(await driver.diff(ctx, await this.buildTarget(ctx))) });
    }
    return out;
  }

  /** Smoke-tests what is live now. */
  async smoke(project: Project, targets?: string[]): Promise<DeployReport> {
    const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
    const golden = await this.golden(project, request);
    const reports = await Promise.all(this.unplannedContexts(project, targets).map(async (ctx): Promise<TargetReport> => {
      const started = performance.now();
      try {
        const deployment = await (await this.driver(ctx)).connect(ctx);
        let smoke: SmokeResult;
        try {
          smoke = await this.smokeWith(ctx, deployment.client, request, deployment.reference, golden);
        } finally {
          await deployment.close?.();
        }
        return { name: ctx.targetName, type: ctx.target.type, endpoint: deployment.endpoint, version: deployment.version, status: smoke.status, latencyMs: smoke.latencyMs, checks: smoke.checks, durationMs: since(started) };
      } catch (e) {
        return this.failedReport(ctx, e, started);
      }
    }));
    return { targets: reports };
  }

  /** The live deployment of one target: its endpoint, version and a client. */
  async connect(project: Project, target: string): Promise<Deployment> {
    const [ctx] = this.unplannedContexts(project, [target]);
    return (await this.driver(ctx!)).connect(ctx!);
  }

  /** Sends one request to a live target. */
  async invoke(project: Project, target: string, request: V2Request): Promise<InferenceCall> {
    const deployment = await this.connect(project, target);
    try {
      return await deployment.client(request);
    } finally {
      await deployment.close?.();
    }
  }

  /**
   * One target's logs from `options.since` (default: an hour ago) on, oldest first; with
   * `follow`, new lines until `options.signal` aborts. Throws NOT_DEPLOYED, or
   * TARGET_ACTION_UNAVAILABLE saying where a target's logs are when deploy-model cannot read them.
   */
  logs(project: Project, target: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const [ctx] = this.unplannedContexts(project, [target]);
    return targetLogs(ctx!, () => this.driver(ctx!), options);
  }

  /**
   * What each target's deployment says now. A target whose status cannot be read (no
   * credentials, a corrupt record) is reported as `unknown` with its error; the others still are.
   */
  async status(project: Project, targets?: string[]): Promise<Array<{ name: string; type: string; error?: { code: string; message: string } } & TargetStatus>> {
    return Promise.all(this.unplannedContexts(project, targets).map(async (ctx) => {
      const head = { name: ctx.targetName, type: ctx.target.type };
      try {
        return { ...head, ...(await (await this.driver(ctx)).status(ctx)) };
      } catch (e) {
        const error = e instanceof DeployModelError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error)?.stack ?? String(e) };
        ctx.io.debug('DM_STATUS_FAILED', `${ctx.targetName}: ${error.message}`, error);
        return { ...head, state: 'unknown' as const, error };
      }
    }));
  }

  async destroy(project: Project, targets?: string[]): Promise<Array<{ name: string } & DestroyResult>> {
    const out: Array<{ name: string } & DestroyResult> = [];
    for (const ctx of this.unplannedContexts(project, targets)) {
      const driver = await this.driver(ctx);
      const { removed, retained } = await withDeployLock(ctx.workDir, ctx.targetName, 'destroy', () => driver.destroy(ctx));
      ctx.io.info('DM_DESTROYED', removed ? `${ctx.targetName}: removed` : `${ctx.targetName}: nothing was deployed`);
      out.push({ name: ctx.targetName, removed, ...(retained?.length ? { retained } : {}) });
    }
    return out;
  }

  /**
   * The context of each selected target, with its plan. Throws TARGET_INVALID, listing every
   * problem of every selected target, when one cannot be planned.
   */
  async contexts(project: Project, targets?: string[]): Promise<TargetContext[]> {
    const names = this.selected(project, targets);
    const problems = await this.modelProblems(project);
    for (const name of names) problems.push(...(await this.targetProblems(project, name)));
    if (problems.length > 0) {
      const which = names.length === 1 ? `Target '${names[0]}'` : `Targets ${names.map((n) => `'${n}'`).join(', ')}`;
      throw new DeployModelError('TARGET_INVALID', `${which} cannot be planned:\n${problems.map((p) => `  - ${problemLine(p)}`).join('\n')}`, { details: { targets: names, problems } });
    }
    return names.map((name) => {
      const ctx = this.unplannedContext(project, name);
      return { ...ctx, plan: targetModule(ctx.target.type).plan(this.planInput(project, name)) };
    });
  }

  /** Builds one target, or reuses its last build when the plan and the toolchain are unchanged. */
  private async buildTarget(ctx: TargetContext): Promise<BuildResult> {
    const driver = await this.driver(ctx);
    const cached = await cachedBuild(ctx.workDir, ctx.plan);
    if (cached) {
      ctx.io.info('DM_BUILD_CACHED', `${ctx.targetName}: the plan and the model are unchanged since the last build; reusing it`, { artifacts: cached.artifacts.length });
      return cached;
    }
    const built = await driver.build(ctx);
    await recordBuild(ctx.workDir, ctx.plan, built);
    return built;
  }

  /** The model's own problems: a servable signature, `model.inputs`, and whether onnxruntime loads it. */
  private async modelProblems(project: Project): Promise<ConfigProblem[]> {
    const problems = projectProblems(project.loaded.config, project.signature);
    return problems.length > 0 ? problems : modelLoadProblems(project.signature, this.cacheDir);
  }

  /** Problems of one target: its module's checks, and anything that stops its planner. */
  private async targetProblems(project: Project, name: string): Promise<ConfigProblem[]> {
    const input = this.planInput(project, name);
    const module = targetModule(input.target.type);
    const problems = module.validate ? await module.validate(input) : [];
    if (problems.length > 0) return problems;
    try {
      module.plan(input);
    } catch (e) {
      if (!(e instanceof DeployModelError)) throw e;
      return [{ path: `targets.${name}`, value: input.target.type, rule: e.message, fix: 'change the config as the rule says' }];
    }
    return [];
  }

  private planInput(project: Project, name: string): PlanInput<{ type: string }> {
    const { loaded, signature } = project;
    return { config: loaded.config, stage: loaded.stage, targetName: name, target: loaded.config.targets[name]!, signature, rootDir: loaded.rootDir };
  }

  private selected(project: Project, targets?: string[]): string[] {
    const { loaded } = project;
    const all = Object.keys(loaded.config.targets);
    const names = targets && targets.length > 0 ? targets : all;
    for (const name of names) {
      if (!loaded.config.targets[name]) {
        throw new DeployModelError('TARGET_UNKNOWN', `There is no target '${name}' in ${loaded.configFile}. Its targets are: ${all.join(', ')}.`, { kind: 'usage', details: { target: name, known: all } });
      }
    }
    return names;
  }

  /**
   * Contexts for the actions that read the deployment itself (status, connect, destroy): they
   * need names and regions, not a checked plan, so a config that no longer plans can still be
   * destroyed. The plan is computed when the planner accepts the input.
   */
  private unplannedContexts(project: Project, targets?: string[]): TargetContext[] {
    return this.selected(project, targets).map((name) => {
      const ctx = this.unplannedContext(project, name);
      try {
        return { ...ctx, plan: targetModule(ctx.target.type).plan(this.planInput(project, name)) };
      } catch {
        return ctx;
      }
    });
  }

  private unplannedContext(project: Project, name: string): TargetContext {
    const { loaded, signature } = project;
    const base = path.join(loaded.rootDir, '.deploy-model');
    const target = loaded.config.targets[name]!;
    return {
      loaded, config: loaded.config, signature, targetName: name, target,
      // Replaced by the real plan wherever the planner accepts the input.
      plan: basePlan(this.planInput(project, name), []),
      io: this.io.forTarget(name),
      workDir: path.join(base, loaded.stage, name),
      stateDir: path.join(base, 'state'),
      cacheDir: this.cacheDir,
    };
  }

  private async driver(ctx: TargetContext): Promise<TargetDriver> {
    return (await targetModule(ctx.target.type).driver()) as TargetDriver;
  }

  private async smokeWith(ctx: TargetContext, client: Parameters<typeof runSmoke>[0]['client'], request: V2Request, reference?: SmokeReference, golden?: GoldenOutputs): Promise<SmokeResult> {
    ctx.io.info('DM_SMOKE_START', `Smoke-testing ${ctx.targetName} with ${ctx.config.smoke.requests} request(s)${golden ? ` and ${golden.cases.length} golden case(s)` : ''}`);
    let result = await runSmoke({ signature: ctx.signature, smoke: ctx.config.smoke, request, client, ...(reference ? { reference } : {}), ...(golden ? { golden: this.goldenReferences(ctx, golden) } : {}) });
    // An input deploy-model made up that the model refused: the hint says how to give a real one.
    const refused = result.checks.find((c) => c.name === 'status' && !c.passed && /^HTTP (4\d\d|500)/.test(c.message));
    if (refused && ctx.config.smoke.input === 'auto') result = { ...result, checks: [...result.checks, generatedInputHint(ctx.signature, request)] };
    for (const c of result.checks.filter((x) => !x.passed)) ctx.io.warn('DM_SMOKE_CHECK_FAILED', `${ctx.targetName}: ${c.name}: ${c.message}`, c);
    ctx.io.info('DM_SMOKE_DONE', `${ctx.targetName}: smoke ${result.status} (p50 ${result.latencyMs.p50} ms)`, result);
    return result;
  }

  /** The golden cases as the smoke test's references, with the tolerance of how this target runs the model. */
  private goldenReferences(ctx: TargetContext, golden: GoldenOutputs): SmokeReference[] {
    const numerics = numericsOf(ctx.target as { type: string } & Record<string, unknown>, ctx.config.runtime.executionProviders);
    const tolerance = toleranceFor(numerics, ctx.config.smoke.tolerance);
    ctx.io.debug('DM_GOLDEN_TOLERANCE', `${ctx.targetName}: golden outputs checked with the ${numerics} tolerance`, { numerics });
    return golden.cases.map((c, i) => ({
      source: `onnxruntime-node ${golden.producer.version} (${golden.producer.arch})`,
      label: golden.cases.length > 1 ? `golden case ${i + 1}` : 'golden outputs',
      request: c.request, outputs: c.outputs, tolerance, sendRequest: true,
    }));
  }

  private failedReport(ctx: TargetContext, e: unknown, started: number): TargetReport {
    const err = e instanceof DeployModelError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error)?.stack ?? String(e) };
    ctx.io.error('DM_TARGET_FAILED', `${ctx.targetName}: ${err.message}`, err);
    return { name: ctx.targetName, type: ctx.target.type, status: 'failed', checks: [], error: err, durationMs: since(started) };
  }
}

/** Where a target type that keeps no previous version says to go instead of `rollback`. */
const ROLLBACK_UNAVAILABLE: Record<string, string> = {
  'react-native': 'the package is built into the app; publish the earlier app build instead',
};

/** Whole milliseconds since a `performance.now()` reading. */
function since(started: number): number {
  return Math.round(performance.now() - started);
}

export type { TargetDriver };
