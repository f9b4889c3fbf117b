import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { dummyZips, tempDir } from './_fixtures.js';

const cleanups: Array<() => void> = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** Synthesises the layer and a function from prebuilt zips into `outdir`; returns the file assets the manifest lists. */
function synth(outdir: string, zips: { functionZip: string; layerZip: string }, context: Record<string, unknown> = {}): string[] {
  const app = new App({ outdir, builtinCloudFormationValidation: false, context });
  const stack = new Stack(app, 'ZipAssets', { env: { region: 'eu-west-1' } });
  const layer = new OnnxRuntimeLayer(stack, 'Layer', { code: zips.layerZip });
  new OnnxModelFunction(stack, 'Fn', { code: zips.functionZip, modelBytes: 20, modelName: 'm', layer });
  app.synth();
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'ZipAssets.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
  return Object.values(manifest.files).map((f) => f.source.path).filter((p) => p.endsWith('.zip')).sort();
}

const zipsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.zip')).sort();

describe('prebuilt zips in the cloud assembly', () => {
  it('are hard links to the built zips, under the names the asset manifest gives them: nothing is copied', () => {
    // GIVEN a built function zip and layer zip
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const zips = dummyZips(dir);
    const outdir = path.join(dir, 'cdk.out');
    // WHEN the stack is synthesised
    const assets = synth(outdir, zips);
    // THEN the assembly holds exactly the two assets the manifest names, each the same file as its source
    expect(assets).toHaveLength(2);
    expect(zipsIn(outdir)).toEqual(assets);
    const byInode = new Map([zips.functionZip, zips.layerZip].map((f) => [statSync(f).ino, f]));
    for (const asset of assets) {
      const source = byInode.get(statSync(path.join(outdir, asset)).ino);
      expect(source, `${asset} is not a link to a built zip`).toBeDefined();
      expect(readFileSync(path.join(outdir, asset))).toEqual(readFileSync(source!));
    }
  });

  it('are neither linked nor copied with staging off: the manifest names the built zips themselves', () => {
    // GIVEN the same zips and aws-cdk-lib's context key that turns staging off (as SAM sets it)
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const zips = dummyZips(dir);
    const outdir = path.join(dir, 'cdk.out');
    // WHEN synthesised
    const assets = synth(outdir, zips, { 'aws:cdk:disable-asset-staging': true });
    // THEN no zip is in the assembly, and the assets are the built files
    expect(zipsIn(outdir)).toEqual([]);
    expect(assets).toEqual([zips.functionZip, zips.layerZip].sort());
  });
});
