import type { ModelSignature } from '../../../src/model/types.js';
import type { ReactNativeTargetConfig } from '../../../src/targets/react-native/schema.js';
import type { PlanInput } from '../../../src/targets/target-module.js';

/** The planner's input for a react-native target of a config named `name`, stage dev, target `mobile`. */
export function rnInput(target: ReactNativeTargetConfig, signature: ModelSignature, name: string): PlanInput<ReactNativeTargetConfig> {
  return {
    config: { name, model: { path: signature.file }, runtime: { executionProviders: ['cpu'] }, smoke: { input: 'auto', maxLatencyMs: 2000, requests: 5 } },
    stage: 'dev', targetName: 'mobile', target, signature, rootDir: '/project',
  };
}
