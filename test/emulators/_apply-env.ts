/**
 * Sets a fake's variables in this process (for in-process SDK clients), clearing `cleared` so a
 * developer's own settings cannot point a client elsewhere; returns the function that restores
 * everything as it was.
 */
export function applyEnv(env: Record<string, string>, cleared: readonly string[] = []): () => void {
  const saved = Object.fromEntries([...Object.keys(env), ...cleared].map((k) => [k, process.env[k]]));
  for (const k of cleared) delete process.env[k];
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
