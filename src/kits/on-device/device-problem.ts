// A problem an on-device target (web, react-native) finds in the model or config before it builds.
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError } from '../../errors.js';

/** An error stops the build; a warning is reported (`DM_<code>`) and the build goes on. */
export interface DeviceProblem {
  level: 'error' | 'warning';
  /** Stable code, e.g. `WEB_MODEL_LARGE` or `RN_OPSET_UNSUPPORTED`. */
  code: string;
  /** The config path the problem is about, e.g. `targets.<name>.threads` or `model.path`. */
  path: string;
  value: string;
  rule: string;
  fix: string;
}

/** The errors among `problems`, as `validate` reports them. */
export function configProblemsOf(problems: readonly DeviceProblem[]): ConfigProblem[] {
  return problems.filter((p) => p.level === 'error').map(({ path, value, rule, fix }) => ({ path, value, rule, fix }));
}

/** Throws `code` listing the errors among `problems`, when there is one; `what` names what cannot be built. */
export function assertNoErrors(problems: readonly DeviceProblem[], code: string, what: string): void {
  const errors = problems.filter((p) => p.level === 'error');
  if (errors.length === 0) return;
  throw new DeployModelError(code, `${what} cannot be built:\n${errors.map((p) => `  - ${p.path}: ${p.rule} (${p.code}, value ${p.value}). Fix: ${p.fix}.`).join('\n')}`, { details: { problems: errors } });
}
