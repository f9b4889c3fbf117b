// Writes the web bundle the plan describes.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { IoHelper } from '../../io/io-host.js';
import { convertToOrt } from '../../kits/on-device/convert-to-ort.js';
import { assertNoErrors } from '../../kits/on-device/device-problem.js';
import type { ModelSignature } from '../../model/types.js';
import type { V2Request } from '../../smoke/smoke-input.js';
import { resolveOrtWebDist, type OrtWebDist } from './ort-web-dist.js';
import { sitePath, type WebFile, type WebPlan } from './plan.js';
import { referenceOutputs } from './reference-outputs.js';
import { SERVE_FILE, type SiteHeaders } from './serve-locally.js';

export interface BuildWebOptions {
  /** Writes `<outDir>/site/` (the served folder), `<outDir>/client.ts` and `<outDir>/serve.json`; `site/` is replaced. */
  outDir: string;
  /** The model's signature, for the reference outputs. */
  signature: ModelSignature;
  /** The smoke request (`smokeRequest(signature, config, rootDir)`): the page runs it, the reference answers it. */
  smokeRequest: V2Request;
  io?: IoHelper;
}

export interface BuiltWebFile {
  path: string;
  bytes: number;
  /** gzip -9 size: what a host that compresses (or the precompressed upload to S3) sends. */
  gzipBytes: number;
  sha256: string;
}

export interface WebBuild {
  /** The build's folder: `site/`, `client.ts` and `serve.json`. */
  outDir: string;
  siteDir: string;
  /** 12 hex digits of the sha256 over every file's path and content: the version a deploy serves. */
  version: string;
  clientFile: string;
  files: BuiltWebFile[];
  sizes: {
    rawBytes: number; gzipBytes: number;
    ortRawBytes: number; ortGzipBytes: number;
    modelRawBytes: number; modelGzipBytes: number;
  };
}

/**
 * Writes the bundle the plan describes: copies onnxruntime-web and the model (converting it to .ort
 * when asked), writes the generated files, and computes onnxruntime-node's outputs on the smoke
 * input as `smoke-expected.json`. Refuses a plan with errors.
 */
export async function build(plan: WebPlan, options: BuildWebOptions): Promise<WebBuild> {
  assertNoErrors(plan.problems, 'WEB_PLAN_INVALID', `The web bundle of ${plan.name}`);
  const siteDir = path.join(options.outDir, 'site');
  await rm(siteDir, { recursive: true, force: true });
  await mkdir(siteDir, { recursive: true });
  options.io?.info('DM_WEB_BUILD', `Writing the web bundle of ${plan.name} (onnxruntime-web ${plan.ortVersion}, ${plan.entry}) to ${siteDir}`, { siteDir, files: plan.files.length });
  const dist = resolveOrtWebDist(plan.entry);

  const files: BuiltWebFile[] = [];
  for (const f of plan.files) {
    const dest = sitePath(siteDir, f.path);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeOne(f, dest, plan, options, dist);
    const bytes = await readFile(dest);
    files.push({ path: f.path, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  const clientFile = path.join(options.outDir, 'client.ts');
  await writeFile(clientFile, plan.clientSource);
  // What a server of this site needs (serveLocally, the detached local server).
  const serve: SiteHeaders = { siteHeaders: plan.siteHeaders, files: plan.files.map((f) => ({ path: f.path, headers: f.headers })) };
  await writeFile(path.join(options.outDir, SERVE_FILE), `${JSON.stringify(serve, null, 2)}\n`);

  const sum = (list: BuiltWebFile[]) => ({ raw: list.reduce((a, f) => a + f.bytes, 0), gzip: list.reduce((a, f) => a + f.gzipBytes, 0) });
  const all = sum(files);
  const ort = sum(files.filter((f) => f.path.startsWith('ort/')));
  const model = sum(files.filter((f) => f.path.startsWith('model/')));
  const result: WebBuild = {
    outDir: options.outDir, siteDir, version: siteVersion(files), clientFile, files,
    sizes: { rawBytes: all.raw, gzipBytes: all.gzip, ortRawBytes: ort.raw, ortGzipBytes: ort.gzip, modelRawBytes: model.raw, modelGzipBytes: model.gzip },
  };
  options.io?.info('DM_WEB_BUILT', `Web bundle of ${plan.name}: ${mb(all.raw)} MB (${mb(all.gzip)} MB gzipped), of which onnxruntime-web ${mb(ort.raw)} MB and the model ${mb(model.raw)} MB`, result.sizes);
  return result;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

/** The site's version: its files' paths and contents, so an unchanged build is an unchanged version. */
export function siteVersion(files: readonly Pick<BuiltWebFile, 'path' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) hash.update(`${f.path}\0${f.sha256}\n`);
  return hash.digest('hex').slice(0, 12);
}

async function writeOne(f: WebFile, dest: string, plan: WebPlan, options: BuildWebOptions, ort: OrtWebDist): Promise<void> {
  const request = options.smokeRequest;
  switch (f.source.kind) {
    case 'generated':
      return writeFile(dest, f.source.content);
    case 'smoke-input':
      return writeFile(dest, JSON.stringify(request));
    case 'ort-web': {
      const name = f.source.name;
      return copyFile(ort.files.find((o) => o.name === name)!.file, dest);
    }
    case 'model':
    case 'external-data':
      return copyFile(f.source.file, dest);
    case 'model-to-ort': {
      const { bytes } = await convertToOrt(f.source.file, dest);
      options.io?.info('DM_WEB_ORT_CONVERTED', `Converted the model to the .ort format (${mb(bytes)} MB)`, { file: dest, bytes });
      return;
    }
    case 'reference-outputs': {
      const response = await referenceOutputs(options.signature, plan.name, request);
      options.io?.info('DM_WEB_REFERENCE', 'Computed onnxruntime-node\'s outputs on the smoke input (smoke-expected.json)', { outputs: response.outputs.map((o) => o.name) });
      return writeFile(dest, JSON.stringify(response));
    }
  }
}
