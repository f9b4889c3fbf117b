// Renders the web bundle's index page.
export interface IndexHtmlInput {
  name: string;
  ortVersion: string;
  /** The model file in the bundle. */
  modelFile: string;
  /** Bytes of the model as loaded (before any conversion for `.ort`, when not yet known). */
  modelBytes: number;
  threads: number;
  webgpu: boolean;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = [
  'body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}',
  'main{max-width:1080px;margin:0 auto;padding:28px 24px}',
  'h1{font-size:24px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}',
  '.sub{color:#5b6573;margin:0 0 16px}',
  '#status{padding:10px 12px;border-radius:6px;background:#e8edf3}#status.ok{background:#e3f4e8}#status.error{background:#fbe4e4}',
  'table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}',
  'th,td{border:1px solid #dde2e8;padding:6px 8px;text-align:left;vertical-align:top}',
  'th{background:#eef1f5;font-weight:600}td{font-family:ui-monospace,monospace;word-break:break-all}',
].join('');

/** The index page: the model's name, where its numbers appear, and the script that runs it once. */
export function renderIndexHtml(input: IndexHtmlInput): string {
  const mb = (input.modelBytes / 1024 / 1024).toFixed(1);
  const runtime = `onnxruntime-web ${input.ortVersion} · ${input.webgpu ? 'WebGPU (checked against WASM) or WASM' : 'WASM'} · ${input.threads} thread${input.threads > 1 ? 's' : ''}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No favicon request: the bundle has none, and a 404 would show in the console.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(input.name)} · deploy-model</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(input.name)}</h1>`,
    `<p class="sub">${escapeHtml(runtime)} · ${escapeHtml(input.modelFile)} (${mb} MB)</p>`,
    '<p id="status">Loading the runtime and the model…</p>',
    '<h2>Timings</h2><section id="timings"></section>',
    '<h2>Inputs (the smoke input)</h2><section id="inputs"></section>',
    '<h2>Outputs</h2><section id="outputs"></section>',
    '</main>',
    '<script type="module" src="app.js"></script>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
