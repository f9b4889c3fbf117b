import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { lambdaStackArtifacts } from '../../infra/lambda-target-stack.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { awsLambdaTarget, type AwsLambdaPlan, type AwsLambdaTargetConfig, type LambdaArtifacts } from '../../src/targets/aws-lambda/index.js';
import { synthLambdaPlan } from '../../src/targets/aws-lambda/synth.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { targetContext } from '../_helpers/target-context.js';
import { lambdaConfig, tempDir } from './_fixtures.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => { tmp = tempDir(); });
afterAll(() => tmp.cleanup());

interface TemplateJson { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>; Outputs: Record<string, unknown> }

function resourcesOf(file: string, type: string) {
  const t = JSON.parse(readFileSync(file, 'utf8')) as TemplateJson;
  return Object.values(t.Resources).filter((r) => r.Type === type);
}

describe('aws-lambda synth with the real builders', () => {
  it('builds the function zip and the arm64 onnxruntime layer, synthesises and passes cdk-nag', async () => {
    // GIVEN a real model, planned, and the target's real build (function and layer builders)
    const signature = await inspectModel(REAL_MODELS.cls);
    const { config } = lambdaConfig({ architecture: 'arm64' }, 'ocr-cls');
    const ctx = targetContext<AwsLambdaTargetConfig, AwsLambdaPlan>({ config: { ...config, model: { ...config.model, path: REAL_MODELS.cls } }, targetName: 'lambda', signature, dir: tmp.dir });
    const built = await (await awsLambdaTarget.driver()).build(ctx);
    const outputs = built.outputs as LambdaArtifacts;

    // WHEN
    const result = synthLambdaPlan({ plan: ctx.plan, artifacts: lambdaStackArtifacts(outputs), rootDir: tmp.dir });

    // THEN the stack passes the checks, and the real sizes reached the constructs
    expect(result.nagFindings).toEqual([]);
    expect(outputs.layerUnzippedBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(built.artifacts.map((a) => a.kind)).toEqual(['function.zip', 'layer.zip (arm64)']);
    const [fn] = resourcesOf(result.templateFile, 'AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', MemorySize: 1024 });
    const [layer] = resourcesOf(result.templateFile, 'AWS::Lambda::LayerVersion');
    expect(layer.Properties).toMatchObject({ CompatibleArchitectures: ['arm64'], Description: expect.stringMatching(/^onnxruntime-node \d+\.\d+\.\d+ \(arm64, CPU\)/) });
    // Both zips are staged as assets in the cloud assembly.
    const assets = JSON.parse(readFileSync(path.join(result.assemblyDir, 'ocr-cls-dev-lambda.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const staged = Object.values(assets.files).map((f) => f.source.path).filter((p) => p.endsWith('.zip'));
    expect(staged).toHaveLength(2);
    for (const p of staged) expect(existsSync(path.join(result.assemblyDir, p))).toBe(true);
  }, 240_000);

  it('OnnxRuntimeLayer.build builds the zip first, then the layer', async () => {
    // GIVEN the arm64 layer cached by the test above
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S');

    // WHEN
    const layer = await OnnxRuntimeLayer.build(stack, 'Ort', { architecture: lambda.Architecture.ARM_64, outDir: path.join(tmp.dir, 'layer-out'), cacheDir: path.join(tmp.dir, 'cache', 'layers') });

    // THEN
    expect(layer.architecture).toBe(lambda.Architecture.ARM_64);
    expect(layer.unzippedBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(layer.ortVersion).toMatch(/^\d+\.\d+\.\d+/);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
  });

  it('infra/app.ts synthesises a config the way the CDK CLI runs it', async () => {
    // GIVEN a config file (plain object, so no build of the package is needed) and the CLI's env
    const configFile = path.join(tmp.dir, 'deploy-model.config.ts');
    writeFileSync(configFile, `export default ${JSON.stringify({
      name: 'wake', model: { path: REAL_MODELS.helloDeepa },
      targets: { local: { type: 'local' }, fn: { type: 'aws-lambda', region: 'us-east-1' } },
    })};\n`);
    const outdir = path.join(tmp.dir, 'cdk.out');

    // WHEN
    await run(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), path.join(repoRoot, 'infra/app.ts')], {
      cwd: tmp.dir,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ stage: 'qa' }), XDG_CACHE_HOME: path.join(tmp.dir, 'cache') },
      timeout: 240_000,
    });

    // THEN one stack for the one aws-lambda target
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; environment?: string }> };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    expect(stacks.map(([id, a]) => [id, a.environment])).toEqual([['wake-qa-fn', 'aws://unknown-account/us-east-1']]);
    expect(resourcesOf(path.join(outdir, 'wake-qa-fn.template.json'), 'AWS::Lambda::Url')).toHaveLength(1);
  }, 240_000);
});
