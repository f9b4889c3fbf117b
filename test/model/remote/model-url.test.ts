import { describe, expect, it } from 'vitest';
import { isModelUrl, parseModelUrl } from '../../../src/model/remote/model-url.js';

describe('parseModelUrl', () => {
  it('reads s3://, gs:// and Azure Blob URLs', () => {
    expect(parseModelUrl('s3://my-models/det/v3/model.onnx')).toEqual({ kind: 's3', url: 's3://my-models/det/v3/model.onnx', bucket: 'my-models', key: 'det/v3/model.onnx' });
    expect(parseModelUrl('gs://my_models/model.onnx')).toMatchObject({ kind: 'gs', bucket: 'my_models', key: 'model.onnx' });
    expect(parseModelUrl('https://acct01.blob.core.windows.net/models/det%20v3/model.onnx')).toEqual({
      kind: 'azure-blob', url: 'https://acct01.blob.core.windows.net/models/det%20v3/model.onnx',
      account: 'acct01', host: 'acct01.blob.core.windows.net', container: 'models', key: 'det v3/model.onnx',
    });
  });

  it('tells URLs from file paths', () => {
    expect(isModelUrl('./models/det.onnx')).toBe(false);
    expect(isModelUrl('C:\\models\\det.onnx')).toBe(false);
    expect(isModelUrl('s3://b/k')).toBe(true);
    expect(isModelUrl('http://example.com/model.onnx')).toBe(true);
  });

  it.each([
    ['s3://UPPER/model.onnx', 'is not a valid s3:// URL'],
    ['s3://bucket-only', 'is not a valid s3:// URL'],
    ['gs://bucket/folder/', 'names a folder'],
    ['https://acct.blob.core.windows.net/c/model.onnx', 'is not an Azure Blob URL'],
    ['http://example.com/model.onnx', 'uses http://, which deploy-model cannot download from'],
  ])('refuses %s with MODEL_URL_INVALID, naming the forms it reads', (url, rule) => {
    let error: unknown;
    try {
      parseModelUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'MODEL_URL_INVALID', details: { url } });
    expect((error as Error).message).toContain(rule);
    expect((error as Error).message).toContain('s3://bucket/key.onnx, gs://bucket/object.onnx or https://<account>.blob.core.windows.net/<container>/<blob>.onnx');
  });
});
