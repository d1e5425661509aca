import http from 'node:http';
import https from 'node:https';
import got, { RequestError, TimeoutError, type Got, type Response } from 'got';
import type { Clock } from '../clock.js';
import { startStopwatch } from '../clock.js';
import type { Credentials } from '../config/types.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError, isRetryable } from './errors.js';
import {
  parseDumpTask,
  parseDumpTaskList,
  parseErrorBody,
  parseJsonBody,
  parseStreamDetailsPage,
  parseStreamNamesPage,
} from './parse.js';
import { signRequest } from './signer.js';
import type { DumpTask, DumpTaskSummary, StreamDetails } from './types.js';

/** The DIS API operations the exporter calls: the `operation` label of the API self-metrics. */
export type Operation = 'show_transfer_task' | 'list_streams' | 'list_transfer_tasks' | 'show_stream';

/** One HTTP request sent to DIS, as reported to the self-metrics: `code` is the HTTP status or `error`. */
export type ApiRequestEvent = Readonly<{ operation: Operation; code: string; durationSeconds: number }>;

/** What the poller needs from DIS. */
export interface DisClient {
  /** "Querying Dump Task Details"; rejects with a DisError whose `reason` says why. */
  getDumpTask(stream: string, task: string, signal?: AbortSignal): Promise<DumpTask>;
  /** "Querying Streams", every page (limit=100, start_stream_name = last name of the previous page while has_more_streams). */
  listStreams(signal?: AbortSignal): Promise<string[]>;
  /** "Querying a Dump Task List" of one stream. */
  listDumpTasks(stream: string, signal?: AbortSignal): Promise<DumpTaskSummary[]>;
  /** "Querying Stream Details", every page: limit_partitions=1000, start_partitionId = last partition id of the previous page (exclusive), while has_more_partitions. */
  getStream(stream: string, signal?: AbortSignal): Promise<StreamDetails>;
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
/** The documented maxima of `limit` (Querying Streams) and `limit_partitions` (Querying Stream Details). */
const STREAMS_PER_PAGE = 100;
const PARTITIONS_PER_PAGE = 1000;
/** A paged listing that still says "more" after this many pages is treated as a broken server, not followed further. */
export const MAX_PAGES = 1000;

/** How to walk one paged listing: the request of each page, its parser and the cursor each page ends on. */
type Paging<P extends { readonly hasMore: boolean }> = Readonly<{
  operation: Operation;
  /** The path and query of the page after `cursor` (the first page when undefined). */
  path: (cursor: string | undefined) => string;
  parse: (body: unknown) => P;
  /** The page's keys in order: each must be new, and the last one is the next page's cursor. */
  keys: (page: P) => readonly string[];
  /** `has_more_streams` or `has_more_partitions`, for error messages. */
  moreField: string;
  /** `streams` or `partitions`, for error messages. */
  noun: string;
}>;

/** RFC 3986 percent-encoding: a space is `%20` (never `+`, which URLSearchParams.toString writes), and `!'()*` are encoded too. */
function encodeQueryPart(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `?k=v&…` in insertion order, RFC 3986-encoded (the signer sorts its own copy); `''` when empty. */
function queryString(params: URLSearchParams): string {
  const pairs = [...params].map(([key, value]) => `${encodeQueryPart(key)}=${encodeQueryPart(value)}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

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

  async function fetchParsed<T>(
    operation: Operation,
    path: string,
    signal: AbortSignal | undefined,
    parse: (body: unknown) => T,
  ): Promise<T> {
    const body = await request(operation, path, signal);
    try {
      return parse(parseJsonBody(body));
    } catch (error) {
      throw error instanceof DisResponseError ? error.forRequest(`GET ${displayPath(path)}`) : error;
    }
  }

  // Each page is one request. A key seen on an earlier page means the server ignored the cursor; an empty page that
  // still says "more" would leave no cursor; either would loop, so both end the walk with a DisResponseError.
  async function allPages<P extends { readonly hasMore: boolean }>(
    paging: Paging<P>,
    signal: AbortSignal | undefined,
  ): Promise<P[]> {
    const pages: P[] = [];
    const pageByKey = new Map<string, number>();
    let cursor: string | undefined;
    for (let number = 1; ; number++) {
      const path = paging.path(cursor);
      const page = await fetchParsed(paging.operation, path, signal, paging.parse);
      const failure = (problem: string) => new DisResponseError(paging.moreField, problem, `GET ${displayPath(path)}`);
      const keys = paging.keys(page);
      for (const key of keys) {
        const first = pageByKey.get(key);
        if (first !== undefined) {
          throw failure(
            `was true on page ${number - 1} but page ${number} repeats ${JSON.stringify(key)} from page ${first}`,
          );
        }
      }
      for (const key of keys) pageByKey.set(key, number);
      pages.push(page);
      if (!page.hasMore) return pages;
      const last = keys.at(-1);
      if (last === undefined) throw failure(`is true but page ${number} lists no ${paging.noun}`);
      if (number >= MAX_PAGES) throw failure(`is still true after ${MAX_PAGES} pages`);
      cursor = last;
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
      return fetchParsed('show_transfer_task', path, signal, parseDumpTask);
    },
    async listStreams(signal) {
      const pages = await allPages(
        {
          operation: 'list_streams',
          path: (cursor) => {
            const query = new URLSearchParams({ limit: String(STREAMS_PER_PAGE) });
            if (cursor !== undefined) query.set('start_stream_name', cursor);
            return `/streams${queryString(query)}`;
          },
          parse: parseStreamNamesPage,
          keys: (page) => page.names,
          moreField: 'has_more_streams',
          noun: 'streams',
        },
        signal,
      );
      return pages.flatMap((page) => page.names);
    },
    async listDumpTasks(stream, signal) {
      const path = `/streams/${encodeURIComponent(stream)}/transfer-tasks`;
      return fetchParsed('list_transfer_tasks', path, signal, parseDumpTaskList);
    },
    async getStream(stream, signal) {
      const streamPath = `/streams/${encodeURIComponent(stream)}`;
      let firstName: string | undefined;
      let pageCount = 0;
      const pages = await allPages(
        {
          operation: 'show_stream',
          path: (cursor) => {
            const query = new URLSearchParams({ limit_partitions: String(PARTITIONS_PER_PAGE) });
            if (cursor !== undefined) query.set('start_partitionId', cursor);
            return `${streamPath}${queryString(query)}`;
          },
          parse: (body) => {
            const page = parseStreamDetailsPage(body);
            pageCount++;
            firstName ??= page.streamName;
            if (page.streamName !== firstName) {
              const names = `${JSON.stringify(page.streamName)} on page ${pageCount} but ${JSON.stringify(firstName)} on page 1`;
              throw new DisResponseError('stream_name', `is ${names}`);
            }
            return page;
          },
          keys: (page) => page.partitions.map((partition) => partition.partitionId),
          moreField: 'has_more_partitions',
          noun: 'partitions',
        },
        signal,
      );
      return Object.freeze({
        streamName: firstName ?? stream,
        partitions: Object.freeze(pages.flatMap((page) => page.partitions)),
      });
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
