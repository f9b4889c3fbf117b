/**
 * The process the constructs start at synth to build an asset: CDK constructs are synchronous and
 * the builders are not, so `runAssetBuilder` runs this file with `spawnSync`.
 *
 *   node asset-builder.js '<AssetBuildRequest as JSON>' OUT_DIR
 *
 * It writes the one artifact into OUT_DIR and, as its only output on stdout, one line of JSON:
 * `{ "ok": true, "result": ... }`, or `{ "ok": false, "error": { code, message, details, kind } }`
 * for a DeployModelError (any other failure goes to stderr with a non-zero exit code).
 */
import { isDeployModelError } from '../src/errors.js';
import { buildLambdaImageContext, buildModelFunctionZip, buildOnnxRuntimeLayerZip, buildTritonModelArchive } from './build-assets.js';
import type { AssetBuildRequest } from './run-asset-builder.js';

async function build(request: AssetBuildRequest, outDir: string): Promise<unknown> {
  switch (request.kind) {
    case 'function': return buildModelFunctionZip({ ...request.options, outDir });
    case 'layer': return buildOnnxRuntimeLayerZip({ ...request.options, outDir });
    case 'triton': return buildTritonModelArchive({ ...request.options, outDir });
    case 'lambda-image': return buildLambdaImageContext({ ...request.options, outDir });
  }
}

async function main(): Promise<void> {
  const [json, outDir] = process.argv.slice(2);
  if (!json || !outDir) throw new Error('usage: asset-builder.js REQUEST_JSON OUT_DIR');
  try {
    const result = await build(JSON.parse(json) as AssetBuildRequest, outDir);
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (e) {
    if (!isDeployModelError(e)) throw e;
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: e.code, message: e.message, details: e.details, kind: e.kind } })}\n`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 70;
});
