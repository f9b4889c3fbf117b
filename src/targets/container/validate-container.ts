/** What the container target checks without a builder or a cluster: the model's external data and the manifests it would write. */
import type { ConfigProblem } from '../../config/format-issues.js';
import { isDeployModelError } from '../../errors.js';
import type { PlanInput } from '../target-module.js';
import { externalDataPath } from './build-context.js';
import { validateManifests, type KnativeRefusal } from './manifests.js';
import { planContainer } from './plan.js';
import type { ContainerTargetConfig } from './schema.js';

export async function validateContainer(input: PlanInput<ContainerTargetConfig>): Promise<ConfigProblem[]> {
  const at = `targets.${input.targetName}`;
  const problems: ConfigProblem[] = [];
  for (const rel of input.signature.externalData) {
    try {
      externalDataPath(rel);
    } catch {
      problems.push({
        path: 'model.path', value: JSON.stringify(rel),
        rule: "the model's external data must sit inside the model's folder: onnxruntime resolves it relative to the model, and the image holds that folder only",
        fix: 'move the file beside the model and re-save the model with a relative location',
      });
    }
  }
  try {
    validateManifests(planContainer(input).manifests.objects);
  } catch (e) {
    if (!isDeployModelError(e)) throw e;
    const details = e.details as { manifest?: string; name?: string; refusals?: KnativeRefusal[] };
    if (details.refusals) {
      for (const r of details.refusals) {
        const onPort = r.path.endsWith('.containerPort');
        problems.push({ path: onPort ? `${at}.port` : `${at}.kserve`, value: JSON.stringify(onPort ? input.target.port : input.target.kserve), rule: `the InferenceService's ${r.path} ${r.rule}`, fix: r.fix });
      }
    } else if (details.name !== undefined) {
      problems.push({
        path: 'name', value: JSON.stringify(details.name),
        rule: "it names the Kubernetes Service and the KServe InferenceService, so it must be a DNS-1035 label: a lowercase letter first, then lowercase letters, digits and '-', a letter or a digit last, at most 63 characters",
        fix: `change the config's name (e.g. '${details.name.replace(/-+$/, '') || 'model'}')`,
      });
    } else {
      problems.push({ path: at, value: JSON.stringify(details.manifest ?? 'manifests'), rule: e.message, fix: "check the target's resources and replicas" });
    }
  }
  return problems;
}
