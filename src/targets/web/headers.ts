// The content types, cache and isolation headers of the web bundle's files.
import path from 'node:path';

/**
 * Content types by extension. WebAssembly must be `application/wasm` for streaming compilation
 * (`WebAssembly.instantiateStreaming` refuses anything else) and module scripts must have a
 * JavaScript type, so neither is left to a host's guess.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.ort': 'application/octet-stream',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/** Files under these folders never change under their name (a version or a content hash is in it). */
export const IMMUTABLE_FOLDERS = ['ort/', 'model/'] as const;

export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page, its scripts and the smoke data are revalidated on every load, so a deploy shows at once. */
export const CACHE_REVALIDATE = 'no-cache';

export function cacheControlOf(bundlePath: string): string {
  return IMMUTABLE_FOLDERS.some((folder) => bundlePath.startsWith(folder)) ? CACHE_IMMUTABLE : CACHE_REVALIDATE;
}

/**
 * Headers every response carries. With threads, the page must be cross-origin isolated for
 * `SharedArrayBuffer`: COOP `same-origin` and COEP `require-corp` (measured in headless Chromium:
 * without them onnxruntime-web falls back to one thread).
 */
export function siteHeaders(crossOriginIsolated: boolean): Record<string, string> {
  return {
    ...(crossOriginIsolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
    'X-Content-Type-Options': 'nosniff',
  };
}

/** Every header of one file: the site's, its content type and its caching. */
export function fileHeaders(bundlePath: string, crossOriginIsolated: boolean): Record<string, string> {
  return { ...siteHeaders(crossOriginIsolated), 'Content-Type': contentTypeOf(bundlePath), 'Cache-Control': cacheControlOf(bundlePath) };
}
