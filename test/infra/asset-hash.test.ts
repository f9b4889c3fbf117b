import { afterEach, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { dummyZips, fastStack, tempDir, writeZip } from './_fixtures.js';

const cleanups: Array<() => void> = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

function functionS3Key(): (code: string, layerZip: string) => string {
  return (code, layerZip) => {
    const stack = fastStack();
    const layer = new OnnxRuntimeLayer(stack, 'Layer', { code: layerZip });
    new OnnxModelFunction(stack, 'Fn', { code, modelBytes: 20, modelName: 'm', layer });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    return (Object.values(fns)[0] as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key;
  };
}

describe('asset keys follow the zip content, not its path', () => {
  it('a zip rebuilt at the same path in the same process gets a new S3 key; the same bytes keep theirs', () => {
    // GIVEN a function zip synthesised once
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { functionZip, layerZip } = dummyZips(dir);
    const keyOf = functionS3Key();
    const first = keyOf(functionZip, layerZip);
    // WHEN the same bytes are synthesised again, and then a changed zip at the same path
    const again = keyOf(functionZip, layerZip);
    writeZip(dir, 'function.zip', { 'index.mjs': 'export const handler = async () => ({ statusCode: 201 });\n' });
    const changed = keyOf(functionZip, layerZip);
    // THEN the key is stable for the same content and changes with it
    expect(again).toBe(first);
    expect(changed).not.toBe(first);
    expect(changed).toMatch(/^[0-9a-f]{64}\.zip$/);
  });
});
