// The onnxruntime-web files the web bundle ships.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';

/** The onnxruntime-web release the bundle ships; the same as the project's onnxruntime-node. */
export const ORT_WEB_VERSION = '1.30.0';

export type OrtWebEntry = 'wasm' | 'webgpu';

/**
 * The module the page imports for each entry; it loads the Emscripten glue and the WebAssembly
 * binary (ORT_WEB_FILES) from `env.wasm.wasmPaths` and nothing else (measured in Chromium). The
 * WebGPU entry also runs the WASM backend, so its files replace the WASM ones instead of joining them.
 */
export const ORT_WEB_ENTRIES: Record<OrtWebEntry, { module: string }> = {
  wasm: { module: 'ort.wasm.min.mjs' },
  webgpu: { module: 'ort.webgpu.min.mjs' },
};

/**
 * The files of each entry in the pinned release, with their sizes, so that planning needs no disk;
 * `resolveOrtWebDist` checks them against the installed package at build.
 */
export const ORT_WEB_FILES: Record<OrtWebEntry, readonly { name: string; bytes: number }[]> = {
  wasm: [
    { name: 'ort.wasm.min.mjs', bytes: 50_126 },
    { name: 'ort-wasm-simd-threaded.mjs', bytes: 24_381 },
    { name: 'ort-wasm-simd-threaded.wasm', bytes: 14_239_897 },
  ],
  webgpu: [
    { name: 'ort.webgpu.min.mjs', bytes: 66_349 },
    { name: 'ort-wasm-simd-threaded.asyncify.mjs', bytes: 53_057 },
    { name: 'ort-wasm-simd-threaded.asyncify.wasm', bytes: 26_781_914 },
  ],
};

export interface OrtWebFile {
  name: string;
  /** Absolute path in the installed package. */
  file: string;
  bytes: number;
}

/** The installed onnxruntime-web files of one entry. */
export interface OrtWebDist {
  version: string;
  entry: OrtWebEntry;
  module: string;
  files: OrtWebFile[];
}

/**
 * Finds the installed onnxruntime-web and the files of `entry`. Throws WEB_ORT_NOT_INSTALLED when
 * the package is missing and WEB_ORT_VERSION when it is not the pinned release: the generated
 * client and the page are written against that release's file names.
 */
export function resolveOrtWebDist(entry: OrtWebEntry, from: string = import.meta.url): OrtWebDist {
  let packageJson: string;
  try {
    // package.json is not among the package's exports; the WebAssembly binary is, in dist/.
    packageJson = path.join(path.dirname(path.dirname(createRequire(from).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))), 'package.json');
  } catch (e) {
    throw new DeployModelError('WEB_ORT_NOT_INSTALLED', `onnxruntime-web is not installed beside deploy-model. The web target copies its runtime files from it: run \`npm install -E onnxruntime-web@${ORT_WEB_VERSION}\`.`, { cause: e });
  }
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  if (version !== ORT_WEB_VERSION) {
    throw new DeployModelError('WEB_ORT_VERSION', `onnxruntime-web ${version} is installed (${path.dirname(packageJson)}), but the web target is pinned to ${ORT_WEB_VERSION}, the release whose files and behaviour it was tested with. Install it with \`npm install -E onnxruntime-web@${ORT_WEB_VERSION}\`.`, { details: { installed: version, pinned: ORT_WEB_VERSION } });
  }
  const dist = path.join(path.dirname(packageJson), 'dist');
  const { module } = ORT_WEB_ENTRIES[entry];
  return {
    version,
    entry,
    module,
    files: ORT_WEB_FILES[entry].map(({ name, bytes: planned }) => {
      const file = path.join(dist, name);
      const bytes = statSync(file).size;
      if (bytes !== planned) {
        throw new DeployModelError('WEB_ORT_VERSION', `${file} has ${bytes} bytes where onnxruntime-web ${ORT_WEB_VERSION} has ${planned}: the installed package is not the pinned release. Reinstall it with \`npm install -E onnxruntime-web@${ORT_WEB_VERSION}\`.`, { details: { file, bytes, planned } });
      }
      return { name, file, bytes };
    }),
  };
}
