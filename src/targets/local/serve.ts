/** `deploy-model serve`: the local target's artifacts under the Lambda emulator, in the foreground. */
import { startLocalFunction } from '../../lambda-emulator/local-function.js';
import { buildLocalArtifacts, localFunctionSpec, type LocalArtifacts, type LocalContext } from './build.js';

export async function serveLocalTarget(ctx: LocalContext, options: { port?: number } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const build = await buildLocalArtifacts(ctx);
  const spec = localFunctionSpec(ctx.plan, build.outputs as LocalArtifacts, options.port);
  const fn = await startLocalFunction({ ...spec, log: (line: string) => ctx.io.info('DM_FUNCTION_LOG', line) });
  return { url: fn.url, stop: () => fn.stop() };
}
