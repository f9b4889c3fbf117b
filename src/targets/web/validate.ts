// The web target's checks that need no cloud.
import type { ConfigProblem } from '../../config/format-issues.js';
import { configProblemsOf } from '../../kits/on-device/device-problem.js';
import type { PlanInput } from '../target-module.js';
import { checkWebRuntime } from './check-web-runtime.js';
import { modelFilesOf } from './model-files-of.js';
import type { WebTargetConfig } from './schema.js';
import { webProblems } from './web-problems.js';

/**
 * What stops a web build, checked without a cloud: the model's exact size with its external data,
 * dtypes, threads on a host that cannot set headers, and onnxruntime-web's own verdict on the
 * model (a session created in Node with its WebAssembly backend). Warnings are not problems: the
 * plan carries them (`plan.problems`) for the driver to report.
 */
export async function validate(input: PlanInput<WebTargetConfig>): Promise<ConfigProblem[]> {
  const model = await modelFilesOf(input.signature);
  const modelBytes = model.bytes + model.externalData.reduce((a, d) => a + d.bytes, 0);
  const found = webProblems({ targetName: input.targetName, signature: input.signature, target: input.target, modelBytes }).filter((p) => p.level === 'error');
  // A model with a dtype onnxruntime-web cannot pass would also fail to load: one problem is enough.
  if (!found.some((p) => p.code === 'WEB_DTYPE_UNSUPPORTED')) found.push(...(await checkWebRuntime(model)));
  return configProblemsOf(found);
}
