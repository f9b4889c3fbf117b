/** The `react-native` target: a package for a React Native app (a typed client over onnxruntime-react-native, the model asset, Metro and Expo settings); build-only. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { plan, type RnPlan } from './plan.js';
import { reactNativeTargetSchema, type ReactNativeTargetConfig } from './schema.js';
import { validate } from './validate.js';

export type { ReactNativeTargetConfig, ReactNativeTargetInput, RnExecutionProvider } from './schema.js';
export type { RnPlan, RnFile, RnFileSource } from './plan.js';
export type { RnBuild } from './build.js';

export const reactNativeTarget = defineTarget({
  type: 'react-native',
  schema: reactNativeTargetSchema,
  validate,
  plan,
  driver: async (): Promise<TargetDriver<ReactNativeTargetConfig, RnPlan>> => (await import('./driver.js')).reactNativeDriver,
});
