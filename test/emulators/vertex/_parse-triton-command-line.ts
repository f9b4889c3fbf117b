import { tritonOptionsOf, type TritonOptionSpec, type TritonValueKind } from './_triton-options.js';

/**
 * `tritonserver`'s command line read as Triton reads it: triton-inference-server/server
 * `src/command_line_parser.cc`, `TritonParser::Parse` (same on r24.09 to r25.09), then
 * `TritonServerParameters::CheckPortCollision`, which `main` (`src/main.cc`) calls next. Every
 * failure here makes `main` print the usage and the error and `exit(1)`.
 */

export interface TritonService {
  allow: boolean;
  address: string;
  port: number;
}

export interface TritonParams {
  modelRepositories: string[];
  exitOnError: boolean;
  strictReadiness: boolean;
  controlMode: 'none' | 'poll' | 'explicit';
  loadModels: string[];
  http: TritonService;
  grpc: TritonService;
  metrics: TritonService;
  sagemaker: TritonService;
  vertexAi: TritonService & { defaultModel: string };
}

export type TritonParse = { ok: true; params: TritonParams } | { ok: false; error: string };

class ParseError extends Error {}

// `ParseOption<int>` is std::stoi: leading digits, the rest ignored; none is an error, and so is
// a number outside the type's range.
function parseInteger(arg: string, bits: 32 | 64): number {
  const m = /^\s*([+-]?\d+)/.exec(arg);
  if (!m) throw new ParseError(`Invalid option value. Got ${arg}`);
  const n = BigInt(m[1]);
  const limit = 2n ** BigInt(bits - 1);
  if (n < -limit || n >= limit) throw new ParseError(`Provided option value is out of bound. Got ${arg}`);
  return Number(n);
}

function parseBool(arg: string): boolean {
  const l = arg.toLowerCase();
  if (l === 'true' || l === 'on' || l === '1') return true;
  if (l === 'false' || l === 'off' || l === '0') return false;
  throw new ParseError(`invalid value for bool option: ${arg}`);
}

function checkValue(name: string, kind: TritonValueKind, arg: string): void {
  if (kind === 'bool') parseBool(arg);
  else if (kind === 'int') parseInteger(arg, 32);
  else if (kind === 'int64') parseInteger(arg, 64);
  else if (kind === 'double' && Number.isNaN(Number.parseFloat(arg))) throw new ParseError(`Invalid option value. Got ${arg}`);
  else if (kind === 'int-bool' && !/^(true|false)$/i.test(arg)) parseInteger(arg, 32);
  else if (typeof kind === 'object') {
    const ok = kind.caseInsensitive ? kind.words.includes(arg.toLowerCase()) : kind.words.includes(arg);
    if (!ok) throw new ParseError(`invalid argument for --${name}`);
  }
}

/**
 * getopt_long's lookup: an exact name, else a unique prefix (GNU getopt accepts abbreviations);
 * a prefix shared by different options is ambiguous.
 */
function lookup(options: Record<string, TritonOptionSpec>, given: string): { name: string; spec: TritonOptionSpec } | string {
  if (options[given]) return { name: given, spec: options[given] };
  const matches = Object.keys(options).filter((n) => n.startsWith(given));
  if (matches.length === 0) return `unrecognized option '--${given}'`;
  const ids = new Set(matches.map((n) => options[n].id ?? n));
  if (ids.size > 1) return `option '--${given}' is ambiguous; possibilities: ${matches.map((n) => `'--${n}'`).join(' ')}`;
  return { name: matches[0], spec: options[matches[0]] };
}

function apply(p: TritonParams, name: string, arg: string): void {
  switch (name) {
    case 'model-repository': case 'model-store': p.modelRepositories.push(arg); break;
    case 'exit-on-error': p.exitOnError = parseBool(arg); break;
    case 'strict-readiness': p.strictReadiness = parseBool(arg); break;
    case 'model-control-mode': p.controlMode = arg.toLowerCase() as TritonParams['controlMode']; break;
    case 'load-model': p.loadModels.push(arg); break;
    case 'allow-http': p.http.allow = parseBool(arg); break;
    case 'http-address': p.http.address = arg; break;
    case 'http-port': p.http.port = parseInteger(arg, 32); break;
    case 'allow-grpc': p.grpc.allow = parseBool(arg); break;
    case 'grpc-address': p.grpc.address = arg; break;
    case 'grpc-port': p.grpc.port = parseInteger(arg, 32); break;
    case 'allow-metrics': p.metrics.allow = parseBool(arg); break;
    case 'metrics-address': p.metrics.address = arg; break;
    case 'metrics-port': p.metrics.port = parseInteger(arg, 32); break;
    case 'allow-sagemaker': p.sagemaker.allow = parseBool(arg); break;
    case 'sagemaker-port': p.sagemaker.port = parseInteger(arg, 32); break;
    case 'allow-vertex-ai': p.vertexAi.allow = parseBool(arg); break;
    case 'vertex-ai-port': p.vertexAi.port = parseInteger(arg, 32); break;
    case 'vertex-ai-default-model': p.vertexAi.defaultModel = arg; break;
    case 'grpc-infer-thread-count': {
      const n = parseInteger(arg, 32);
      if (n < 2 || n > 128) throw new ParseError('invalid argument for --grpc_infer_thread_count. Must be in the range 2 to 128.');
      break;
    }
    case 'grpc-max-response-pool-size':
      if (parseInteger(arg, 32) <= 0) throw new ParseError('Error: --grpc-max-response-pool-size must be greater than 0.');
      break;
    case 'http-max-input-size':
      if (parseInteger(arg, 64) <= 0) throw new ParseError('Error: --http-max-input-size must be greater than 0.');
      break;
    case 'model-config-name':
      if (arg.length === 0) throw new ParseError('Error: empty argument for --model-config-name');
      break;
    default: break;
  }
}

