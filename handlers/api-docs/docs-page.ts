/**
 * `GET /docs`: one HTML page, with its script and style inline and a Content-Security-Policy that
 * lets it reach nothing but this endpoint. It reads `openapi.json`, shows the model's inputs and
 * outputs and every route, and sends the example request (editable) to the infer route.
 */
import { createHash } from 'node:crypto';

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#1d232a}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}code,pre,textarea{font:13px/1.4 ui-monospace,monospace}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde3ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
.method{font-weight:600}textarea{width:100%;height:12rem;box-sizing:border-box}
pre{background:#f4f6f8;padding:.75rem;overflow:auto;max-height:24rem}button{font:inherit;padding:.35rem 1rem}
#status.ok{color:#146c2e}#status.bad{color:#a4161a}
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const cell = (tr, text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); };
const row = (table, cells) => { const tr = document.createElement('tr'); cells.forEach((c) => cell(tr, c)); table.appendChild(tr); };
(async () => {
  try {
    const res = await fetch('openapi.json');
    if (!res.ok) throw new Error('openapi.json answered ' + res.status);
    const spec = await res.json();
    document.title = spec.info.title;
    $('title').textContent = spec.info.title;
    $('description').textContent = spec.info.description;
    const schemas = spec.components.schemas;
    for (const [key, s] of Object.entries(schemas)) {
      const kind = key.startsWith('Input_') ? 'input' : key.startsWith('Output_') ? 'output' : undefined;
      if (!kind) continue;
      const shape = s.properties.shape.prefixItems.map((d) => ('const' in d ? String(d.const) : '-1'));
      row($('tensors'), [kind, s.properties.name.const, s.properties.datatype.const, '[' + shape.join(', ') + ']']);
    }
    let infer;
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const tr = document.createElement('tr');
        cell(tr, method.toUpperCase(), 'method'); cell(tr, path); cell(tr, op.summary);
        $('routes').appendChild(tr);
        if (method === 'post' && path.endsWith('/infer')) infer = { path, op };
      }
    }
    if (!infer) throw new Error('no infer route in openapi.json');
    const name = infer.op.parameters.find((p) => p.name === 'name').schema.enum[0];
    const url = infer.path.replace('{name}', encodeURIComponent(name)).replace(/^\\//, '');
    $('target').textContent = 'POST /' + url;
    $('request').value = JSON.stringify(infer.op.requestBody.content['application/json'].example);
    $('send').disabled = false;
    $('send').addEventListener('click', async () => {
      $('send').disabled = true;
      $('status').textContent = 'sending…'; $('status').className = '';
      const started = performance.now();
      try {
        const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: $('request').value });
        const text = await answer.text();
        let shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
        $('status').textContent = answer.status + ' ' + answer.statusText + ' in ' + (performance.now() - started).toFixed(1) + ' ms';
        $('status').className = answer.ok ? 'ok' : 'bad';
        $('response').textContent = shown.length > 20000 ? shown.slice(0, 20000) + '\\n… (' + shown.length + ' characters)' : shown;
      } catch (e) {
        $('status').textContent = 'failed: ' + e.message; $('status').className = 'bad';
      } finally {
        $('send').disabled = false;
      }
    });
  } catch (e) {
    $('status').textContent = 'could not load the API description: ' + e.message; $('status').className = 'bad';
  }
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page, and the headers that go with it. */
export const DOCS_PAGE = {
  html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API</title><style>${STYLE}</style></head>
<body>
<h1 id="title">API</h1>
<p id="description"></p>
<h2>Tensors</h2>
<table><thead><tr><th></th><th>name</th><th>datatype</th><th>shape</th></tr></thead><tbody id="tensors"></tbody></table>
<h2>Routes</h2>
<table><tbody id="routes"></tbody></table>
<p>The full description: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<h2>Try it</h2>
<p><code id="target"></code></p>
<textarea id="request" spellcheck="false" aria-label="request body"></textarea>
<p><button id="send" disabled>Send</button> <span id="status" role="status"></span></p>
<pre id="response" aria-label="response"></pre>
<script>${SCRIPT}</script>
</body></html>
`,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    // Nothing but this endpoint: no other host is ever asked for anything.
    'content-security-policy': `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
  },
} as const;
