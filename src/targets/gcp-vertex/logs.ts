/**
 * The gcp-vertex target's logs: Cloud Logging, where Vertex AI writes what the endpoint's Triton
 * containers print (resource type `aiplatform.googleapis.com/Endpoint`, labelled with the
 * endpoint's id), read with `entries:list` in time order, page by page.
 */
import type { AuthClient } from 'google-auth-library';
import { DeployModelError } from '../../errors.js';
import { logsPollMs, pause, type LogLine, type LogsOptions } from '../../kits/logs/log-line.js';
import type { VertexContext } from './build.js';

/** One entry of `entries:list`, the fields read (LogEntry in the Cloud Logging API v2). */
export interface LogEntryJson {
  timestamp?: string;
  insertId?: string;
  severity?: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  labels?: Record<string, string>;
  resource?: { type?: string; labels?: Record<string, string> };
}

export interface VertexLogsAt {
  /** The project whose logs hold the endpoint's (id or number). */
  project: string;
  /** The endpoint's resource name, `projects/<n>/locations/<region>/endpoints/<id>`. */
  endpointName: string;
  authClient: AuthClient;
  /** Base URL of the Cloud Logging API. @default https://logging.googleapis.com */
  loggingEndpoint?: string;
}

/** The `entries:list` filter for an endpoint's entries from `since` on. */
export function endpointLogFilter(endpointId: string, since?: Date): string {
  return [
    'resource.type="aiplatform.googleapis.com/Endpoint"',
    `resource.labels.endpoint_id="${endpointId}"`,
    ...(since ? [`timestamp>="${since.toISOString()}"`] : []),
  ].join(' AND ');
}

/** An entry as a line: its text (or its JSON payload's message), its time, and the deployed model that wrote it. */
export function logLineOf(entry: LogEntryJson): LogLine {
  const json = entry.jsonPayload;
  const message = entry.textPayload ?? (typeof json?.message === 'string' ? json.message : json ? JSON.stringify(json) : '');
  const source = entry.labels?.deployed_model_id;
  return { time: new Date(entry.timestamp ?? Date.now()), message: message.replace(/\r?\n$/, ''), ...(source ? { source } : {}) };
}

/**
 * The endpoint's entries from `since` on, oldest first. With `follow`, asks again every few
 * seconds from the last entry's time, leaving out the entries already yielded (by insertId).
 */
export async function* vertexLogs(ctx: VertexContext, at: VertexLogsAt, options: LogsOptions): AsyncGenerator<LogLine> {
  const endpointId = at.endpointName.split('/').pop()!;
  const url = `${(at.loggingEndpoint ?? 'https://logging.googleapis.com').replace(/\/+$/, '')}/v2/entries:list`;
  let from = options.since;
  let seen = new Set<string>();
  const read = async function* (): AsyncGenerator<LogLine> {
    const filter = endpointLogFilter(endpointId, from);
    let pageToken: string | undefined;
    do {
      const page = await listEntries(ctx, at, url, { resourceNames: [`projects/${at.project}`], filter, orderBy: 'timestamp asc', pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
      for (const entry of page.entries ?? []) {
        const id = `${entry.insertId}/${entry.timestamp}`;
        if (seen.has(id)) continue;
        const line = logLineOf(entry);
        // Entries of the last time read may come again: keep their ids until a later time is read.
        if (!from || line.time.getTime() > from.getTime()) {
          from = line.time;
          seen = new Set();
        }
        seen.add(id);
        yield line;
      }
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
  };
  yield* read();
  if (!options.follow) return;
  // Cloud Logging allows 60 entries:list calls a minute per project.
  const pollMs = logsPollMs(5000);
  while (await pause(pollMs, options.signal)) yield* read();
}

async function listEntries(ctx: VertexContext, at: VertexLogsAt, url: string, body: Record<string, unknown>): Promise<{ entries?: LogEntryJson[]; nextPageToken?: string }> {
  try {
    const res = await at.authClient.request<{ entries?: LogEntryJson[]; nextPageToken?: string }>({ url, method: 'POST', data: body, responseType: 'json' });
    return res.data ?? {};
  } catch (e) {
    const err = e as { status?: number; response?: { status?: number; data?: { error?: { message?: string; status?: string } } }; message?: string };
    const status = err.status ?? err.response?.status;
    const reason = err.response?.data?.error?.message ?? err.message ?? String(e);
    const fix = status === 401
      ? 'run `gcloud auth application-default login` again (or set DEPLOY_MODEL_GCP_ACCESS_TOKEN to a fresh `gcloud auth print-access-token`)'
      : status === 403
        ? `grant the identity roles/logging.viewer on project ${at.project} (and enable the API: \`gcloud services enable logging.googleapis.com --project=${at.project}\`)`
        : 'check the network (and DEPLOY_MODEL_LOGGING_ENDPOINT if set), then run the command again';
    throw new DeployModelError('GCP_LOGS_READ_FAILED', `Reading the Cloud Logging entries of target '${ctx.targetName}' (endpoint ${at.endpointName}) failed${status ? ` (HTTP ${status})` : ''}: ${reason}. Fix: ${fix}.`,
      { cause: e, details: { target: ctx.targetName, endpoint: at.endpointName, statusCode: status } });
  }
}
