import http from 'node:http';
import https from 'node:https';
import got, { RequestError, TimeoutError, type Got, type Response } from 'got';
import type { Clock } from '../clock.js';
import { startStopwatch } from '../clock.js';
import type { Credentials } from '../config/types.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError, isRetryable } from './errors.js';
import { parseDumpTask, parseErrorBody, parseJsonBody } from './parse.js';
import { signRequest } from './signer.js';
import type { DumpTask } from './types.js';

/** The DIS API operations the exporter calls: the `operation` label of the API self-metrics. */
export type Operation = 'show_transfer_task';

/** One HTTP request sent to DIS, as reported to the self-metrics: `code` is the HTTP status or `error`. */
export type ApiRequestEvent = Readonly<{ operation: Operation; code: string; durationSeconds: number }>;

/** What the poller needs from DIS. */
export interface DisClient {
  /** "Querying Dump Task Details"; rejects with a DisError whose `reason` says why. */
  getDumpTask(stream: string, task: string, signal?: AbortSignal): Promise<DumpTask>;
  /** Frees the keep-alive sockets. */
  close(): void;
}

/** Everything createDisClient needs; credentials are a getter so a reload can swap them. */
export type DisClientOptions = Readonly<{
  endpoint: string;
  projectId: string;
  credentials: () => Credentials;
  timeoutMs: number;
  retries: number;
  /** Keep-alive sockets per host at most; the poller's concurrency. */
  maxSockets: number;
  clock: Clock;
  userAgent: string;
  onRequest?: (event: ApiRequestEvent) => void;
  /** Uniform [0, 1) source for the back-off jitter; injectable for tests. */
  random?: () => number;
}>;

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 10_000;

/** Creates the got-based client: AK/SK signing in a beforeRequest hook, keep-alive agents, our own retries. */
export function createDisClient(options: DisClientOptions): DisClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const random = options.random ?? Math.random;
  const base = `${options.endpoint.replace(/\/+$/, '')}/v2/${encodeURIComponent(options.projectId)}`;

  const client: Got = got.extend({
    agent,
    headers: { 'user-agent': options.userAgent, accept: 'application/json', 'x-project-id': options.projectId },
    timeout: { request: options.timeoutMs },
    // Retries are ours (below): got's would hide each attempt from the request self-metrics and ignore our clock.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    hooks: {
      beforeRequest: [
        (request) => {
          const url = request.url instanceof URL ? request.url : new URL(String(request.url));
          const signed = signRequest(
            { method: request.method, url, headers: request.headers },
            options.credentials(),
            options.clock.now(),
          );
          for (const [name, value] of Object.entries(signed)) request.headers[name.toLowerCase()] = value;
        },
      ],
    },
  });

  async function attempt(operation: Operation, path: string, signal: AbortSignal | undefined): Promise<string> {
    const elapsed = startStopwatch();
    let response: Response<string>;
    try {
      response = await client.get(`${base}${path}`, { signal });
    } catch (error) {
      options.onRequest?.({ operation, code: 'error', durationSeconds: elapsed() });
      if (signal?.aborted) throw signal.reason;
      throw toRequestError(error, path);
    }
    options.onRequest?.({ operation, code: String(response.statusCode), durationSeconds: elapsed() });
    if (response.statusCode >= 200 && response.statusCode < 300) return response.body;
    const parsed = parseErrorBody(response.body);
    const header = response.headers['x-request-id'];
    throw new DisHttpError({
      method: 'GET',
      path: displayPath(path),
      statusCode: response.statusCode,
      apiCode: parsed.apiCode,
      apiMessage: parsed.apiMessage,
      requestId: typeof header === 'string' && header !== '' ? header : parsed.requestId,
    });
  }

  async function request(operation: Operation, path: string, signal: AbortSignal | undefined): Promise<string> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(operation, path, signal);
      } catch (error) {
        if (!(error instanceof DisError) || !isRetryable(error.reason) || retry >= options.retries) throw error;
        // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
        await options.clock.sleep(Math.round(random() * ceiling), signal);
      }
    }
  }

  function displayPath(path: string): string {
    return `/v2/${options.projectId}${path}`;
  }

  function toRequestError(error: unknown, path: string): DisRequestError {
    const method = 'GET';
    if (error instanceof TimeoutError) {
      return new DisRequestError({
        method,
        path: displayPath(path),
        reason: 'timeout',
        detail: `no response within ${options.timeoutMs} ms`,
        cause: error,
      });
    }
    const code = error instanceof RequestError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return new DisRequestError({
      method,
      path: displayPath(path),
      reason: 'network',
      detail: code === undefined ? message : `${code}: ${message}`,
      cause: error,
    });
  }

  return {
    async getDumpTask(stream, task, signal) {
      const path = `/streams/${encodeURIComponent(stream)}/transfer-tasks/${encodeURIComponent(task)}`;
      const body = await request('show_transfer_task', path, signal);
      try {
        return parseDumpTask(parseJsonBody(body));
      } catch (error) {
        throw error instanceof DisResponseError ? error.forRequest(`GET ${displayPath(path)}`) : error;
      }
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
