/**
 * The react-native driver: build-only. `build` writes the package (the typed client, the model
 * asset, the Metro and Expo settings); the app's own build ships it to devices, so deploy, smoke
 * and invoke are refused with TARGET_ACTION_UNAVAILABLE and the fix, and nothing is ever deployed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { BuildResult, TargetContext, TargetDriver } from '../driver.js';
import type { RnBuild } from './build.js';
import { packageFolder, type RnPlan } from './plan.js';
import type { ReactNativeTargetConfig } from './schema.js';

type Ctx = TargetContext<ReactNativeTargetConfig, RnPlan>;

/** Where `build` writes the package. */
const packageDir = (ctx: Pick<Ctx, 'workDir'>, packageName: string): string => path.join(ctx.workDir, packageFolder(packageName));

function unavailable(ctx: Ctx, action: string): DeployModelError {
  const name = ctx.target.packageName ?? `${ctx.config.name}-model`;
  return new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' (react-native) cannot be ${action}: it is a package for a React Native app, which the app's own build ships to devices. Run \`deploy-model build --target ${ctx.targetName}\`, add ${name} from ${packageDir(ctx, name)} to the app and build the app; deploy the other targets with --target. deploy-model does not build the native app or run the model on a device.`, { kind: 'usage', details: { target: ctx.targetName, type: 'react-native', action } });
}

export const reactNativeDriver: TargetDriver<ReactNativeTargetConfig, RnPlan> = {
  /** Writes the package and reports the plan's warnings (a float16 output Hermes cannot read). */
  async build(ctx: Ctx): Promise<BuildResult> {
    for (const w of ctx.plan.problems.filter((p) => p.level === 'warning')) {
      ctx.io.warn(`DM_${w.code}`, `${ctx.targetName}: ${w.path}: ${w.value}: ${w.rule}. Fix: ${w.fix}.`, w);
    }
    const { build } = await import('./build.js');
    const built: RnBuild = await build(ctx.plan, { outDir: ctx.workDir, io: ctx.io });
    return { artifacts: built.files.map((f) => ({ kind: f.path, file: path.join(built.dir, ...f.path.split('/')), bytes: f.bytes, sha256: f.sha256 })), outputs: built };
  },

  rollout: {
    async stage(ctx: Ctx) { throw unavailable(ctx, 'deployed'); },
    async promote(ctx: Ctx) { throw unavailable(ctx, 'deployed'); },
    async rollback() { return 'removed'; },
  },

  async connect(ctx: Ctx) {
    throw unavailable(ctx, 'smoke-tested or invoked');
  },

  /** Nothing is deployed; the details say whether the package is built and where. */
  async status(ctx: Ctx) {
    const name = ctx.target.packageName ?? `${ctx.config.name}-model`;
    const dir = packageDir(ctx, name);
    return { state: 'not-deployed', details: { package: name, dir, built: existsSync(path.join(dir, 'package.json')), note: 'build-only: the app ships the package' } };
  },

  /** Nothing was deployed; the built package stays in the build folder. */
  async destroy() {
    return { removed: false };
  },

  /** The app's logs are on the device: says so. */
  async *logs(ctx: Ctx, options) { yield* (await import('./logs.js')).reactNativeLogs(ctx, options); },
};