/**
 * Reads `args` (what follows `tritonserver`) in `env`. `release` (`YY.MM`, from the image tag)
 * leaves out options added after it.
 */
export function parseTritonCommandLine(args: readonly string[], env: Readonly<Record<string, string | undefined>>, release?: string): TritonParse {
  const p: TritonParams = {
    modelRepositories: [], exitOnError: true, strictReadiness: true, controlMode: 'none', loadModels: [],
    // Defaults of TritonServerParameters (src/command_line_parser.h).
    http: { allow: true, address: '0.0.0.0', port: 8000 },
    grpc: { allow: true, address: '0.0.0.0', port: 8001 },
    metrics: { allow: true, address: '', port: 8002 },
    sagemaker: { allow: false, address: '0.0.0.0', port: 8080 },
    vertexAi: { allow: false, address: '0.0.0.0', port: 8080, defaultModel: '' },
  };
  const options = tritonOptionsOf(release);
  try {
    // Step 1: on Vertex AI (AIP_MODE=PREDICTION) the Vertex AI front end is on and HTTP and GRPC
    // are off unless the command line turns them back on; its port is AIP_HTTP_PORT.
    if (env.AIP_MODE === 'PREDICTION') {
      p.vertexAi.allow = true;
      p.http.allow = false;
      p.grpc.allow = false;
    }
    p.vertexAi.port = parseInteger(env.AIP_HTTP_PORT ?? '8080', 32);

    // Step 2: getopt_long with no short options; operands are permuted to the end.
    const operands: string[] = [];
    for (let k = 0; k < args.length; k++) {
      const arg = args[k];
      if (arg === '--') {
        operands.push(...args.slice(k + 1));
        break;
      }
      if (!arg.startsWith('-') || arg === '-') {
        operands.push(arg);
        continue;
      }
      if (!arg.startsWith('--')) return { ok: false, error: `tritonserver: invalid option -- '${arg[1]}'` };
      const eq = arg.indexOf('=');
      const given = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const found = lookup(options, given);
      if (typeof found === 'string') return { ok: false, error: `tritonserver: ${found}` };
      const { name, spec } = found;
      // --help falls through to the unrecognised-option case: usage, then exit 1.
      if (name === 'help') return { ok: false, error: '' };
      let value: string;
      if (spec.value === 'none') {
        if (eq >= 0) return { ok: false, error: `tritonserver: option '--${name}' doesn't allow an argument` };
        continue;
      }
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (k + 1 < args.length) value = args[++k];
      else return { ok: false, error: `tritonserver: option '--${name}' requires an argument` };
      try {
        checkValue(name, spec.value, value);
        apply(p, name, value);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        return { ok: false, error: `Bad option: "--${name}".\n${e.message}` };
      }
    }
    if (operands.length > 0) return { ok: false, error: `Unexpected argument: ${operands[0]}` };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { ok: false, error: e.message };
  }

  // Step 3: checks across options, and defaults that depend on others.
  if (p.loadModels.length > 0 && p.controlMode !== 'explicit') {
    return { ok: false, error: "Error: Use of '--load-model' requires setting '--model-control-mode=explicit' as well." };
  }
  if (p.modelRepositories.length === 0 && env.AIP_STORAGE_URI) p.modelRepositories.push(env.AIP_STORAGE_URI);
  if (!p.metrics.address) p.metrics.address = p.http.address;
  const collision = portCollision(p);
  return collision ? { ok: false, error: collision } : { ok: true, params: p };
}

/** `CheckPortCollision`: two enabled services on the same address and port. */
function portCollision(p: TritonParams): string | undefined {
  const services = ([['HTTP', p.http], ['GRPC', p.grpc], ['metrics', p.metrics], ['SageMaker', p.sagemaker], ['Vertex AI', p.vertexAi]] as const)
    .filter(([, s]) => s.allow);
  for (let a = 0; a < services.length; a++) {
    for (let c = a + 1; c < services.length; c++) {
      const [nameA, sa] = services[a];
      const [nameC, sc] = services[c];
      if (sa.address === sc.address && sa.port === sc.port) {
        return `The server cannot listen to ${nameA} requests and ${nameC} requests at the same address and port ${sa.address}:${sa.port}`;
      }
    }
  }
  return undefined;
}
