import { createRequire } from 'node:module';
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/**
 * The Vertex AI protos, from the descriptor set the client package ships
 * (`@google-cloud/aiplatform/build/protos/protos.json`), so the fake speaks exactly the messages the
 * client encodes.
 */
const require = createRequire(import.meta.url);
export const root = protobuf.Root.fromJSON(require('@google-cloud/aiplatform/build/protos/protos.json'));

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: Buffer, defaults: false, arrays: true, objects: true };

export const V1 = 'google.cloud.aiplatform.v1';

export function encode(typeName: string, value: object): Buffer {
  const type = root.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

export function decode<T = Record<string, any>>(typeName: string, bytes: Uint8Array): T {
  const type = root.lookupType(typeName);
  return type.toObject(type.decode(bytes), TO_OBJECT) as T;
}

/** A `google.protobuf.Any` holding `value` as `typeName`. */
export function packAny(typeName: string, value: object): { type_url: string; value: Buffer } {
  return { type_url: `type.googleapis.com/${typeName}`, value: encode(typeName, value) };
}

/** The gRPC service definition of `serviceName` (e.g. `google.cloud.aiplatform.v1.EndpointService`), unary methods only. */
export function serviceDefinition(serviceName: string): ServiceDefinition {
  const service = root.lookupService(serviceName);
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: (v: object) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), TO_OBJECT),
      responseSerialize: (v: object) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition as ServiceDefinition;
}
