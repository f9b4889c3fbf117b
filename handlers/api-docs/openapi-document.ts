/**
 * The OpenAPI 3.1 document of a serving endpoint, generated from the routes it serves and the
 * model's metadata: each input's datatype and shape in the request schema, the v2 response, the
 * error body. Served as `GET /openapi.json` by every adapter.
 */
import type { V2ModelMetadata, V2TensorMetadata } from '../core/types.js';

/** What a route does, for its operation in the document. */
export type RouteKind =
  | 'server-metadata' | 'live' | 'ready' | 'model-metadata' | 'model-ready'
  | 'infer' | 'predict' | 'stats' | 'openapi' | 'docs';

export interface RouteDoc {
  /** The path as OpenAPI writes it (`/v2/models/{name}/infer`); the route's own path when it is a string. */
  path: string;
  kind: RouteKind;
  summary: string;
}

export interface DocumentedRoute {
  method: 'GET' | 'POST';
  doc: RouteDoc;
}

export interface OpenApiOptions {
  /** Concrete shapes for the example request (the config's `model.inputs`); dynamic dims are 1 otherwise. */
  exampleShapes?: Record<string, number[]>;
  /** Where the endpoint runs, for the document's description (`AWS Lambda`, `a container`). */
  host: string;
}

type Schema = Record<string, unknown>;

const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** The JSON type of one element of a tensor of this v2 datatype. */
function elementSchema(datatype: string): Schema {
  if (datatype === 'BOOL') return { type: 'boolean' };
  if (datatype === 'BYTES') return { type: 'string' };
  if (INTEGER_TYPES.has(datatype)) return { type: 'integer' };
  return { type: 'number' };
}

function shapeSchema(shape: number[]): Schema {
  return {
    type: 'array',
    description: shape.some((d) => d < 0) ? `the model's shape is [${shape.join(', ')}] (-1: any size)` : `the model's shape, [${shape.join(', ')}]`,
    prefixItems: shape.map((d) => (d < 0 ? { type: 'integer', minimum: 0 } : { const: d })),
    minItems: shape.length,
    maxItems: shape.length,
  };
}

/** `data`: the elements flat or nested in row-major order, or base64 of the little-endian bytes. */
function dataSchema(t: V2TensorMetadata): Schema {
  const element = elementSchema(t.datatype);
  const nested: Schema = { type: 'array', items: { anyOf: [element, { $ref: '#/components/schemas/NestedData' }] } };
  return {
    anyOf: [
      { ...nested, description: `${t.datatype} elements, flat or nested, in row-major order` },
      ...(t.datatype === 'BYTES' ? [] : [{ type: 'string', contentEncoding: 'base64', description: 'the tensor\'s little-endian bytes, base64-encoded; set parameters.content_encoding to "base64"' }]),
    ],
  };
}

function inputSchema(t: V2TensorMetadata): Schema {
  return {
    type: 'object',
    required: ['name', 'shape', 'datatype', 'data'],
    additionalProperties: false,
    properties: {
      name: { const: t.name },
      shape: shapeSchema(t.shape),
      datatype: { const: t.datatype },
      data: dataSchema(t),
      parameters: { type: 'object', properties: { content_encoding: { enum: ['base64'] } } },
    },
  };
}

function outputSchema(t: V2TensorMetadata): Schema {
  return {
    type: 'object',
    required: ['name', 'shape', 'datatype', 'data'],
    properties: {
      name: { const: t.name },
      shape: shapeSchema(t.shape),
      datatype: { const: t.datatype },
      data: dataSchema(t),
      parameters: { type: 'object', properties: { content_encoding: { enum: ['base64'] } } },
    },
  };
}

