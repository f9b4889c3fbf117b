/** `deploy-model serve`: the local target's artifacts (zip, or with package 'image' the image) under the Lambda emulator, in the foreground. */
import { startImageFunction } from '../../lambda-emulator/image-function.js';
import { startLocalFunction } from '../../lambda-emulator/local-function.js';
import { buildLocalArtifacts, localFunctionSpec, type LocalArtifacts, type LocalContext } from './build.js';

export async function serveLocalTarget(ctx: LocalContext, options: { port?: number } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const build = await buildLocalArtifacts(ctx);
  const { image, ...spec } = localFunctionSpec(ctx.plan, build.outputs as LocalArtifacts, options.port);
  const log = (line: string) => ctx.io.info('DM_FUNCTION_LOG', line);
  const fn = image
    ? await startImageFunction({
      image: image.id ?? image.ref, builder: image.builder, functionName: spec.functionName, env: spec.env, memoryMb: spec.memoryMb, timeoutSeconds: spec.timeoutSeconds,
      functionUrlAuthType: spec.functionUrlAuthType, region: spec.region, ...(spec.port ? { port: spec.port } : {}), log,
    })
    : await startLocalFunction({ ...spec, log });
  return { url: fn.url, stop: () => fn.stop() };
}
