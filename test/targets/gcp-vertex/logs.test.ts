/** The gcp-vertex logs reader's pure parts (filter, entry to line) and its refusal, without a network. */
import type { AuthClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import type { VertexContext } from '../../../src/targets/gcp-vertex/build.js';
import { endpointLogFilter, logLineOf, vertexLogs } from '../../../src/targets/gcp-vertex/logs.js';

describe('gcp-vertex logs', () => {
  it('filters on the endpoint resource and its id, from `since` on', () => {
    expect(endpointLogFilter('123', new Date('2024-05-01T12:00:00Z'))).toBe('resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="123" AND timestamp>="2024-05-01T12:00:00.000Z"');
    expect(endpointLogFilter('123')).toBe('resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="123"');
  });

  it('reads a text entry, a JSON entry by its message, and a JSON entry without one whole', () => {
    expect(logLineOf({ timestamp: '2024-05-01T12:00:00.123456Z', textPayload: 'I started\n', labels: { deployed_model_id: '42' } }))
      .toEqual({ time: new Date('2024-05-01T12:00:00.123Z'), message: 'I started', source: '42' });
    expect(logLineOf({ timestamp: '2024-05-01T12:00:00Z', jsonPayload: { message: 'ready', level: 'info' } })).toEqual({ time: new Date('2024-05-01T12:00:00Z'), message: 'ready' });
    expect(logLineOf({ timestamp: '2024-05-01T12:00:00Z', jsonPayload: { level: 'info' } }).message).toBe('{"level":"info"}');
  });

  it('answers a refusal of entries:list with GCP_LOGS_READ_FAILED naming the role to grant', async () => {
    // GIVEN credentials that Cloud Logging refuses with 403
    const authClient = { request: async () => { throw Object.assign(new Error('Request failed with status code 403'), { status: 403, response: { status: 403, data: { error: { message: 'Permission denied for logging.logEntries.list', status: 'PERMISSION_DENIED' } } } }); } } as unknown as AuthClient;
    const ctx = { targetName: 'vertex' } as VertexContext;
    // WHEN / THEN
    const read = vertexLogs(ctx, { project: 'my-project', endpointName: 'projects/1/locations/us-central1/endpoints/123', authClient }, { since: new Date() });
    await expect(read.next()).rejects.toMatchObject({
      code: 'GCP_LOGS_READ_FAILED',
      message: expect.stringMatching(/^Reading the Cloud Logging entries of target 'vertex' \(endpoint projects\/1\/locations\/us-central1\/endpoints\/123\) failed \(HTTP 403\): Permission denied for logging\.logEntries\.list\. Fix: grant the identity roles\/logging\.viewer on project my-project/),
    });
  });
});
