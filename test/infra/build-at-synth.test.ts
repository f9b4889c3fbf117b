import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { gunzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hash } from '../../infra/_build-cache.js';
import { readZipContents } from '../../infra/_zip-contents.js';
import { buildModelFunctionZip, buildTritonModelArchive } from '../../infra/build-assets.js';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { assetBuilderCommand } from '../../infra/run-asset-builder.js';
import { TritonSageMakerEndpoint } from '../../infra/triton-sagemaker-endpoint.js';
import { DeployModelError } from '../../src/errors.js';
import { readValidationReport } from '../../src/kits/aws/synth-stack.js';
import { encodeModel, nodeProto, tensorInfo, tinyModelBytes } from '../_helpers/onnx-models.js';
import { dummyZips, MB, tempDir, type DummyZips } from './_fixtures.js';

// GIVEN real models on disk and the real builders, run by the constructs at synth in a child
// process (through tsx, from the sources); a cache folder of this file's own.

let tmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
let adder: string;
const savedCache = process.env.XDG_CACHE_HOME;

beforeAll(() => {
  tmp = tempDir();
  zips = dummyZips(tmp.dir);
  process.env.XDG_CACHE_HOME = path.join(tmp.dir, 'cache');
  adder = path.join(tmp.dir, 'models', 'adder.onnx');
  writeModel(adder, tinyModelBytes('add'));
});
afterAll(() => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  tmp.cleanup();
});

function writeModel(file: string, bytes: Uint8Array): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** The cache entry of a model's function zip (one per model path). */
function cacheEntry(model: string): string {
  return path.join(process.env.XDG_CACHE_HOME!, 'deploy-model', 'cdk', 'functions', hash(path.resolve(model)).slice(0, 24));
}

let apps = 0;
function stackIn(context: Record<string, unknown> = {}): Stack {
  const app = new App({ builtinCloudFormationValidation: false, outdir: path.join(tmp.dir, `cdk.out-${++apps}`), context });
  return new Stack(app, 'Models', { env: { region: 'eu-west-1' } });
}

/** The file CDK staged for the asset whose object key the template names. */
function stagedAsset(stack: Stack, objectKey: string): string {
  const outdir = (stack.node.root as App).outdir;
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const entry = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === objectKey));
  if (!entry) throw new Error(`no asset with key ${objectKey}`);
  return path.join(outdir, entry.source.path);
}

function synthesised(stack: Stack): Template {
  (stack.node.root as App).synth();
  return Template.fromStack(stack);
}

function functionKey(template: Template): string {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: { Code: { S3Key: string } } }>;
  return fn.Properties.Code.S3Key;
}

function caught(fn: () => unknown): DeployModelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DeployModelError);
    return e as DeployModelError;
  }
  throw new Error('expected a DeployModelError');
}

