import { createRequire } from 'node:module';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { dummyZips, fastStack, tempDir, type DummyZips } from './_fixtures.js';

const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

let tmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
beforeAll(() => { tmp = tempDir(); zips = dummyZips(tmp.dir); });
afterAll(() => tmp.cleanup());

describe('OnnxRuntimeLayer', () => {
  it('defaults to x86_64, Node 22 and 24, and names the installed onnxruntime version', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    const layer = new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: ['nodejs22.x', 'nodejs24.x'],
      Description: `onnxruntime-node ${ortVersion} (x86_64, CPU), built by deploy-model`,
      LicenseInfo: 'MIT',
    });
    expect(layer.ortVersion).toBe(ortVersion);
  });

  it('is built for one architecture', () => {
    const stack = fastStack();
    new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip, architecture: lambda.Architecture.ARM_64, ortVersion: '1.2.3' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      Description: 'onnxruntime-node 1.2.3 (arm64, CPU), built by deploy-model',
    });
  });

  it('measures its unzipped size from the zip, or takes it from props', () => {
    const stack = fastStack();
    const measured = new OnnxRuntimeLayer(stack, 'A', { code: zips.layerZip });
    const given = new OnnxRuntimeLayer(stack, 'B', { code: zips.layerZip, unzippedBytes: 17_600_000 });
    expect(measured.unzippedBytes).toBe('{"name":"onnxruntime-node","version":"1.30.0"}'.length);
    expect(given.unzippedBytes).toBe(17_600_000);
  });
});
