import { dimsString, type TritonRule } from './load-context.js';

/**
 * What Triton does with `model_warmup` at load: each sample becomes `batch_size` requests of one
 * item, built by core and run through the backend before the model is ready. A sample that fails
 * fails the load. Written from triton-inference-server/core and onnxruntime_backend, r25.09.
 */

/** Triton's request log prefix for a request without an id (`InferenceRequest::LogRequest`). */
const REQUEST = '[request id: <id_unknown>] ';

/** Wire names of the data types (`DataTypeToProtocolString` in common src/model_config.cc). */
const PROTOCOL_NAMES: Record<string, string> = {
  TYPE_BOOL: 'BOOL', TYPE_UINT8: 'UINT8', TYPE_UINT16: 'UINT16', TYPE_UINT32: 'UINT32', TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8', TYPE_INT16: 'INT16', TYPE_INT32: 'INT32', TYPE_INT64: 'INT64',
  TYPE_FP16: 'FP16', TYPE_FP32: 'FP32', TYPE_FP64: 'FP64', TYPE_STRING: 'BYTES', TYPE_BF16: 'BF16',
};

/** Sample data needs concrete dims and a way to generate it (zero, random or a file). */
export const warmupDataRule: TritonRule = {
  id: 'core.warmup-data',
  source: 'triton-inference-server/core src/backend_model_instance.cc r25.09, TritonModelInstance::GenerateWarmupData',
  check: ({ config: c }) => {
    const problems: string[] = [];
    for (const warmup of c.model_warmup) {
      if (warmup.batch_size === 0) continue; // skipped by Triton
      const inputs = Object.entries(warmup.inputs);
      const open = inputs.find(([, input]) => input.dims.includes(-1));
      if (open) {
        problems.push(`warmup setting expects all variable-size dimensions are specified for input '${open[0]}'`);
        continue;
      }
      const unset = inputs.find(([, input]) => input.zero_data === undefined && input.random_data === undefined && input.input_data_file === undefined);
      if (unset) problems.push(`${REQUEST}warmup setting expects input '${unset[0]}' to have input_data_type set`);
    }
    return problems;
  },
};

/**
 * Each warmup request is checked like a client's: every input present, of the config's data type,
 * with the config's dims (after the batch dim of 1 that core adds when the model batches).
 */
export const warmupRequestRule: TritonRule = {
  id: 'core.warmup-request',
  source: 'triton-inference-server/core src/infer_request.cc r25.09, InferenceRequest::Normalize and ValidateRequestInputs',
  check: ({ config: c }) => {
    const problems: string[] = [];
    const batches = c.max_batch_size !== 0;
    for (const warmup of c.model_warmup) {
      if (warmup.batch_size === 0) continue;
      // Samples named after no config input become override inputs, which are not counted.
      const given = Object.keys(warmup.inputs).filter((name) => c.input.some((io) => io.name === name));
      const required = c.input.filter((io) => !io.optional);
      const missing = required.filter((io) => !given.includes(io.name));
      if (given.length > c.input.length || given.length < required.length) {
        const list = (names: string[]) => (names.length === 0 ? '[]' : `[${names.map((n) => `'${n}'`).join(',')}]`);
        problems.push(`${REQUEST}expected ${c.input.length} inputs but got ${given.length} inputs for model '${c.name}'. Got input(s) ${list(given.sort())}, but missing required input(s) ${list(missing.map((io) => io.name))}. Please provide all required input(s).`);
        continue;
      }
      for (const name of given) {
        const sample = warmup.inputs[name]!;
        const io = c.input.find((i) => i.name === name)!;
        if (sample.data_type !== io.data_type) {
          problems.push(`${REQUEST}inference input '${name}' data-type is '${PROTOCOL_NAMES[sample.data_type] ?? '<invalid>'}', but model '${c.name}' expects '${PROTOCOL_NAMES[io.data_type] ?? '<invalid>'}'`);
          continue;
        }
        const sent = batches ? [1, ...sample.dims] : sample.dims;
        const fits = sample.dims.length === io.dims.length && io.dims.every((d, i) => d === -1 || d === sample.dims[i]);
        if (!fits) {
          const expected = batches ? [-1, ...io.dims] : io.dims;
          const note = batches
            ? ' NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size.'
            : ' ';
          problems.push(`${REQUEST}unexpected shape for input '${name}' for model '${c.name}'. Expected ${dimsString(expected)}, got ${dimsString(sent)}.${note}`);
        }
      }
    }
    return problems;
  },
};

/**
 * The backend runs a sample's requests as one batch: `batch_size` items, which must be 1 for a
 * model that does not batch and at most max_batch_size for one that does.
 */
export const warmupBatchRule: TritonRule = {
  id: 'onnxruntime.warmup-batch',
  source: 'triton-inference-server/onnxruntime_backend src/onnxruntime.cc r25.09, ModelInstanceState::ProcessRequests',
  check: ({ config: c }) => c.model_warmup
    .filter((w) => w.batch_size !== 1 && w.batch_size > c.max_batch_size)
    .map((w) => `batch size ${w.batch_size} for '${c.name}', max allowed is ${c.max_batch_size}`),
};

export const WARMUP_RULES: readonly TritonRule[] = [warmupDataRule, warmupRequestRule, warmupBatchRule];
