import { startLocalFunction } from '../../lambda-emulator/local-function.js';
import type { TargetContext } from '../driver.js';
import { buildLocalArtifacts } from './build.js';
import { localFunctionSpec } from './spec.js';
import type { LocalTargetConfig } from './schema.js';

/** `deploy-model serve`: the same artifacts as deploy, in the foreground. */
export async function serveLocalTarget(ctx: TargetContext<LocalTargetConfig>, options: { port?: number } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const artifacts = await buildLocalArtifacts(ctx);
  const spec = localFunctionSpec(ctx, artifacts, options.port);
  const fn = await startLocalFunction({ ...spec, log: (line: string) => ctx.io.info('DM_FUNCTION_LOG', line) });
  return { url: fn.url, stop: () => fn.stop() };
}