/** Schema component names may hold letters, digits, `.`, `-` and `_` only. */
function componentName(prefix: string, tensor: string): string {
  return `${prefix}_${tensor.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** A request that the model takes: each input with its dynamic dims set to 1 (or the given shape), all elements 0. */
export function exampleRequest(metadata: V2ModelMetadata, exampleShapes: Record<string, number[]> = {}): { inputs: Array<{ name: string; shape: number[]; datatype: string; data: unknown[] }> } {
  return {
    inputs: metadata.inputs.map((t) => {
      const shape = exampleShapes[t.name] ?? t.shape.map((d) => (d < 0 ? 1 : d));
      const size = shape.reduce((a, b) => a * b, 1);
      const zero = t.datatype === 'BOOL' ? false : t.datatype === 'BYTES' ? '' : 0;
      return { name: t.name, shape, datatype: t.datatype, data: new Array(size).fill(zero) };
    }),
  };
}

const ERROR_RESPONSES: Record<string, string> = {
  400: 'the request does not fit the model (the message names the input and the rule)',
  404: 'no such model or route',
  413: 'the request is over the size limit',
  415: 'the body is not JSON',
  500: 'the server failed',
  503: 'not ready, shutting down, or overloaded (with Retry-After)',
};

function errorResponses(codes: string[]): Record<string, unknown> {
  return Object.fromEntries(codes.map((c) => [c, { description: ERROR_RESPONSES[c], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));
}

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });

/** The operation of one documented route. */
function operation(route: DocumentedRoute, metadata: V2ModelMetadata, example: unknown): Record<string, unknown> {
  const { kind, summary, path } = route.doc;
  const modelParam = path.includes('{name}') ? [{ name: 'name', in: 'path', required: true, schema: { enum: [metadata.name] } }] : [];
  const base = { summary, operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`, ...(modelParam.length ? { parameters: modelParam } : {}) };
  const status = (s: Schema) => ({ ...base, responses: { 200: json(s, 'OK'), ...errorResponses(['503']) } });
  switch (kind) {
    case 'live': case 'ready':
      return status({ type: 'object', properties: { status: { enum: [kind] } } });
    case 'model-ready':
      return { ...base, responses: { 200: json({ type: 'object', properties: { name: { const: metadata.name }, ready: { const: true } } }, 'OK'), ...errorResponses(['404', '503']) } };
    case 'server-metadata':
      return { ...base, responses: { 200: json({ type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } } }, 'OK') } };
    case 'model-metadata':
      return { ...base, responses: { 200: json({ $ref: '#/components/schemas/ModelMetadata' }, 'the model\'s inputs and outputs (dynamic dims are -1)'), ...errorResponses(['404']) } };
    case 'stats':
      return { ...base, responses: { 200: json({ type: 'object' }, 'KServe v2 statistics of the worker pool'), ...errorResponses(['404']) } };
    case 'openapi':
      return { ...base, responses: { 200: json({ type: 'object' }, 'this document') } };
    case 'docs':
      return { ...base, responses: { 200: { description: 'an HTML page that renders this document and sends a request', content: { 'text/html': {} } } } };
    case 'infer':
    case 'predict': {
      const request = kind === 'infer'
        ? { $ref: '#/components/schemas/InferenceRequest' }
        : { anyOf: [{ $ref: '#/components/schemas/InferenceRequest' }, { $ref: '#/components/schemas/InstancesRequest' }] };
      const response = kind === 'infer'
        ? { $ref: '#/components/schemas/InferenceResponse' }
        : { anyOf: [{ $ref: '#/components/schemas/InferenceResponse' }, { type: 'object', required: ['predictions'], properties: { predictions: { type: 'array' } } }] };
      return {
        ...base,
        requestBody: { required: true, content: { 'application/json': { schema: request, example } } },
        responses: { 200: json(response, 'the outputs'), ...errorResponses(['400', '404', '413', '415', '500', '503']) },
      };
    }
  }
}

/** The document for these routes, serving this model. */
export function openApiDocument(routes: readonly DocumentedRoute[], metadata: V2ModelMetadata, options: OpenApiOptions): Record<string, unknown> {
  const example = exampleRequest(metadata, options.exampleShapes);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const entry = (paths[route.doc.path] ??= {});
    const method = route.method.toLowerCase();
    if (!entry[method]) entry[method] = operation(route, metadata, example);
  }
  const inputs = Object.fromEntries(metadata.inputs.map((t) => [componentName('Input', t.name), inputSchema(t)]));
  const outputs = Object.fromEntries(metadata.outputs.map((t) => [componentName('Output', t.name), outputSchema(t)]));
  const tensorMetadata = { type: 'object', properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } } };
  return {
    openapi: '3.1.0',
    info: {
      title: `${metadata.name}: ONNX model served by deploy-model`,
      version: '1',
      description: `The Open Inference Protocol (KServe v2) over ${options.host}. Inputs: ${metadata.inputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}. Outputs: ${metadata.outputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}. Dims of -1 take any size.`,
    },
    paths,
    components: {
      schemas: {
        ...inputs,
        ...outputs,
        NestedData: { type: 'array', items: { anyOf: [{ type: ['number', 'integer', 'boolean', 'string'] }, { $ref: '#/components/schemas/NestedData' }] } },
        InferenceRequest: {
          type: 'object',
          required: ['inputs'],
          properties: {
            id: { type: 'string' },
            inputs: { type: 'array', minItems: metadata.inputs.length, maxItems: metadata.inputs.length, items: { anyOf: Object.keys(inputs).map((k) => ({ $ref: `#/components/schemas/${k}` })) } },
            outputs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { enum: metadata.outputs.map((t) => t.name) }, parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } } } } } },
            parameters: { type: 'object', properties: { output_encoding: { enum: ['base64'], description: 'answer every output base64-encoded' } } },
          },
        },
        InstancesRequest: { type: 'object', required: ['instances'], properties: { instances: { type: 'array', description: 'one item per row of the batch (Vertex AI\'s form)' } } },
        InferenceResponse: {
          type: 'object',
          required: ['model_name', 'outputs'],
          properties: {
            model_name: { const: metadata.name },
            model_version: { type: 'string' },
            id: { type: 'string' },
            outputs: { type: 'array', items: { anyOf: Object.keys(outputs).map((k) => ({ $ref: `#/components/schemas/${k}` })) } },
          },
        },
        ModelMetadata: { type: 'object', properties: { name: { const: metadata.name }, versions: { type: 'array', items: { type: 'string' } }, platform: { type: 'string' }, inputs: { type: 'array', items: tensorMetadata }, outputs: { type: 'array', items: tensorMetadata } } },
        Error: { type: 'object', required: ['error', 'code'], properties: { error: { type: 'string', description: 'what is wrong and how to fix it' }, code: { type: 'string', description: 'a stable code, e.g. INPUT_SHAPE_MISMATCH' } } },
      },
    },
  };
}
