// What stops a web build, found before anything is built.
import type { DeviceProblem } from '../../kits/on-device/device-problem.js';
import type { ModelSignature } from '../../model/types.js';
import { HOSTS_WITHOUT_HEADERS, type WebTargetConfig } from './schema.js';

/** A problem found before anything is built: an error stops the build, a warning is reported. */
export type WebProblem = DeviceProblem;

/** WebAssembly is 32-bit: one tab's memory cannot pass 4 GiB, and the weights are copied into it. */
export const WASM_MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;

const MB = 1024 * 1024;

export interface WebProblemsInput {
  targetName: string;
  signature: Pick<ModelSignature, 'file' | 'inputs' | 'outputs'>;
  target: WebTargetConfig;
  /** Bytes the browser downloads for the model: the model file and its external data. */
  modelBytes: number;
}

/**
 * What can be told from the signature and the config alone (validate adds what onnxruntime-web
 * itself says when it loads the model): dtypes onnxruntime-web cannot pass, a model too large for
 * a tab, threads on a host that cannot set the isolation headers.
 */
export function webProblems(input: WebProblemsInput): WebProblem[] {
  const { target, signature, modelBytes } = input;
  const at = `targets.${input.targetName}`;
  const problems: WebProblem[] = [];
  for (const [role, tensors] of [['input', signature.inputs], ['output', signature.outputs]] as const) {
    for (const t of tensors) {
      if (t.dtype === 'unsupported' || t.dtype === 'bfloat16') {
        problems.push({
          level: 'error', code: 'WEB_DTYPE_UNSUPPORTED', path: 'model.path', value: signature.file,
          rule: `${role} \`${t.name}\` is ${t.onnxTypeName}, which onnxruntime-web cannot pass in or out of a session`,
          fix: `cast \`${t.name}\` to ${/INT4/.test(t.onnxTypeName) ? 'int8' : 'float32'} in the graph`,
        });
      }
    }
  }
  if (modelBytes >= WASM_MEMORY_LIMIT_BYTES) {
    problems.push({
      level: 'error', code: 'WEB_MODEL_TOO_LARGE', path: 'model.path', value: `${(modelBytes / MB).toFixed(0)} MB`,
      rule: 'a browser tab runs onnxruntime-web in 32-bit WebAssembly, whose memory (weights included) cannot pass 4 GiB',
      fix: 'quantise the model (int8 or float16 weights) or serve it from a server target such as aws-lambda or container',
    });
  } else if (modelBytes > target.warnModelMb * MB) {
    problems.push({
      level: 'warning', code: 'WEB_MODEL_LARGE', path: `${at}.warnModelMb`, value: `${(modelBytes / MB).toFixed(1)} MB`,
      rule: `the model is over ${target.warnModelMb} MB: every visitor downloads it before the first run, and mobile browsers may refuse the memory`,
      fix: `quantise the model, or raise ${at}.warnModelMb if the page is meant for desktops on fast links`,
    });
  }
  if (target.threads > 1 && HOSTS_WITHOUT_HEADERS.includes(target.host)) {
    problems.push({
      level: 'error', code: 'WEB_THREADS_NEED_HEADERS', path: `${at}.threads`, value: String(target.threads),
      rule: `threads need a cross-origin isolated page (Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), and ${target.host} cannot set response headers`,
      fix: `set ${at}.threads to 1, or host the bundle where headers can be set (host: 'aws', 'netlify', 'cloudflare-pages', 'vercel' or 'nginx')`,
    });
  }
  if (target.webgpu && target.threads > 1) {
    problems.push({
      level: 'warning', code: 'WEB_WEBGPU_THREADS', path: `${at}.threads`, value: String(target.threads),
      rule: 'threads apply to the WASM backend only; with WebGPU in use they change nothing',
      fix: `keep them for the WASM fallback, or set ${at}.threads to 1`,
    });
  }
  return problems;
}
