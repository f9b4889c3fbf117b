import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { IoHelper, RecordingIoHost, type IoHost } from '../../src/io/io-host.js';
import type { ModelSignature } from '../../src/model/types.js';
import type { TargetContext } from '../../src/targets/driver.js';
import { targetModule } from '../../src/targets/registry.js';
import type { TargetPlanBase } from '../../src/targets/target-module.js';

/** A driver's context for one target of a parsed config, planned by its module, with folders under `dir`. */
export function targetContext<T extends { type: string } = { type: string }, P extends TargetPlanBase = TargetPlanBase>(options: {
  config: Config; targetName: string; signature: ModelSignature; dir: string; stage?: string; host?: IoHost; rootDir?: string;
}): TargetContext<T, P> {
  const { config, targetName, signature, dir } = options;
  const stage = options.stage ?? 'dev';
  const target = config.targets[targetName]!;
  const rootDir = options.rootDir ?? dir;
  const plan = targetModule(target.type).plan({ config, stage, targetName, target, signature, rootDir }) as P;
  return {
    loaded: { configFile: join(rootDir, 'deploy-model.config.ts'), rootDir, modelPath: signature.file, stage },
    config, signature, targetName, target: target as unknown as T, plan,
    io: new IoHelper(options.host ?? new RecordingIoHost(), targetName),
    workDir: join(dir, stage, targetName), stateDir: join(dir, 'state'), cacheDir: join(dir, 'cache'),
  };
}
