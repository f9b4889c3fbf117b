import type { FakeContext } from './_context.js';
import { AwsError, escapeXml, jsonReply, xmlReply, type WireReply, type WireRequest } from './_wire.js';

/** What a service module made of a request: the operation and its input, for `calls`. */
export interface ParsedCall {
  readonly action: string;
  readonly params: Record<string, unknown>;
}

/**
 * One AWS service of the fake. The router picks a module by `x-amz-target` prefix, by a path it
 * `claims`, or by the SigV4 signing name; the module parses, answers and formats its own errors.
 * A new service (SageMaker) is one more module in `SERVICES` (see `_router.ts`).
 */
export interface AwsServiceModule {
  /** The name used in `calls[].service` and in `faults.throttle(service, ...)`. */
  readonly name: string;
  /** SigV4 signing names (`Credential=.../<region>/<service>/aws4_request`) this module serves. */
  readonly signingNames: readonly string[];
  /** JSON protocols: the `x-amz-target` prefix before the dot (`AmazonSSM`). */
  readonly targetPrefixes?: readonly string[];
  /** REST services: claims a request by its path before signature-based routing. */
  claims?(req: WireRequest): boolean;
  parse(req: WireRequest): ParsedCall;
  handle(call: ParsedCall, req: WireRequest, ctx: FakeContext): Promise<WireReply>;
  errorReply(error: AwsError, req: WireRequest): WireReply;
  /** The error this service answers when throttled, in its real shape, so the SDK retries. */
  throttlingError(): AwsError;
}

/** awsQuery (STS, CloudFormation): `<ErrorResponse><Error><Type/><Code/><Message/></Error>`. */
export function queryErrorReply(error: AwsError, req: WireRequest): WireReply {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return xmlReply(
    error.status,
    `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>${type}</Type>` +
      `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
      `<RequestId>${req.requestId}</RequestId></ErrorResponse>`,
    { 'x-amzn-requestid': req.requestId },
  );
}

/** awsJson 1.0/1.1 (SSM, SageMaker): `{"__type": code, "message": ..}`. */
export function jsonErrorReply(error: AwsError, req: WireRequest): WireReply {
  return {
    status: error.status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': req.requestId },
    body: JSON.stringify({ __type: error.code, message: error.message, ...error.fields }),
  };
}

/** restJson (Lambda): the code in `x-amzn-errortype`, the message in the body. */
export function restJsonErrorReply(error: AwsError, req: WireRequest): WireReply {
  return jsonReply(
    error.status,
    { Type: error.status >= 500 ? 'Service' : 'User', message: error.message, ...error.fields },
    { 'x-amzn-errortype': error.code, 'x-amzn-requestid': req.requestId },
  );
}

/** restXml (S3): `<Error><Code/><Message/></Error>`, no body for HEAD. */
export function s3ErrorReply(error: AwsError, req: WireRequest): WireReply {
  if (req.method === 'HEAD') return { status: error.status, headers: { 'x-amz-request-id': req.requestId } };
  const extra = Object.entries(error.fields).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  return xmlReply(
    error.status,
    `<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>${extra}` +
      `<RequestId>${req.requestId}</RequestId></Error>`,
    { 'x-amz-request-id': req.requestId },
  );
}

/** An awsQuery success body: `<XResponse><XResult>..</XResult><ResponseMetadata/></XResponse>`. */
export function queryReply(action: string, namespace: string, resultXml: string, req: WireRequest): WireReply {
  return xmlReply(
    200,
    `<${action}Response xmlns="${namespace}"><${action}Result>${resultXml}</${action}Result>` +
      `<ResponseMetadata><RequestId>${req.requestId}</RequestId></ResponseMetadata></${action}Response>`,
    { 'x-amzn-requestid': req.requestId },
  );
}

export function parseJsonBody(req: WireRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    return JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
}
