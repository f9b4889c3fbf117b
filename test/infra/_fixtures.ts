import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { zipSync } from 'fflate';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { AwsLambdaTargetConfig } from '../../src/targets/aws-lambda/schema.js';

/** A temp folder removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dm-infra-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a small zip; the constructs only need a real archive, not a working handler. */
export function writeZip(dir: string, name: string, files: Record<string, string | Uint8Array>): string {
  const entries: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) entries[k] = typeof v === 'string' ? new TextEncoder().encode(v) : v;
  const file = path.join(dir, name);
  writeFileSync(file, zipSync(entries, { mtime: new Date('2020-01-01T00:00:00Z') }));
  return file;
}

export interface DummyZips {
  functionZip: string;
  layerZip: string;
}

export function dummyZips(dir: string, options: { sourceMap?: boolean } = {}): DummyZips {
  const fn: Record<string, string> = { 'index.mjs': 'export const handler = async () => ({ statusCode: 200 });\n', 'model.onnx': 'not really a model' };
  if (options.sourceMap) fn['index.mjs.map'] = '{"version":3,"sources":[],"mappings":""}';
  return {
    functionZip: writeZip(dir, 'function.zip', fn),
    layerZip: writeZip(dir, 'layer.zip', { 'nodejs/node_modules/onnxruntime-node/package.json': '{"name":"onnxruntime-node","version":"1.30.0"}' }),
  };
}

/** An App without the built-in CloudFormation validation, which costs over a second per synth. */
export function fastApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

export function fastStack(): Stack {
  return new Stack(fastApp(), 'TestStack', { env: { region: 'eu-west-1' } });
}

export function lambdaConfig(target: Record<string, unknown> = {}, name = 'ocr-det'): { config: Config; target: AwsLambdaTargetConfig } {
  const config = configSchema.parse({
    name,
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1', ...target } },
  });
  return { config, target: config.targets.lambda as AwsLambdaTargetConfig };
}

export const MB = 1024 * 1024;
