/**
 * The package's entry point exports every registered target type's plan type, under the name
 * the target's module gives it, and `TargetPlanOf<'type'>` is that same type.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  AwsLambdaPlan, AwsSageMakerPlan, AzureMlPlan, ContainerPlan, ErrorCode, ErrorDetails, GcpVertexPlan, LocalPlan, MessageCode, MessagePayload,
  ReactNativePlan, SmokeResult, TargetPlan, TargetPlanBase, TargetPlanOf, WebPlan,
} from '../src/index.js';
import { KNOWN_TARGET_TYPES, type TARGETS } from '../src/targets/registry.js';

/** `aws-sagemaker` → `AwsSageMakerPlan`, as the targets name their plan types (react-native's is exported as `ReactNativePlan`). */
const PLAN_TYPE_NAMES: Record<(typeof TARGETS)[number]['type'], string> = {
  local: 'LocalPlan', 'aws-lambda': 'AwsLambdaPlan', 'aws-sagemaker': 'AwsSageMakerPlan', 'gcp-vertex': 'GcpVertexPlan',
  'azure-ml': 'AzureMlPlan', container: 'ContainerPlan', web: 'WebPlan', 'react-native': 'ReactNativePlan',
};

describe("the entry point's plan types", () => {
  it('are the plans the target modules return (checked by tsc: npm run typecheck)', () => {
    expectTypeOf<TargetPlanOf<'local'>>().toEqualTypeOf<LocalPlan>();
    expectTypeOf<TargetPlanOf<'aws-lambda'>>().toEqualTypeOf<AwsLambdaPlan>();
    expectTypeOf<TargetPlanOf<'aws-sagemaker'>>().toEqualTypeOf<AwsSageMakerPlan>();
    expectTypeOf<TargetPlanOf<'gcp-vertex'>>().toEqualTypeOf<GcpVertexPlan>();
    expectTypeOf<TargetPlanOf<'azure-ml'>>().toEqualTypeOf<AzureMlPlan>();
    expectTypeOf<TargetPlanOf<'container'>>().toEqualTypeOf<ContainerPlan>();
    expectTypeOf<TargetPlanOf<'web'>>().toEqualTypeOf<WebPlan>();
    expectTypeOf<TargetPlanOf<'react-native'>>().toEqualTypeOf<ReactNativePlan>();
    expectTypeOf<AwsLambdaPlan>().toExtend<TargetPlanBase>();
    expectTypeOf<ContainerPlan>().toExtend<TargetPlan>();
    // A plan carries its platform's resolved values, not only the base.
    expectTypeOf<AwsLambdaPlan>().toHaveProperty('memoryMb');
    expectTypeOf<AwsSageMakerPlan>().toHaveProperty('instanceType');
  });

  it('are exported by name from src/index.ts for every registered target type', async () => {
    const index = await readFile(path.join(import.meta.dirname, '../src/index.ts'), 'utf8');
    const exported = new Set([...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!)));
    expect(Object.keys(PLAN_TYPE_NAMES).sort()).toEqual([...KNOWN_TARGET_TYPES].sort());
    expect(Object.values(PLAN_TYPE_NAMES).filter((n) => !exported.has(n))).toEqual([]);
  });
});

describe("the entry point's code types", () => {
  it('name every catalogued code and type its payload (the types checked by tsc: npm run typecheck)', async () => {
    const { ERROR_CODES, MESSAGE_CODES } = await import('../src/index.js');
    expect(ERROR_CODES.NOT_DEPLOYED.fix).toMatch(/deploy-model deploy/);
    expect(MESSAGE_CODES.DM_SMOKE_DONE.meaning).toMatch(/smoke test/);
    expectTypeOf<'NOT_DEPLOYED'>().toExtend<ErrorCode>();
    expectTypeOf<'DM_SMOKE_DONE'>().toExtend<MessageCode>();
    expectTypeOf<'DM_NO_SUCH_CODE'>().not.toExtend<MessageCode>();
    expectTypeOf<MessagePayload<'DM_SMOKE_DONE'>>().toEqualTypeOf<SmokeResult>();
    expectTypeOf<MessagePayload<'DM_CONFIG_LOADED'>>().toEqualTypeOf<{ file: string; stage: string }>();
    expectTypeOf<MessagePayload<'DM_DEPLOY_START'>>().toEqualTypeOf<undefined>();
    expectTypeOf<ErrorDetails<'DEPLOY_INTERRUPTED'>>().toEqualTypeOf<{ target: string; version: string; previous?: string }>();
  });
});
