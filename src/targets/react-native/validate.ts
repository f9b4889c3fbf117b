// The react-native target's checks that need no device.
import type { ConfigProblem } from '../../config/format-issues.js';
import { configProblemsOf } from '../../kits/on-device/device-problem.js';
import type { PlanInput } from '../target-module.js';
import { mobileProblems } from './mobile-problems.js';
import type { ReactNativeTargetConfig } from './schema.js';

/**
 * What stops the package from loading in the app, checked without a device: the model's IR
 * version, opsets, operator domains and tensor types against the ONNX Runtime that
 * onnxruntime-react-native ships. Warnings stay in the plan (`plan.problems`) for the driver to report.
 */
export async function validate(input: PlanInput<ReactNativeTargetConfig>): Promise<ConfigProblem[]> {
  return configProblemsOf(mobileProblems({ targetName: input.targetName, signature: input.signature }));
}
