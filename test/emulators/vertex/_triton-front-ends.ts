import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server the stand-in opens for one of Triton's front ends. */
export interface FrontEnd {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<FrontEnd> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function reply(res: http.ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Triton's HTTP service with no model loaded: live, ready as `ready` says (with a model that
 * failed to load, strict readiness answers 400: `HTTPAPIServer::HandleServerHealth` in
 * src/http_server.cc), and every model route answers "unknown model".
 */
export function emptyTriton(ready: boolean): Promise<FrontEnd> {
  return listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://triton').pathname;
    if (path === '/v2/health/live') return reply(res, 200);
    if (path === '/v2/health/ready') return reply(res, ready ? 200 : 400);
    const model = /^\/v2\/models\/([^/]+)/.exec(path)?.[1];
    return reply(res, 400, { error: model ? `Request for unknown model: '${decodeURIComponent(model)}' is not found` : 'Not Found' });
  });
}

async function forward(req: http.IncomingMessage, res: http.ServerResponse, target: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const answer = await fetch(target, {
    method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
  });
  const body = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'content-length': body.length });
  res.end(body);
}

/**
 * Triton's Vertex AI front end (`VertexAiAPIServer::Handle` in src/vertex_ai_server.cc): GET on
 * AIP_HEALTH_ROUTE is the server's readiness; POST on AIP_PREDICT_ROUTE is a KServe v2 inference
 * of the default model, or, with `X-Vertex-Ai-Triton-Redirect: <path>`, the request to that path
 * of Triton's own API; anything else is 400.
 */
export function vertexAiFrontEnd(params: { core: string; healthRoute: string; predictRoute: string; defaultModel: string }): Promise<FrontEnd> {
  return listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://triton').pathname;
    const run = (target: string) => forward(req, res, target).catch((e: Error) => reply(res, 500, { error: e.message }));
    if (path === params.healthRoute) {
      return req.method === 'GET' ? void run(`${params.core}/v2/health/ready`) : reply(res, 405);
    }
    if (path === params.predictRoute) {
      if (req.method !== 'POST') return reply(res, 405);
      const redirect = req.headers['x-vertex-ai-triton-redirect'];
      return void run(typeof redirect === 'string' ? `${params.core}/${redirect.replace(/^\/+/, '')}` : `${params.core}/v2/models/${encodeURIComponent(params.defaultModel)}/infer`);
    }
    return reply(res, 400);
  });
}
