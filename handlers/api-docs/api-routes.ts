/** `GET /openapi.json` and `GET /docs`, added to an adapter's routes and describing all of them. */
import type { InferenceCore } from '../core/types.js';
import { TextBody, type Route } from '../http.js';
import { SERVING_ENV } from '../serving-env.js';
import { DOCS_PAGE } from './docs-page.js';
import { openApiDocument, type OpenApiOptions } from './openapi-document.js';

/**
 * The routes, with the two that describe them. The document is built on first request, from
 * the final list, so it cannot disagree with what is served.
 */
export function withApiDocs(routes: readonly Route[], core: Pick<InferenceCore, 'metadata'>, options: OpenApiOptions): Route[] {
  let document: TextBody | undefined;
  const all: Route[] = [
    ...routes,
    {
      method: 'GET', path: '/openapi.json', doc: { path: '/openapi.json', kind: 'openapi', summary: 'This API, as an OpenAPI 3.1 document generated from the model' },
      handle: () => ({ status: 200, body: (document ??= new TextBody(JSON.stringify(openApiDocument(all, core.metadata(), options)))) }),
    },
    {
      method: 'GET', path: '/docs', doc: { path: '/docs', kind: 'docs', summary: 'A page that shows this API and sends a request' },
      handle: () => ({ status: 200, body: new TextBody(DOCS_PAGE.html), headers: { ...DOCS_PAGE.headers } }),
    },
  ];
  return all;
}

/** `DM_EXAMPLE_SHAPES`: the config's `model.inputs` shapes as JSON, for the example request. Ignored when unreadable. */
export function exampleShapesFromEnv(env: Record<string, string | undefined> = process.env): Record<string, number[]> | undefined {
  const raw = env[SERVING_ENV.exampleShapes];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object') return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>).filter((e): e is [string, number[]] => Array.isArray(e[1]) && e[1].every((d) => Number.isInteger(d) && d >= 0));
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}
