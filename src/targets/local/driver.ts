import { DeployModelError } from '../../errors.js';
import { findDeployment, renameDeployment, startDetached, stopDeployment } from '../../lambda-emulator/deployments.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import type { TargetContext, TargetDriver } from '../driver.js';
import { buildLocalArtifacts } from './build.js';
import { localFunctionSpec } from './spec.js';
import type { LocalTargetConfig } from './schema.js';

/** The endpoint as users see it: the Function URL's base, with its trailing slash. */
const endpointOf = (url: string): string => new URL(url).href;

/** `<name>-<stage>-<target>`: one record per deployment in the state folder. */
export function deploymentKey(ctx: TargetContext): string {
  return `${ctx.config.name}-${ctx.loaded.stage}-${ctx.targetName}`;
}

export function inferUrl(baseUrl: string, modelName: string): string {
  return new URL(`v2/models/${encodeURIComponent(modelName)}/infer`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

type Ctx = TargetContext<LocalTargetConfig>;

export const localDriver: TargetDriver<LocalTargetConfig> = {
  type: 'local',

  async validate() {
    return [];
  },

  async build(ctx) {
    const a = await buildLocalArtifacts(ctx);
    return {
      artifacts: [
        { kind: 'function.zip', file: a.functionZip, bytes: a.functionBytes, sha256: a.functionSha256 },
        { kind: `layer.zip (${a.architecture})`, file: a.layerZip, bytes: a.layerBytes },
      ],
    };
  },

  async deploy(ctx: Ctx, smoke) {
    const artifacts = await buildLocalArtifacts(ctx);
    const key = deploymentKey(ctx);
    const previous = await findDeployment(ctx.stateDir, key);
    const fixedPortTaken = ctx.target.port !== undefined && previous?.port === ctx.target.port;
    if (fixedPortTaken) {
      // Both cannot listen on the configured port at once: the old one goes first.
      ctx.io.info('DM_LOCAL_REPLACE', `Stopping the running deployment on port ${ctx.target.port} to replace it`);
      await stopDeployment(ctx.stateDir, key);
    }
    const candidate = `${key}.next`;
    ctx.io.info('DM_LOCAL_START', 'Starting the function under the local Lambda runtime');
    const spec = localFunctionSpec(ctx, artifacts);
    const record = await startDetached(spec, ctx.stateDir, candidate);
    const url = inferUrl(record.url, ctx.config.name);
    const result = await smoke(httpInferenceClient(url));
    if (result.status !== 'passed') {
      await stopDeployment(ctx.stateDir, candidate);
      return { endpoint: endpointOf(previous && !fixedPortTaken ? previous.url : record.url), smoke: result, promoted: false, version: artifacts.functionSha256.slice(0, 12) };
    }
    if (previous && !fixedPortTaken) await stopDeployment(ctx.stateDir, key);
    await renameDeployment(ctx.stateDir, candidate, key);
    return {
      endpoint: endpointOf(record.url), version: artifacts.functionSha256.slice(0, 12), smoke: result, promoted: true,
      details: { pid: record.pid, logFile: record.logFile, functionBytes: artifacts.functionBytes, layerBytes: artifacts.layerBytes },
    };
  },

  async connect(ctx) {
    const record = await findDeployment(ctx.stateDir, deploymentKey(ctx));
    if (!record) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not running. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
    }
    return { endpoint: endpointOf(record.url), client: httpInferenceClient(inferUrl(record.url, ctx.config.name)) };
  },

  async status(ctx) {
    const record = await findDeployment(ctx.stateDir, deploymentKey(ctx));
    return record ? { state: 'running', endpoint: endpointOf(record.url), details: { pid: record.pid, startedAt: record.startedAt } } : { state: 'not-deployed' };
  },

  async destroy(ctx) {
    const removed = await stopDeployment(ctx.stateDir, deploymentKey(ctx));
    return { removed };
  },
};
