/**
 * `$(VAR)` references in a container's command, args and env values, expanded as Kubernetes
 * expands them: Vertex AI's ModelContainerSpec.args says so ("this field corresponds to the `args`
 * field of the Kubernetes Containers v1 core API"; `google/cloud/aiplatform/v1/model.proto` in
 * `@google-cloud/aiplatform`). The rules are those of kubernetes/kubernetes
 * `third_party/forked/golang/expansion` (`Expand`, and the cases of `expand_test.go`):
 * - `$(NAME)` becomes the variable's value, or stays as written when it is not defined;
 * - `$$` is an escaped `$`, so `$$(NAME)` is the literal `$(NAME)`;
 * - any other `$`, and an unterminated `$(`, are kept as they are.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close;
      }
    } else {
      out += `$${next}`;
      i += 1;
    }
  }
  return out;
}

/**
 * A container's environment: `base` (what the platform sets) first, then `env` in order, each
 * value expanded against everything before it, as Kubernetes builds a container's environment
 * (a later entry can use an earlier one, not the other way round).
 */
export function containerEnvironment(base: Readonly<Record<string, string>>, env: ReadonlyArray<{ name?: string | null; value?: string | null }> = []): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const e of env) {
    if (!e.name) continue;
    out[e.name] = expandVariables(e.value ?? '', (n) => out[n]);
  }
  return out;
}
