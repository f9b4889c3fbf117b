// Serves a built web bundle on 127.0.0.1 with its headers.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeployModelError } from '../../errors.js';
import { sitePath, type WebPlan } from './plan.js';

/** Beside a built `site/`: each file's headers (`SiteHeaders`), for the servers of the site. */
export const SERVE_FILE = 'serve.json';

/** The headers of a built site: what `build` writes to serve.json, a subset of the plan. */
export type SiteHeaders = { files: readonly Pick<WebPlan['files'][number], 'path' | 'headers'>[]; siteHeaders: Record<string, string> };

export interface ServeLocallyOptions {
  /** The built `site/` folder. */
  siteDir: string;
  /** The plan the site was built from (or the build's serve.json): only its files are served, each with its headers. */
  plan: SiteHeaders;
  /** @default - a free port */
  port?: number;
}

export interface LocalSite {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** Serves another built site from the next request on, on the same port (a new version). */
  replace(site: Pick<ServeLocallyOptions, 'siteDir' | 'plan'>): void;
  close(): Promise<void>;
}

/**
 * Serves a built bundle on 127.0.0.1 with the headers the plan gives each file (content types,
 * caching, and COOP/COEP when the page needs cross-origin isolation). Only the plan's files are
 * served: a path outside it is a 404, so nothing else on disk can be reached.
 */
export async function serveLocally(options: ServeLocallyOptions): Promise<LocalSite> {
  const load = (site: Pick<ServeLocallyOptions, 'siteDir' | 'plan'>) => ({ siteDir: site.siteDir, siteHeaders: site.plan.siteHeaders, byPath: new Map(site.plan.files.map((f) => [`/${f.path}`, f])) });
  let current = load(options);
  const notFound = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { ...current.siteHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(message);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // One request is answered from one version, even when another is swapped in meanwhile.
    const { byPath, siteDir } = current;
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res, 405, 'only GET and HEAD\n');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return notFound(res, 400, 'bad path\n');
    }
    const file = byPath.get(pathname === '/' ? '/index.html' : pathname);
    if (!file) return notFound(res, 404, `${pathname} is not part of the bundle\n`);
    const onDisk = sitePath(siteDir, file.path);
    stat(onDisk).then((s) => {
      res.writeHead(200, { ...file.headers, 'Content-Length': String(s.size) });
      if (req.method === 'HEAD') return res.end();
      createReadStream(onDisk).on('error', () => res.destroy()).pipe(res);
    }, () => notFound(res, 404, `${pathname} was not built; run build first\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
      ? new DeployModelError('WEB_PORT_IN_USE', `Port ${options.port} on 127.0.0.1 is taken, so the web bundle cannot be served there. Choose another port, or leave port unset for a free one.`, { cause: e, details: { port: options.port } })
      : e));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    replace: (site) => { current = load(site); },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
