/** Calls an endpoint with InvokeEndpoint, as an InferenceClient, and names its invocations URL. */
import { performance } from 'node:perf_hooks';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { errorBody } from '../../smoke/error-body.js';
import type { InferenceClient } from '../../smoke/run-smoke.js';

/** `https://runtime.sagemaker.<region>.amazonaws.com/endpoints/<name>/invocations`: what callers POST to (SigV4, service `sagemaker`). */
export function invocationsUrl(region: string, endpointName: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://runtime.sagemaker.${region}.${domain}/endpoints/${endpointName}/invocations`;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Triton answers errors as `{"error": "<message>"}`, the Open Inference Protocol's shape, which
 * smoke checks and `invoke` read as they are; an answer that is not JSON is wrapped in it.
 */
function containerError(text: string): unknown {
  const body = parse(text);
  return typeof body === 'object' && body !== null ? body : errorBody('MODEL_ERROR', text);
}

/**
 * Calls an endpoint with InvokeEndpoint and the v2 (Open Inference Protocol) JSON that SageMaker's
 * Triton image accepts for its default model. A container error (SageMaker's ModelError, 424)
 * becomes the container's own status and body, so smoke checks report what Triton said; other
 * errors (no such endpoint, throttling after the SDK's retries) are thrown.
 */
export function sageMakerInferenceClient(runtime: SageMakerRuntimeClient, endpointName: string): InferenceClient {
  return async (request) => {
    const started = performance.now();
    try {
      const answer = await runtime.send(new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: new TextEncoder().encode(JSON.stringify(request)),
      }));
      return { status: 200, body: parse(new TextDecoder().decode(answer.Body)), latencyMs: performance.now() - started };
    } catch (e) {
      const err = e as { name?: string; OriginalStatusCode?: number; OriginalMessage?: string; message?: string };
      if (err?.name !== 'ModelError') throw e;
      return { status: err.OriginalStatusCode ?? 424, body: containerError(err.OriginalMessage ?? err.message ?? ''), latencyMs: performance.now() - started };
    }
  };
}
