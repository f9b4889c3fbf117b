import { servingEnv } from '../../../handlers/serving-env.js';
import type { TargetContext } from '../driver.js';
import type { LocalArtifacts } from './build.js';
import type { LocalTargetConfig } from './schema.js';

/**
 * What the local executor runs: the function zip and layer, with Lambda's settings from the config.
 * The executor lays them out under the system temp folder, outside the project, so the handler
 * cannot resolve anything from the project's node_modules: only the layer, as on Lambda.
 */
export function localFunctionSpec(ctx: TargetContext<LocalTargetConfig>, artifacts: LocalArtifacts, port?: number) {
  const env = servingEnv({ modelName: ctx.config.name, runtime: ctx.config.runtime, entry: 'lambda' });
  return {
    functionName: `${ctx.config.name}-${ctx.loaded.stage}-${ctx.targetName}`,
    version: '1',
    handler: 'index.handler',
    codeZip: artifacts.functionZip,
    layers: [artifacts.layerZip],
    env,
    memoryMb: ctx.target.memoryMb,
    timeoutSeconds: ctx.target.timeoutSeconds,
    region: 'local',
    port: port ?? ctx.target.port,
  };
}
