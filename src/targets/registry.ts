/**
 * The one list of target types. The config schema, the CLI's help and the exported types derive
 * from it; adding a target is a folder with an `index.ts` and a line here (src/targets/README.md).
 */
import { DeployModelError } from '../errors.js';
import { awsLambdaTarget } from './aws-lambda/index.js';
import { awsSageMakerTarget } from './aws-sagemaker/index.js';
import { azureMlTarget } from './azure-ml/index.js';
import { containerTarget } from './container/index.js';
import { gcpVertexTarget } from './gcp-vertex/index.js';
import { localTarget } from './local/index.js';
import { reactNativeTarget } from './react-native/index.js';
import type { TargetModule } from './target-module.js';
import { webTarget } from './web/index.js';

export const TARGETS = [localTarget, awsLambdaTarget, awsSageMakerTarget, gcpVertexTarget, azureMlTarget, containerTarget, webTarget, reactNativeTarget] as const;

/** Maps a tuple of modules to the tuple of their schemas (generic, so that the tuple stays a tuple). */
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { readonly schema: infer S } ? S : never };
/** The schemas, as the tuple `z.discriminatedUnion` needs. */
export type TargetSchemas = SchemasOf<typeof TARGETS>;
export const targetSchemas = TARGETS.map((t) => t.schema) as unknown as TargetSchemas;

export const KNOWN_TARGET_TYPES: readonly string[] = TARGETS.map((t) => t.type);

/** The module of a target type; a type no module registers is an internal error (the schema refuses it first). */
export function targetModule(type: string): TargetModule {
  const found = TARGETS.find((t) => t.type === type);
  if (!found) {
    throw new DeployModelError('TARGET_TYPE_UNSUPPORTED', `No target type '${type}' is registered. Known: ${KNOWN_TARGET_TYPES.join(', ')}.`, { kind: 'internal' });
  }
  return found as unknown as TargetModule;
}
