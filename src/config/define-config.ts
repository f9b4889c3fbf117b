/** `defineConfig`, the identity function that types deploy-model.config.ts. */
import type { z } from 'zod';
import type { UserConfig } from './config-types.js';
import type { configSchema } from './schema.js';

export type { UserConfig, TargetInput } from './config-types.js';

export interface ConfigEnv {
  /** The stage from `--stage`, default `dev`. */
  stage: string;
}

export type UserConfigFn = (env: ConfigEnv) => UserConfig | Promise<UserConfig>;
export type UserConfigExport = UserConfig | Promise<UserConfig> | UserConfigFn;

/**
 * Types deploy-model.config.ts: `export default defineConfig({ name, model, targets })`, or a
 * function of `{ stage }`. One signature, so a misspelt field is reported on that field.
 */
export function defineConfig(config: UserConfigExport): UserConfigExport {
  return config;
}

/** The generated types (config-types.ts) and the schema's input type are the same, field for field. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _generatedTypesMatchTheSchema: Same<UserConfig, z.input<typeof configSchema>> = true;
void _generatedTypesMatchTheSchema;
