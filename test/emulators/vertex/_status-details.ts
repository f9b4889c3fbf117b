import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { RpcFault } from './faults.js';

/**
 * google.rpc.Status and its detail types, from the definitions google-gax decodes them with
 * (`google-gax/build/protos/status.json`), so the client reads back what the fake sends.
 */
const require = createRequire(import.meta.url);
// The package's exports do not list its protos: find them beside its entry point (build/src/index.js).
const statusJson = path.join(path.dirname(require.resolve('google-gax')), '..', 'protos', 'status.json');
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(statusJson, 'utf8')));

/**
 * The trailers of an error with details, as Google's gRPC front ends send them: a serialized
 * google.rpc.Status in `grpc-status-details-bin`, its details holding a google.rpc.ErrorInfo.
 */
export function statusDetails(fault: RpcFault): grpc.Metadata {
  const errorInfo = root.lookupType('google.rpc.ErrorInfo');
  const status = root.lookupType('google.rpc.Status');
  const details = fault.errorInfo
    ? [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: errorInfo.encode(errorInfo.fromObject(fault.errorInfo)).finish() }]
    : [];
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status.encode(status.fromObject({ code: fault.code, message: fault.message, details })).finish()));
  return metadata;
}
