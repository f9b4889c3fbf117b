// Renders the header configuration static hosts read.
import { CACHE_IMMUTABLE, CONTENT_TYPES, IMMUTABLE_FOLDERS, siteHeaders } from './headers.js';
import type { WebHost } from './schema.js';

/** A header file a static host reads from the published folder. */
export interface HostConfigFile {
  /** Path inside the bundle, e.g. `_headers`. */
  path: string;
  content: string;
}

export interface HostConfigInput {
  host: WebHost;
  crossOriginIsolated: boolean;
  /** Every served file, with its headers, sorted by path. */
  files: readonly { path: string; headers: Record<string, string> }[];
}

/**
 * The header configuration of the hosts that read one from the published folder:
 * `_headers` (Netlify, Cloudflare Pages), `vercel.json` (Vercel), `nginx.conf` (a block to include
 * in the `server` that serves the folder). `local` and `aws` set headers themselves; GitHub Pages
 * cannot set any, so it gets only `.nojekyll` (files are served as they are).
 */
export function renderHostConfig(input: HostConfigInput): HostConfigFile | undefined {
  switch (input.host) {
    case 'netlify':
    case 'cloudflare-pages':
      return { path: '_headers', content: renderHeadersFile(input) };
    case 'vercel':
      return { path: 'vercel.json', content: renderVercelJson(input) };
    case 'nginx':
      return { path: 'nginx.conf', content: renderNginxConf(input) };
    case 'github-pages':
      return { path: '.nojekyll', content: '' };
    case 'local':
    case 'aws':
      return undefined;
  }
}

/** Netlify's and Cloudflare Pages' `_headers`: a path, then indented `Name: value` lines; `/*` matches every path. */
function renderHeadersFile(input: HostConfigInput): string {
  const lines = ['/*', ...Object.entries(siteHeaders(input.crossOriginIsolated)).map(([k, v]) => `  ${k}: ${v}`)];
  for (const f of input.files) {
    lines.push(`/${f.path}`, `  Content-Type: ${f.headers['Content-Type']}`, `  Cache-Control: ${f.headers['Cache-Control']}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Vercel's `headers`: `source` is a path pattern; every matching rule applies. */
function renderVercelJson(input: HostConfigInput): string {
  const headers = [
    { source: '/(.*)', headers: Object.entries(siteHeaders(input.crossOriginIsolated)).map(([key, value]) => ({ key, value })) },
    ...input.files.map((f) => ({
      source: `/${f.path}`,
      headers: [{ key: 'Content-Type', value: f.headers['Content-Type'] }, { key: 'Cache-Control', value: f.headers['Cache-Control'] }],
    })),
  ];
  return `${JSON.stringify({ headers }, null, 2)}\n`;
}

/**
 * An nginx block for the `server` whose `root` is the bundle. `types` replaces nginx's MIME map in
 * that server, so it names every extension the bundle has. `add_header` in a `location` drops the
 * server's, so each location repeats the site headers.
 */
function renderNginxConf(input: HostConfigInput): string {
  const site = Object.entries(siteHeaders(input.crossOriginIsolated));
  const byType = new Map<string, string[]>();
  for (const [ext, type] of Object.entries(CONTENT_TYPES)) byType.set(type.split(';')[0]!, [...(byType.get(type.split(';')[0]!) ?? []), ext.slice(1)]);
  const addHeaders = (cache: string) => [...site.map(([k, v]) => `    add_header ${k} "${v}" always;`), `    add_header Cache-Control "${cache}" always;`];
  const lines = [
    '# deploy-model: include this file inside the `server { }` block whose root is this folder.',
    'types {',
    ...[...byType].map(([type, exts]) => `    ${type} ${exts.join(' ')};`),
    '}',
    'charset utf-8;',
    'charset_types text/html text/javascript application/json;',
    'gzip on;',
    'gzip_types text/javascript application/json application/wasm application/octet-stream;',
    'location / {',
    ...addHeaders('no-cache'),
    '}',
    ...IMMUTABLE_FOLDERS.flatMap((folder) => [`location /${folder} {`, ...addHeaders(CACHE_IMMUTABLE), '}']),
  ];
  return `${lines.join('\n')}\n`;
}