/** Names in a tar.gz, read from the ustar headers. */
function tarNames(file: string): string[] {
  const tar = gunzipSync(readFileSync(file));
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => new TextDecoder().decode(header.subarray(from, from + len)).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const size = parseInt(field(124, 12).trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe('OnnxModelFunction from a model path', () => {
  it('builds the function zip at synth: the bundled handler, the model and its signature; name and memory from the file', () => {
    // GIVEN
    const stack = stackIn();
    const layer = new OnnxRuntimeLayer(stack, 'Layer', { code: zips.layerZip });

    // WHEN
    const fn = new OnnxModelFunction(stack, 'Adder', { model: adder, layer });

    // THEN
    const template = synthesised(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler', MemorySize: 1024, Environment: { Variables: { DM_MODEL_NAME: 'adder' } },
    });
    expect(fn.memorySize).toBe(1024);
    const zip = stagedAsset(stack, functionKey(template));
    expect(readZipContents(zip).names.sort()).toEqual(['index.mjs', 'model/model.onnx', 'model/signature.json']);
    expect(functionKey(template)).toMatch(/^[0-9a-f]{64}\.zip$/);
  });

  it('gives the same model the same asset hash in a new app without building again, and a changed model a new one', () => {
    // GIVEN a model synthesised once
    const model = writeModel(path.join(tmp.dir, 'models', 'changing.onnx'), tinyModelBytes('add'));
    const keyOf = () => {
      const stack = stackIn();
      new OnnxModelFunction(stack, 'Fn', { model, layer: new OnnxRuntimeLayer(stack, 'Layer', { code: zips.layerZip }) });
      return functionKey(synthesised(stack));
    };
    const first = keyOf();
    const entry = cacheEntry(model);
    const recorded = statSync(path.join(entry, 'record.json')).mtimeMs;

    // WHEN the same model is synthesised again, then a different model at the same path
    const again = keyOf();
    const untouched = statSync(path.join(entry, 'record.json')).mtimeMs;
    writeModel(model, encodeModel({ nodes: [nodeProto('Relu', ['x'], ['y'])], inputs: [tensorInfo('x', 1, ['batch', 4])], outputs: [tensorInfo('y', 1, ['batch', 4])] }));
    const changed = keyOf();

    // THEN
    expect(again).toBe(first);
    expect(untouched).toBe(recorded);
    expect(changed).not.toBe(first);
  });

  it("builds one onnxruntime layer per stack for the function's architecture, with that architecture's binaries only", () => {
    // GIVEN
    const stack = stackIn();

    // WHEN two models share a stack
    new OnnxModelFunction(stack, 'A', { model: adder, architecture: lambda.Architecture.ARM_64 });
    new OnnxModelFunction(stack, 'B', { model: adder, modelName: 'b', architecture: lambda.Architecture.ARM_64 });

    // THEN
    const template = synthesised(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
    const [layer] = Object.values(template.findResources('AWS::Lambda::LayerVersion')) as Array<{ Properties: { Content: { S3Key: string } } }>;
    const names = readZipContents(stagedAsset(stack, layer.Properties.Content.S3Key)).names;
    expect(names).toContain('nodejs/node_modules/onnxruntime-node/package.json');
    expect(names.some((n) => n.includes('/linux/arm64/'))).toBe(true);
    expect(names.some((n) => n.includes('/x64/') || n.includes('/darwin/') || n.includes('/win32/'))).toBe(false);
  }, 180_000);

  it('builds nothing for a stack CDK does not bundle (cdk ls, cdk destroy, --exclusively)', () => {
    // GIVEN a stack left out of bundling
    const stack = stackIn({ 'aws:cdk:bundling-stacks': [] });

    // WHEN
    const fn = new OnnxModelFunction(stack, 'Fn', { model: adder, layer: new OnnxRuntimeLayer(stack, 'Layer', { code: zips.layerZip }) });

    // THEN the template is still complete, with the memory from the file's size
    expect(fn.memorySize).toBe(1024);
    synthesised(stack).resourceCountIs('AWS::Lambda::Function', 1);
  });

  it('refuses a missing model path at synth, naming the path and where it was looked for', () => {
    const e = caught(() => new OnnxModelFunction(stackIn(), 'Fn', { model: './models/nope.onnx' }));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    expect(e.message).toContain("Models/Fn: model './models/nope.onnx' does not exist");
    expect(e.message).toContain(path.resolve('./models/nope.onnx'));
  });

  it('refuses a file that is not an ONNX model with the model inspector\'s error', () => {
    // GIVEN a PNG named .onnx
    const png = writeModel(path.join(tmp.dir, 'models', 'picture.onnx'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
    const stack = stackIn();

    // WHEN / THEN
    const e = caught(() => new OnnxModelFunction(stack, 'Fn', { model: png, layer: new OnnxRuntimeLayer(stack, 'Layer', { code: zips.layerZip }) }));
    expect(e.code).toBe('MODEL_NOT_ONNX');
    expect(e.message).toMatch(/^Models\/Fn: Model file .*picture\.onnx is not an ONNX model: it is a PNG image/);
  });

  it("refuses a model that with the layer exceeds Lambda's 250 MB as a zip before building anything", () => {
    // GIVEN a 240 MB model (sparse: no disk is used) and the real x86_64 layer's size, as a zip
    // (left to choose, the construct would ship it as a container image)
    const big = path.join(tmp.dir, 'models', 'big.onnx');
    writeModel(big, new Uint8Array(0));
    truncateSync(big, 240 * MB);

    // WHEN / THEN
    const e = caught(() => new OnnxModelFunction(stackIn({ 'aws:cdk:bundling-stacks': [] }), 'Fn', { model: big, package: 'zip' }));
    expect(e.code).toBe('LAMBDA_PACKAGE_TOO_LARGE');
    expect(e.message).toMatch(/^Models\/Fn: the Lambda package is \d+\.\d MB unzipped \(function code and model 240\.0 MB \+ onnxruntime layer \d+\.\d MB\), over Lambda's limit of 250\.0 MB/);
    expect(e.message).toContain("Deploy this model with the 'container' target");
  });

  it('takes a model or a zip, not both or neither; a zip needs its model name', () => {
    expect(caught(() => new OnnxModelFunction(stackIn(), 'Fn', {})).code).toBe('LAMBDA_CODE_SOURCE');
    expect(caught(() => new OnnxModelFunction(stackIn(), 'Fn', { model: adder, code: zips.functionZip })).code).toBe('LAMBDA_CODE_SOURCE');
    const e = caught(() => new OnnxModelFunction(stackIn(), 'Fn', { code: zips.functionZip, modelBytes: MB }));
    expect(e.code).toBe('LAMBDA_MODEL_NAME_MISSING');
  });
});

describe('TritonSageMakerEndpoint from a model path', () => {
  it('generates the Triton repository from the graph and packs it at synth, keyed <hash>.tar.gz', () => {
    // GIVEN
    const stack = stackIn();

    // WHEN
    const endpoint = new TritonSageMakerEndpoint(stack, 'Endpoint', { model: adder, instanceType: 'ml.g5.xlarge' });

    // THEN
    expect(endpoint.modelName).toBe('adder');
    const template = synthesised(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'adder' } } });
    expect(endpoint.modelData.objectKey).toMatch(/^[0-9a-f]{64}\.tar\.gz$/);
    expect(tarNames(stagedAsset(stack, endpoint.modelData.objectKey))).toEqual(['adder/', 'adder/1/', 'adder/1/model.onnx', 'adder/config.pbtxt', 'adder/trt_engine_cache/']);
  });

  it('writes the triton settings into config.pbtxt', async () => {
    // GIVEN the builder the construct runs, with ONNX Runtime's CUDA engine and dynamic batching
    const out = path.join(tmp.dir, 'triton-out');

    // WHEN
    const archive = await buildTritonModelArchive({ model: adder, modelName: 'adder', outDir: out, triton: { engine: 'onnxruntime', batching: { maxBatchSize: 4 } } });

    // THEN
    const tar = gunzipSync(readFileSync(archive.file));
    const text = new TextDecoder().decode(tar);
    expect(text).toContain('max_batch_size: 4');
    expect(text).toContain('dynamic_batching');
    expect(text).not.toContain('tensorrt');
    expect(archive.entries).not.toContain('adder/trt_engine_cache/');
  });

  it('checks the triton settings before building, and takes a model or an archive, not both', () => {
    const e = caught(() => new TritonSageMakerEndpoint(stackIn(), 'Endpoint', { model: adder, instanceType: 'ml.g5.xlarge', triton: { precision: 'int8' } }));
    expect(e.code).toBe('TRITON_OPTIONS_INVALID');
    expect(e.message).toMatch(/^Models\/Endpoint: triton\.int8Calibration: precision 'int8' needs a calibration table/);
    const archive = path.join(tmp.dir, 'model.tar.gz');
    writeFileSync(archive, 'x');
    expect(caught(() => new TritonSageMakerEndpoint(stackIn(), 'E', { model: adder, modelArchive: archive, instanceType: 'ml.g5.xlarge' })).code).toBe('SAGEMAKER_MODEL_SOURCE');
    expect(caught(() => new TritonSageMakerEndpoint(stackIn(), 'E', { modelArchive: archive, instanceType: 'ml.g5.xlarge' })).code).toBe('SAGEMAKER_MODEL_NAME');
  });
});

describe('a CDK app of the constructs alone, with cdk-nag', () => {
  it('passes AwsSolutionsChecks with no finding: a function and an endpoint built at synth from a model path', () => {
    // GIVEN the README's app (a function and its layer for arm64, built at synth) and docs/sagemaker.md's endpoint
    const outdir = path.join(tmp.dir, `cdk.out-${++apps}`);
    const app = new App({ builtinCloudFormationValidation: false, outdir, context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
    const stack = new Stack(app, 'Models', { env: { region: 'eu-west-1' } });
    const det = new OnnxModelFunction(stack, 'Det', { model: adder, architecture: lambda.Architecture.ARM_64 });
    det.addStackOutputs();
    new TritonSageMakerEndpoint(stack, 'Endpoint', { model: adder, instanceType: 'ml.g5.xlarge' }).addStackOutputs('Sm');

    // WHEN cdk-nag runs as a CDK user adds it (cdk-nag 3: a validation plugin, not an Aspect)
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();

    // THEN it ran, and found nothing the constructs do not acknowledge with a reason
    expect(existsSync(path.join(outdir, 'validation-report.json'))).toBe(true);
    expect(readValidationReport(outdir)).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(path.join(outdir, 'Models.template.json'), 'utf8')).Outputs as object).sort()).toEqual(
      ['AliasArn', 'FunctionName', 'FunctionUrl', 'LiveVersion', 'LogGroupName', 'NewVersion', 'SmEndpointConfigName', 'SmEndpointName', 'SmLogGroupName', 'SmModelDataUrl', 'SmModelName'],
    );
  }, 180_000);
});

describe('the builders', () => {
  it('reuse their cache for the same model and say so', async () => {
    // GIVEN
    const out = path.join(tmp.dir, 'fn-out');
    const first = await buildModelFunctionZip({ model: adder, outDir: out });

    // WHEN
    const second = await buildModelFunctionZip({ model: adder, outDir: out });
    const uncached = await buildModelFunctionZip({ model: adder, outDir: out, cacheDir: false });

    // THEN the bytes are the same either way
    expect(second).toMatchObject({ cached: true, sha256: first.sha256, bytes: first.bytes });
    expect(uncached).toMatchObject({ cached: false, sha256: first.sha256 });
    expect(first.files).toEqual(['index.mjs', 'model/model.onnx', 'model/signature.json']);
  });

  it('fail with CDK_BUNDLING_FAILED and the fix when the builder is not where the package puts it', () => {
    const e = caught(() => assetBuilderCommand(pathToFileURL(path.join(tmp.dir, 'run-asset-builder.js')).href));
    expect(e.code).toBe('CDK_BUNDLING_FAILED');
    expect(e.message).toContain('Reinstall deploy-model');
  });
});
