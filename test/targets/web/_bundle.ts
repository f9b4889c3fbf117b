import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { generateSmokeRequest, type V2Request } from '../../../src/smoke/smoke-input.js';
import type { PlanInput } from '../../../src/targets/target-module.js';
import { plan, type WebPlan } from '../../../src/targets/web/plan.js';
import { webTargetSchema, type WebTargetConfig, type WebTargetInput } from '../../../src/targets/web/schema.js';

/** The planner's input for a web target of a config named `name`, stage dev, target `web`. */
export function planInput(signature: ModelSignature, target: Partial<WebTargetInput> = {}, name = 'demo'): PlanInput<WebTargetConfig> {
  return {
    config: { name, model: { path: signature.file }, runtime: { executionProviders: ['cpu'] }, smoke: { input: 'auto', maxLatencyMs: 2000, requests: 5 } },
    stage: 'dev', targetName: 'web', target: webTargetSchema.parse({ type: 'web', ...target }), signature, rootDir: '/project',
  };
}

/** Plans the web bundle of a model file, with generated smoke inputs (shapes overridable). */
export async function planFor(modelPath: string, target: Partial<WebTargetInput> = {}, options: { name?: string; shapes?: Record<string, number[]>; request?: V2Request } = {}): Promise<{ plan: WebPlan; signature: ModelSignature; request: V2Request }> {
  const signature = await inspectModel(modelPath);
  const request = options.request ?? generateSmokeRequest(signature, Object.fromEntries(Object.entries(options.shapes ?? {}).map(([k, shape]) => [k, { shape }])));
  return { plan: plan(planInput(signature, target, options.name)), signature, request };
}

/** The generated text of one file of a plan. */
export function generated(p: WebPlan, path: string): string {
  const f = p.files.find((x) => x.path === path);
  if (f?.source.kind !== 'generated') throw new Error(`${path} is not a generated file of the plan`);
  return f.source.content;
}
