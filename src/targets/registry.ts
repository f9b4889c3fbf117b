/**
 * The one list of target types. The config schema, the CLI's help and the exported types derive
 * from it; adding a target is a folder with an `index.ts` and a line in `registered-targets.ts`
 * (src/targets/README.md).
 */
import { DeployModelError } from '../errors.js';
import { TARGETS } from './registered-targets.js';
import type { TargetModule } from './target-module.js';

export { TARGETS };

/** Maps a tuple of modules to the tuple of their schemas (generic, so that the tuple stays a tuple). */
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { readonly schema: infer S } ? S : never };
/** The schemas, as the tuple `z.discriminatedUnion` needs. */
export type TargetSchemas = SchemasOf<typeof TARGETS>;
export const targetSchemas = TARGETS.map((t) => t.schema) as unknown as TargetSchemas;

/** Every target type's plan (`TargetPlanOf<'aws-lambda'>` is `AwsLambdaPlan`). */
export type TargetPlan = ReturnType<(typeof TARGETS)[number]['plan']>;
/** The plan of one target type, e.g. `TargetPlanOf<'container'>`. */
export type TargetPlanOf<T extends (typeof TARGETS)[number]['type']> = ReturnType<Extract<(typeof TARGETS)[number], { type: T }>['plan']>;

export const KNOWN_TARGET_TYPES: readonly string[] = TARGETS.map((t) => t.type);

/** The module of a target type; a type no module registers is an internal error (the schema refuses it first). */
export function targetModule(type: string): TargetModule {
  const found = TARGETS.find((t) => t.type === type);
  if (!found) {
    throw new DeployModelError('TARGET_TYPE_UNSUPPORTED', `No target type '${type}' is registered. Known: ${KNOWN_TARGET_TYPES.join(', ')}.`, { kind: 'internal' });
  }
  return found as unknown as TargetModule;
}
