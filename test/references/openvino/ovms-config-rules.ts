// OpenVINO Model Server's rules for config.json, written for tests from openvinotoolkit/model_server
// tag v2026.2 (the release the container target's openvino engine pins):
//   src/schema.cpp       MODELS_CONFIG_SCHEMA and MODEL_CONFIG_DEFINITION (the JSON schema every config.json
//                        is validated against with rapidjson before anything loads: `validateJsonAgainstSchema`)
//   src/modelconfig.cpp  `ModelConfig::parseNode` (the checks after the schema: shapes, stateful-only fields)
//   src/shape.cpp        `Shape::fromString` (the shape string grammar)
//   src/modelinstance.cpp `ModelInstance::loadModelImpl` path: a configured shape must name a model input
//                        (CONFIG_SHAPE_IS_NOT_IN_MODEL)
// The notation and the checker are ours, restated from those sources (read, not copied). A rule reports
// what OVMS would refuse, with the status or schema keyword it refuses it with.

export interface OvmsViolation {
  rule: 'schema' | 'shape' | 'stateful' | 'shape-input' | 'performance-hint';
  path: string;
  message: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** schema.cpp MODELS_CONFIG_SCHEMA: the top level's properties (`additionalProperties: false`). */
const TOP_LEVEL = ['custom_loader_config_list', 'model_config_list', 'pipeline_config_list', 'mediapipe_config_list', 'custom_node_library_config_list', 'monitoring'];

/** schema.cpp MODEL_CONFIG_DEFINITION `config.properties`, each with the JSON types the schema allows. */
const CONFIG_FIELDS: Readonly<Record<string, (v: unknown) => string | undefined>> = {
  name: (v) => (typeof v === 'string' ? undefined : 'type string'),
  base_path: (v) => (typeof v === 'string' ? undefined : 'type string'),
  batch_size: (v) => (typeof v === 'string' || (isInt(v) && v >= 0) ? undefined : 'type ["integer", "string"], minimum 0'),
  graph_path: (v) => (typeof v === 'string' ? undefined : 'type string'),
  subconfig: (v) => (typeof v === 'string' ? undefined : 'type string'),
  model_version_policy: (v) => versionPolicy(v),
  shape: (v) => layoutShape(v),
  layout: (v) => layoutShape(v),
  nireq: (v) => (isInt(v) && v >= 0 ? undefined : 'type integer, minimum 0'),
  target_device: (v) => (typeof v === 'string' ? undefined : 'type string'),
  allow_cache: (v) => (typeof v === 'boolean' ? undefined : 'type boolean'),
  plugin_config: (v) => (isObject(v) && Object.values(v).every((x) => ['string', 'boolean', 'number'].includes(typeof x))
    ? undefined : 'type object, each value anyOf string, boolean, number'),
  stateful: (v) => (typeof v === 'boolean' ? undefined : 'type boolean'),
  idle_sequence_cleanup: (v) => (typeof v === 'boolean' ? undefined : 'type boolean'),
  low_latency_transformation: (v) => (typeof v === 'boolean' ? undefined : 'type boolean'),
  max_sequence_number: (v) => (isInt(v) && v >= 0 ? undefined : 'type integer, minimum 0'),
  custom_loader_options: (v) => (isObject(v) && typeof v.loader_name === 'string' ? undefined : 'type object, required loader_name (string)'),
};

/** `layout_shape_def`: oneOf an object of strings, or a string. */
function layoutShape(v: unknown): string | undefined {
  if (typeof v === 'string') return undefined;
  if (isObject(v) && Object.values(v).every((x) => typeof x === 'string')) return undefined;
  return 'oneOf: an object whose values are strings, or a string';
}

/** `model_version_policy`: exactly one of all {}, specific { versions: [int >= 1] }, latest { num_versions: int >= 1 }. */
function versionPolicy(v: unknown): string | undefined {
  if (!isObject(v) || Object.keys(v).length !== 1) return 'oneOf all, specific, latest (maxProperties 1)';
  const [key, value] = Object.entries(v)[0]!;
  if (key === 'all' && isObject(value) && Object.keys(value).length === 0) return undefined;
  if (key === 'specific' && isObject(value) && Array.isArray(value.versions) && value.versions.every((x) => isInt(x) && x >= 1)) return undefined;
  if (key === 'latest' && isObject(value) && isInt(value.num_versions) && value.num_versions >= 1) return undefined;
  return 'oneOf all, specific, latest';
}

/** shape.cpp `Shape::fromString`: why OVMS answers SHAPE_WRONG_FORMAT for `text`, or undefined. */
export function shapeStringProblem(text: string): string | undefined {
  if (text === 'auto') return undefined;
  const s = text.replace(/\s/g, '');
  if (/[^0-9(),\-:]/.test(s)) return 'only digits, parentheses, commas, - and : are allowed';
  if (s.split('(').length !== 2 || s.split(')').length !== 2) return "exactly one '(' and one ')'";
  if (s.length <= 2) return 'at least one dimension between the parentheses';
  if (!s.startsWith('(') || !s.endsWith(')')) return "must start with '(' and end with ')'";
  for (const token of s.slice(1, -1).split(',')) {
    if ((token.match(/-/g) ?? []).length > 1 || (token.includes('-') && !token.startsWith('-'))) return `"${token}": '-' only as a leading sign`;
    const colons = (token.match(/:/g) ?? []).length;
    if (colons > 1) return `"${token}": at most one ':'`;
    if (colons === 0) {
      const n = Number.parseInt(token, 10);
      if (Number.isNaN(n) || !(n === -1 || n >= 0)) return `"${token}": must be -1 (any) or >= 0`;
    } else {
      const [a, b] = token.split(':');
      if (!a || !b) return `"${token}": a range needs a min and a max`;
      const min = Number.parseInt(a, 10);
      const max = Number.parseInt(b, 10);
      if (min < 0 || max < 0) return `"${token}": a range's bounds must be >= 0`;
      if (min >= max) return `"${token}": a range's max must be higher than its min`;
    }
  }
  return undefined;
}

/** OpenVINO's `ov::hint::PerformanceMode` values, the only PERFORMANCE_HINT the CPU plugin takes. */
const PERFORMANCE_HINTS = new Set(['LATENCY', 'THROUGHPUT', 'CUMULATIVE_THROUGHPUT']);

/**
 * What OVMS v2026.2 refuses in `config` (a parsed config.json), for a model whose inputs are
 * `modelInputs` (names as ONNX Runtime reports them, which are the names OpenVINO's ONNX frontend keeps).
 */
export function ovmsConfigViolations(config: unknown, modelInputs?: readonly string[]): OvmsViolation[] {
  const out: OvmsViolation[] = [];
  const refuse = (rule: OvmsViolation['rule'], path: string, message: string) => out.push({ rule, path, message });
  if (!isObject(config)) return [{ rule: 'schema', path: '', message: 'type object' }];
  for (const key of Object.keys(config)) if (!TOP_LEVEL.includes(key)) refuse('schema', key, 'additionalProperties false');
  if (!Array.isArray(config.model_config_list)) {
    refuse('schema', 'model_config_list', 'required, type array');
    return out;
  }
  config.model_config_list.forEach((item, i) => {
    const at = `model_config_list[${i}]`;
    if (!isObject(item) || !isObject(item.config) || Object.keys(item).length !== 1) {
      refuse('schema', at, 'type object with the one property config (required, maxProperties 1)');
      return;
    }
    const c = item.config;
    if (typeof c.name !== 'string') refuse('schema', `${at}.config.name`, 'required, type string');
    for (const [key, value] of Object.entries(c)) {
      const check = CONFIG_FIELDS[key];
      if (!check) { refuse('schema', `${at}.config.${key}`, 'additionalProperties false'); continue; }
      const problem = check(value);
      if (problem) refuse('schema', `${at}.config.${key}`, problem);
    }
    // modelconfig.cpp parseNode: a shape string, or per input a string (or a list of integers).
    const shapes = typeof c.shape === 'string' ? { '': c.shape } : isObject(c.shape) ? c.shape : {};
    for (const [input, text] of Object.entries(shapes)) {
      const problem = typeof text === 'string' ? shapeStringProblem(text) : undefined;
      if (problem) refuse('shape', `${at}.config.shape${input ? `.${input}` : ''}`, `SHAPE_WRONG_FORMAT: ${problem}`);
      if (input && modelInputs && !modelInputs.includes(input)) refuse('shape-input', `${at}.config.shape.${input}`, 'CONFIG_SHAPE_IS_NOT_IN_MODEL: Shape from config not found in model');
    }
    for (const key of ['low_latency_transformation', 'idle_sequence_cleanup', 'max_sequence_number']) {
      if (c[key] !== undefined && c.stateful !== true) refuse('stateful', `${at}.config.${key}`, 'INVALID_NON_STATEFUL_MODEL_PARAMETER: only for a stateful model');
    }
    const hint = isObject(c.plugin_config) ? c.plugin_config.PERFORMANCE_HINT : undefined;
    if (hint !== undefined && !PERFORMANCE_HINTS.has(String(hint))) refuse('performance-hint', `${at}.config.plugin_config.PERFORMANCE_HINT`, `"${String(hint)}" is not one of LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT`);
  });
  return out;
}
