/** The checks of the model and of `model.inputs` that every target shares, before any target's own. */
import type { ConfigProblem } from '../config/format-issues.js';
import type { ProjectConfig } from '../config/schema.js';
import { servabilityProblems } from '../model/inspect-model.js';
import { resolveShape } from '../model/resolve-shape.js';
import type { ModelSignature } from '../model/types.js';

export function projectProblems(config: ProjectConfig, signature: ModelSignature): ConfigProblem[] {
  const problems: ConfigProblem[] = servabilityProblems(signature).map((rule) => ({
    path: 'model.path', value: signature.file, rule, fix: 'change the model so every input and output is a tensor of a servable type',
  }));
  for (const [name, { shape }] of Object.entries(config.model.inputs ?? {})) {
    const spec = signature.inputs.find((i) => i.name === name);
    if (!spec) {
      problems.push({ path: `model.inputs.${name}`, value: JSON.stringify(name), rule: `the model has no input '${name}'`, fix: `use one of: ${signature.inputs.map((i) => i.name).join(', ')}` });
      continue;
    }
    try {
      resolveShape(spec, shape);
    } catch (e) {
      problems.push({ path: `model.inputs.${name}.shape`, value: JSON.stringify(shape), rule: (e as Error).message, fix: `give the model's rank and keep its fixed dims (${JSON.stringify(spec.shape)})` });
    }
  }
  for (const name of Object.keys(config.smoke.tolerance ?? {})) {
    if (!signature.outputs.some((o) => o.name === name)) {
      problems.push({ path: `smoke.tolerance.${name}`, value: JSON.stringify(name), rule: `the model has no output '${name}'`, fix: `name one of its outputs: ${signature.outputs.map((o) => o.name).join(', ')}` });
    }
  }
  return problems;
}
