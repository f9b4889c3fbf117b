import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Our transcription of Triton's model_config.proto (common r25.09). */
export const MODEL_CONFIG_PROTO = fileURLToPath(new URL('./model-config.proto', import.meta.url));

let root: protobuf.Root | undefined;

/** The transcription loaded by protobufjs, with the proto's own (snake_case) field names. */
export function modelConfigRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root().loadSync(MODEL_CONFIG_PROTO, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

export function modelConfigType(): protobuf.Type {
  return modelConfigRoot().lookupType('inference.ModelConfig');
}

/**
 * The parts of a ModelConfig the rules read, as Triton's C++ code sees them: every scalar and
 * repeated field present (proto3 zero values when unset) and a message field `null` when unset,
 * so `reshape !== null` is `has_reshape()`.
 */
export interface TensorMessage {
  name: string;
  data_type: string;
  dims: number[];
  reshape: { shape: number[] } | null;
  is_shape_tensor: boolean;
  is_non_linear_format_io: boolean;
  /** Inputs only. */
  format?: string;
  optional?: boolean;
  allow_ragged_batch?: boolean;
}

export interface AcceleratorMessage {
  name: string;
  parameters: Record<string, string>;
}

export interface WarmupInputMessage {
  data_type: string;
  dims: number[];
  zero_data?: boolean;
  random_data?: boolean;
  input_data_file?: string;
}

export interface ModelConfigMessage {
  name: string;
  platform: string;
  backend: string;
  default_model_filename: string;
  version_policy: object | null;
  max_batch_size: number;
  input: TensorMessage[];
  output: TensorMessage[];
  dynamic_batching?: {
    preferred_batch_size: number[];
    max_queue_delay_microseconds: number;
    preserve_ordering: boolean;
    priority_levels: number;
    default_priority_level: number;
    priority_queue_policy: Record<string, unknown>;
  };
  sequence_batching?: object;
  ensemble_scheduling?: object;
  instance_group: Array<{ name: string; count: number; kind: string; gpus: number[]; profile: string[] }>;
  optimization: {
    execution_accelerators: { gpu_execution_accelerator: AcceleratorMessage[]; cpu_execution_accelerator: AcceleratorMessage[] } | null;
  } | null;
  model_warmup: Array<{ name: string; batch_size: number; count: number; inputs: Record<string, WarmupInputMessage> }>;
  parameters: Record<string, { string_value: string }>;
}

/**
 * Reads a config object (proto field names, as `parsePbtxt` returns or `planTritonConfig`
 * builds) the way Triton holds it after parsing: checked against the transcription (unknown
 * field, unknown enum value, list where one value goes), then every unset field filled in.
 */
export function readAsTriton(config: object): ModelConfigMessage {
  const type = modelConfigType();
  checkFields(type, config, 'ModelConfig');
  const message = type.fromObject(config);
  return type.toObject(message, { defaults: true, enums: String, longs: Number, arrays: true, objects: true }) as ModelConfigMessage;
}

/** Decodes protobuf bytes (e.g. what `protoc --encode` wrote) the same way. */
export function decodeAsTriton(bytes: Uint8Array): ModelConfigMessage {
  const type = modelConfigType();
  return type.toObject(type.decode(bytes), { defaults: true, enums: String, longs: Number, arrays: true, objects: true }) as ModelConfigMessage;
}

/** protobufjs' fromObject drops unknown fields and enum names silently; a reference must not. */
function checkFields(type: protobuf.Type, value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: expected a ${type.name} message`);
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const field = type.fields[key];
    if (!field) throw new Error(`${path}: ${type.name} has no field named "${key}"`);
    const at = `${path}.${key}`;
    if (field.map) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${at}: expected a map`);
      for (const [k, item] of Object.entries(v)) checkValue(field, item, `${at}[${k}]`);
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw new Error(`${at}: expected a list`);
      v.forEach((item, i) => checkValue(field, item, `${at}[${i}]`));
    } else {
      checkValue(field, v, at);
    }
  }
}

function checkValue(field: protobuf.Field, value: unknown, path: string): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return checkFields(resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value !== 'string' || !(value in resolved.values)) throw new Error(`${path}: ${JSON.stringify(value)} is not a ${resolved.name} value`);
    return;
  }
  const expected = field.type === 'string' ? 'string' : field.type === 'bool' ? 'boolean' : 'number';
  if (typeof value !== expected) throw new Error(`${path}: expected a ${field.type}, got ${JSON.stringify(value)}`);
}
