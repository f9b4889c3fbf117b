/**
 * The fields of Triton's `ModelConfig` that deploy-model writes, with their proto types, taken from
 * triton-inference-server/common `protobuf/model_config.proto`. One table drives both the
 * renderer (field order here is the order in config.pbtxt) and the parser (anything not listed is
 * rejected), so the two cannot drift. Field numbers are kept for reference against the proto.
 */

export type ScalarType = 'string' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64';

export type FieldType =
  | { kind: 'scalar'; type: ScalarType }
  | { kind: 'enum'; enum: EnumName }
  | { kind: 'message'; message: MessageName }
  | { kind: 'map'; key: ScalarType; value: { kind: 'scalar'; type: ScalarType } | { kind: 'message'; message: MessageName } };

export interface FieldSpec {
  name: string;
  number: number;
  type: FieldType;
  repeated?: boolean;
  /** Name of the proto `oneof` the field belongs to: at most one member may be set. */
  oneof?: string;
}

export const ENUMS = {
  DataType: [
    'TYPE_INVALID', 'TYPE_BOOL', 'TYPE_UINT8', 'TYPE_UINT16', 'TYPE_UINT32', 'TYPE_UINT64',
    'TYPE_INT8', 'TYPE_INT16', 'TYPE_INT32', 'TYPE_INT64', 'TYPE_FP16', 'TYPE_FP32', 'TYPE_FP64',
    'TYPE_STRING', 'TYPE_BF16',
  ],
  'ModelInstanceGroup.Kind': ['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL'],
} as const satisfies Record<string, readonly string[]>;

export type EnumName = keyof typeof ENUMS;

export type MessageName =
  | 'ModelConfig' | 'ModelInput' | 'ModelOutput' | 'ModelTensorReshape' | 'ModelDynamicBatching'
  | 'ModelInstanceGroup' | 'ModelOptimizationPolicy' | 'ModelOptimizationPolicy.ExecutionAccelerators'
  | 'ModelOptimizationPolicy.ExecutionAccelerators.Accelerator' | 'ModelParameter' | 'ModelWarmup' | 'ModelWarmup.Input';

const scalar = (type: ScalarType): FieldType => ({ kind: 'scalar', type });
const enumOf = (name: EnumName): FieldType => ({ kind: 'enum', enum: name });
const message = (name: MessageName): FieldType => ({ kind: 'message', message: name });
const dataType = enumOf('DataType');

export const MESSAGES = {
  ModelConfig: [
    { name: 'name', number: 1, type: scalar('string') },
    { name: 'platform', number: 2, type: scalar('string') },
    { name: 'backend', number: 17, type: scalar('string') },
    { name: 'max_batch_size', number: 4, type: scalar('int32') },
    { name: 'input', number: 5, type: message('ModelInput'), repeated: true },
    { name: 'output', number: 6, type: message('ModelOutput'), repeated: true },
    { name: 'dynamic_batching', number: 11, type: message('ModelDynamicBatching'), oneof: 'scheduling_choice' },
    { name: 'instance_group', number: 7, type: message('ModelInstanceGroup'), repeated: true },
    { name: 'optimization', number: 12, type: message('ModelOptimizationPolicy') },
    { name: 'parameters', number: 14, type: { kind: 'map', key: 'string', value: { kind: 'message', message: 'ModelParameter' } } },
    { name: 'model_warmup', number: 16, type: message('ModelWarmup'), repeated: true },
  ],
  ModelParameter: [
    { name: 'string_value', number: 1, type: scalar('string') },
  ],
  ModelInput: [
    { name: 'name', number: 1, type: scalar('string') },
    { name: 'data_type', number: 2, type: dataType },
    { name: 'dims', number: 4, type: scalar('int64'), repeated: true },
    { name: 'reshape', number: 5, type: message('ModelTensorReshape') },
  ],
  ModelOutput: [
    { name: 'name', number: 1, type: scalar('string') },
    { name: 'data_type', number: 2, type: dataType },
    { name: 'dims', number: 3, type: scalar('int64'), repeated: true },
    { name: 'reshape', number: 5, type: message('ModelTensorReshape') },
  ],
  ModelTensorReshape: [
    { name: 'shape', number: 1, type: scalar('int64'), repeated: true },
  ],
  ModelDynamicBatching: [
    { name: 'preferred_batch_size', number: 1, type: scalar('int32'), repeated: true },
    { name: 'max_queue_delay_microseconds', number: 2, type: scalar('uint64') },
  ],
  ModelInstanceGroup: [
    { name: 'count', number: 2, type: scalar('int32') },
    { name: 'kind', number: 4, type: enumOf('ModelInstanceGroup.Kind') },
  ],
  ModelOptimizationPolicy: [
    { name: 'execution_accelerators', number: 4, type: message('ModelOptimizationPolicy.ExecutionAccelerators') },
  ],
  'ModelOptimizationPolicy.ExecutionAccelerators': [
    { name: 'gpu_execution_accelerator', number: 1, type: message('ModelOptimizationPolicy.ExecutionAccelerators.Accelerator'), repeated: true },
  ],
  'ModelOptimizationPolicy.ExecutionAccelerators.Accelerator': [
    { name: 'name', number: 1, type: scalar('string') },
    { name: 'parameters', number: 2, type: { kind: 'map', key: 'string', value: { kind: 'scalar', type: 'string' } } },
  ],
  ModelWarmup: [
    { name: 'name', number: 1, type: scalar('string') },
    { name: 'batch_size', number: 2, type: scalar('uint32') },
    { name: 'inputs', number: 3, type: { kind: 'map', key: 'string', value: { kind: 'message', message: 'ModelWarmup.Input' } } },
    { name: 'count', number: 4, type: scalar('uint32') },
  ],
  'ModelWarmup.Input': [
    { name: 'data_type', number: 1, type: dataType },
    { name: 'dims', number: 2, type: scalar('int64'), repeated: true },
    { name: 'zero_data', number: 3, type: scalar('bool'), oneof: 'input_data_type' },
    { name: 'random_data', number: 4, type: scalar('bool'), oneof: 'input_data_type' },
    { name: 'input_data_file', number: 5, type: scalar('string'), oneof: 'input_data_type' },
  ],
} satisfies Record<MessageName, FieldSpec[]>;

export const ROOT_MESSAGE: MessageName = 'ModelConfig';

export function messageFields(name: MessageName): readonly FieldSpec[] {
  return MESSAGES[name] as readonly FieldSpec[];
}

/** Smallest and largest value of each integer type, as JS numbers (64-bit ones capped to safe integers). */
export const INTEGER_RANGE: Record<Exclude<ScalarType, 'string' | 'bool'>, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};
