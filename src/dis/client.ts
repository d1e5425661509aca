import http from 'node:http';
import https from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import got, { RequestError, type Got, type PlainResponse, type Request } from 'got';
import type { Clock } from '../clock.js';
import { startStopwatch } from '../clock.js';
import type { AccessKeyPair, Credentials } from '../config/types.js';
import { clockSkewErrorOf } from './clock-skew.js';
import { CHECK_ACCESS_KEYS, createCooldownGuard, type CooldownInfo } from './cooldown.js';
import { errorResponseInit } from './error-response.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError, isRetryable } from './errors.js';
import {
  createIamTokenSource,
  DEFAULT_IAM_FAILURE_BACKOFF_MS,
  DEFAULT_IAM_REFRESH_AHEAD_MS,
  type IamTokenEvent,
  type IamTokenTimings,
} from './iam-token.js';
import {
  parseDumpTask,
  parseDumpTaskList,
  parseJsonBody,
  parseStreamDetailsPage,
  parseStreamNamesPage,
  quoteForError,
} from './parse.js';
import { createRateLimiter, type Rate } from './rate-limiter.js';
import { parseRetryAfter } from './retry-after.js';
import { signRequest } from './signer.js';
import type { DumpTask, DumpTaskSummary, FieldIssue, StreamDetails } from './types.js';

/** The DIS API operations the exporter calls, and the IAM token request: the `operation` label of the API self-metrics. */
export type Operation = 'show_transfer_task' | 'list_streams' | 'list_transfer_tasks' | 'show_stream' | 'iam_token';

/** One HTTP request sent to DIS or IAM, as reported to the self-metrics: `code` is the HTTP status or `error`. */
export type ApiRequestEvent = Readonly<{ operation: Operation; code: string; durationSeconds: number }>;

/** Per-call limits. */
export type CallOptions = Readonly<{
  /**
   * When the caller's cycle ends, in ms since the epoch on the client's clock: a retry is attempted only if its
   * back-off (or Retry-After) ends before it. Default: no deadline, only `retries` bounds the retries.
   */
  deadlineMs?: number;
}>;

/** What the poller needs from DIS. */
export interface DisClient {
  /** "Querying Dump Task Details"; rejects with a DisError whose `reason` says why. */
  getDumpTask(stream: string, task: string, signal?: AbortSignal, options?: CallOptions): Promise<DumpTask>;
  /** "Querying Streams", every page (limit=100, start_stream_name = last name of the previous page while has_more_streams). */
  listStreams(signal?: AbortSignal, options?: CallOptions): Promise<string[]>;
  /** "Querying a Dump Task List" of one stream. */
  listDumpTasks(stream: string, signal?: AbortSignal, options?: CallOptions): Promise<DumpTaskSummary[]>;
  /**
   * "Querying Stream Details", every page: limit_partitions=1000, start_partitionId = the last partition id of the
   * previous page as DIS sent it (exclusive), while has_more_partitions. The details are the asked stream's, whatever
   * `stream_name` the pages echo (an echo that differs is a field issue).
   */
  getStream(stream: string, signal?: AbortSignal, options?: CallOptions): Promise<StreamDetails>;
  /** When the current cool-down ends (ms since the epoch), or undefined; absent on fakes that never cool down. */
  cooldownUntilMs?(): number | undefined;
  /** Frees the keep-alive sockets. */
  close(): void;
}

/** The client createDisClient builds: a DisClient that always reports its cool-down and takes new limits. */
export interface HttpDisClient extends DisClient {
  cooldownUntilMs(): number | undefined;
  /** Applies new limits to the calls that start from now on (a reload); calls under way keep theirs. */
  reconfigure(limits: ClientLimits): void;
}

/**
 * Everything createDisClient needs. Credentials are a getter so a reload can swap them: when it returns different
 * ones, a cool-down that auth failures started ends (the new credentials get their try). With IAM credentials every
 * DIS request carries one shared IAM token as `X-Auth-Token` instead of an AK/SK signature; the token source drops
 * its token when the credentials change.
 */
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
  /**
   * Requests per second across all calls, retries included (a token bucket). `0` or `Infinity` turns the limit off.
   * Omitted: no limit. The config key `poll.maxRequestsPerSecond` defaults to DEFAULT_MAX_REQUESTS_PER_SECOND.
   */
  maxRequestsPerSecond?: number;
  /** The token bucket's size: requests sent at once after a quiet spell; default one second's worth, at least 1. */
  rateLimitBurst?: number;
  /**
   * The longest `Retry-After` (on 429 and 503) the client waits; a longer one fails the call at once, as does one
   * that ends at or after the call's `deadlineMs`. Default 60 000 ms.
   */
  maxRetryAfterMs?: number;
  /** How long no request is sent after DIS.4309 or `authFailuresBeforeCooldown` auth failures; default 600 000 ms (10 min), 0 turns it off. */
  cooldownMs?: number;
  /** Consecutive 401/APIGW.0301 responses, across all calls, that start a cool-down; default 3, 0 never. */
  authFailuresBeforeCooldown?: number;
  /** Called once when a cool-down starts, with the error (and message) every call fails with until it ends. */
  onCooldown?: (info: CooldownInfo) => void;
  /**
   * Called when an error response blames the host clock (APIGW.0303, or an auth failure whose `Date` header is minutes
   * off: clock-skew.ts), with this host's clock minus that `Date`, in seconds (when it has one).
   */
  onClockSkew?: (skewSeconds: number) => void;
  /** The largest response body read, decompressed; a larger one fails with bad_response. Default 8 MiB. */
  maxBodyBytes?: number;
  /**
   * After a failed IAM token request, no other is sent for this long and calls fail at once with its error;
   * the app passes the poll interval (one token request a cycle at most). Default 60 000 ms.
   */
  iamFailureBackoffMs?: number;
  /** An IAM token is replaced in the background this long before it expires (at most half its lifetime). Default 1 h. */
  iamRefreshAheadMs?: number;
  /** Called when an IAM token is obtained, and once for each new kind of token request failure (not per call). */
  onIamToken?: (event: IamTokenEvent) => void;
}>;

/** The limits of createDisClient that a reload may change (an omitted maxRequestsPerSecond turns the limit off). */
export type ClientLimits = Pick<
  DisClientOptions,
  'timeoutMs' | 'retries' | 'maxSockets' | 'maxRequestsPerSecond' | 'iamFailureBackoffMs' | 'iamRefreshAheadMs'
>;

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 10_000;
/** Default `maxRetryAfterMs`: a minute. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** Default `cooldownMs`: 10 minutes. */
export const DEFAULT_COOLDOWN_MS = 10 * 60_000;
/** Default `authFailuresBeforeCooldown`. */
export const DEFAULT_AUTH_FAILURES_BEFORE_COOLDOWN = 3;
/** Default `maxBodyBytes`: 8 MiB, far above a dump task's details or a page of 1000 partitions. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** The statuses whose Retry-After the client honours (RFC 9110 §10.2.3, RFC 6585 §4). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);
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
  /** The page's keys: each must be new (a key seen before means the server ignored the cursor). */
  keys: (page: P) => readonly string[];
  /** What the page after this one starts after: its last key as the server sent it; undefined for an empty page. */
  cursor: (page: P) => string | undefined;
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

/**
 * The result of one attempt: the body, or the error, how long the server asked us to wait before another, and the
 * IAM token the request carried (when it carried one).
 */
type Attempt =
  | { ok: true; body: string }
  | { ok: false; error: DisError; retryAfterMs: number | undefined; token?: string | undefined };

/** One request to send: the URL, what error messages show of it, its headers and body, and the AK/SK to sign it with. */
type Outgoing = Readonly<{
  operation: Operation;
  method: 'GET' | 'POST';
  url: string;
  /** The path (or, for IAM, the URL) messages name. */
  path: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
  signWith?: AccessKeyPair;
}>;

/** A response whose body was read (undefined: larger than the cap), or the error of a request that got none. */
type Sent = { ok: true; response: PlainResponse; body: string | undefined } | { ok: false; error: DisRequestError };

/** The got context key of the AK/SK the signing hook signs a request with; requests without one are not signed. */
const SIGN_WITH = 'disSignWith';

function isAccessKeyPair(value: unknown): value is AccessKeyPair {
  return typeof value === 'object' && value !== null && 'accessKey' in value && 'secretKey' in value;
}

/** A 401 (APIGW.0301 and the like): the token a request carried is expired or revoked. */
function rejectsToken(error: DisError): boolean {
  return error instanceof DisHttpError && (error.statusCode === 401 || error.apiCode === 'APIGW.0301');
}

/**
 * What a got stream brings: its response and the body as UTF-8 text (undefined, the socket destroyed, as soon as
 * the body is known to exceed `maxBytes`), or its error. Plain listeners rather than async iteration: this runs for
 * every request, and the iterator's promises and buffers cost more than the rest of reading a small body.
 */
function receive(stream: Request, maxBytes: number): Promise<Sent & { ok: true }> {
  return new Promise((resolve, reject) => {
    let response: PlainResponse | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      // Destroying the stream also closes its socket: the rest is never downloaded.
      stream.destroy();
      if (response !== undefined) resolve({ ok: true, response, body: undefined });
    };
    // The listener stays after the promise settled: an abort after the body ended errors the finished stream, and
    // an 'error' without a listener would crash the process.
    stream.on('error', reject);
    stream.once('response', (received: PlainResponse) => {
      response = received;
      // Content-Length counts the bytes on the wire, before decompression, so it can only say "too large" early.
      if (Number(received.headers['content-length']) > maxBytes) tooLarge();
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge();
      else chunks.push(chunk);
    });
    stream.once('end', () => {
      if (response === undefined) reject(new Error('the response ended before its headers'));
      else resolve({ ok: true, response, body: Buffer.concat(chunks, size).toString('utf8') });
    });
  });
}

/**
 * Creates the got-based client: AK/SK signing in a beforeRequest hook or an IAM token, keep-alive agents, our own
 * retries.
 */
export function createDisClient(options: DisClientOptions): HttpDisClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const random = options.random ?? Math.random;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const rateOf = (maxRequestsPerSecond = Infinity): Rate => ({
    requestsPerSecond: maxRequestsPerSecond,
    burst: options.rateLimitBurst ?? Math.ceil(maxRequestsPerSecond),
  });
  const limiter = createRateLimiter({ ...rateOf(options.maxRequestsPerSecond), clock: options.clock });
  const cooldown = createCooldownGuard({
    clock: options.clock,
    cooldownMs: options.cooldownMs ?? DEFAULT_COOLDOWN_MS,
    authFailures: options.authFailuresBeforeCooldown ?? DEFAULT_AUTH_FAILURES_BEFORE_COOLDOWN,
    ...(options.onCooldown === undefined ? {} : { onCooldown: options.onCooldown }),
    checkCredentials: () =>
      options.credentials().kind === 'iam' ? 'check the IAM user, its password and the project id' : CHECK_ACCESS_KEYS,
  });
  const base = `${options.endpoint.replace(/\/+$/, '')}/v2/${encodeURIComponent(options.projectId)}`;
  let limits = { timeoutMs: options.timeoutMs, retries: options.retries };
  let signingWith = options.credentials();
  const tokens = createIamTokenSource({
    projectId: options.projectId,
    clock: options.clock,
    ...iamTimings(options),
    // The token request shares the DIS requests' timeout, body cap, agents and request counting.
    send: async ({ url, path, body, signal }) => {
      const headers = { 'content-type': 'application/json;charset=utf8' };
      const sent = await send({ operation: 'iam_token', method: 'POST', url, path, headers, body }, signal);
      if (!sent.ok) throw sent.error;
      if (sent.body === undefined) throw tooLarge(`POST ${path}`);
      return { statusCode: sent.response.statusCode, headers: sent.response.headers, body: sent.body };
    },
    ...(options.onIamToken === undefined ? {} : { onEvent: options.onIamToken }),
  });

  const client: Got = got.extend({
    agent,
    headers: { 'user-agent': options.userAgent, accept: 'application/json' },
    // Retries are ours (below): got's would hide each attempt from the request self-metrics and ignore our clock.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    hooks: {
      beforeRequest: [
        (request) => {
          const keys = request.context[SIGN_WITH];
          if (!isAccessKeyPair(keys)) return;
          const url = request.url instanceof URL ? request.url : new URL(String(request.url));
          const signed = signRequest(
            { method: request.method, url, headers: request.headers },
            keys,
            options.clock.now(),
          );
          for (const [name, value] of Object.entries(signed)) request.headers[name.toLowerCase()] = value;
        },
      ],
    },
  });

  /** Fails a call that may not send now (a cool-down); every request waits for a rate-limit token first. */
  async function admit(signal: AbortSignal | undefined): Promise<void> {
    const credentials = options.credentials();
    if (credentials !== signingWith) {
      if (!isDeepStrictEqual(credentials, signingWith)) cooldown.credentialsChanged();
      signingWith = credentials;
    }
    const before = cooldown.blocked();
    if (before !== undefined) throw before;
    await limiter.acquire(signal);
    // A concurrent call may have started a cool-down while this one waited for its token.
    const after = cooldown.blocked();
    if (after !== undefined) throw after;
  }

  // got's stream API, not its promise: the promise buffers the whole body before we could look at its size.
  async function send(outgoing: Outgoing, signal: AbortSignal | undefined): Promise<Sent> {
    const { timeoutMs } = limits;
    const elapsed = startStopwatch();
    // The caller's signal is not handed to got, which never removes its 'abort' listener from a signal: on the
    // poller's long-lived one that would pile up a listener (holding the request) per request. An abort destroys
    // the stream instead, through a listener that lives only while this request runs.
    const stream = client.stream(outgoing.url, {
      method: outgoing.method,
      headers: outgoing.headers,
      ...(outgoing.body === undefined ? {} : { body: outgoing.body }),
      context: outgoing.signWith === undefined ? {} : { [SIGN_WITH]: outgoing.signWith },
    });
    const onAbort = (): void => {
      stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // One timer for the whole exchange, up to the body's last byte; got's own timeout machinery (per-phase timers
    // and listeners) costs more per request than the rest of this function.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stream.destroy(new Error(`no response within ${timeoutMs} ms`));
    }, timeoutMs);
    let sent: Sent & { ok: true };
    try {
      sent = await receive(stream, maxBodyBytes);
    } catch (error) {
      options.onRequest?.({ operation: outgoing.operation, code: 'error', durationSeconds: elapsed() });
      if (signal?.aborted) throw signal.reason;
      return {
        ok: false,
        error: toRequestError(error, outgoing.method, outgoing.path, timedOut ? timeoutMs : undefined),
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    options.onRequest?.({
      operation: outgoing.operation,
      code: String(sent.response.statusCode),
      durationSeconds: elapsed(),
    });
    return sent;
  }

  function tooLarge(request: string): DisResponseError {
    return new DisResponseError('', `response body larger than ${maxBodyBytes} bytes`).forRequest(request);
  }

  async function attempt(operation: Operation, path: string, signal: AbortSignal | undefined): Promise<Attempt> {
    await admit(signal);
    const credentials = options.credentials();
    // Fails the call (not retried here) when no token can be had; the token source reports that once.
    const token = credentials.kind === 'iam' ? await tokens.token(credentials, signal) : undefined;
    const sent = await send(
      {
        operation,
        method: 'GET',
        url: `${base}${path}`,
        path: displayPath(path),
        headers:
          token === undefined
            ? { 'x-project-id': options.projectId }
            : { 'x-project-id': options.projectId, 'x-auth-token': token },
        ...(credentials.kind === 'iam' ? {} : { signWith: credentials }),
      },
      signal,
    );
    if (!sent.ok) return { ok: false, error: sent.error, retryAfterMs: undefined };
    const { response, body } = sent;
    const { statusCode } = response;
    const ok = statusCode >= 200 && statusCode < 300;
    if (ok) cooldown.succeeded();
    if (body === undefined) return { ok: false, error: tooLarge(`GET ${displayPath(path)}`), retryAfterMs: undefined };
    if (ok) return { ok: true, body };
    const init = errorResponseInit(
      { method: 'GET', path: displayPath(path) },
      { statusCode, headers: response.headers, body },
    );
    const skewed = clockSkewErrorOf(init, response.headers.date, options.clock.now(), credentials.kind !== 'iam');
    if (skewed?.skewSeconds !== undefined) options.onClockSkew?.(skewed.skewSeconds);
    const error = skewed ?? new DisHttpError(init);
    const retryAfterMs = RETRY_AFTER_STATUSES.has(statusCode)
      ? parseRetryAfter(response.headers['retry-after'], options.clock.now())
      : undefined;
    return { ok: false, error, retryAfterMs, token };
  }

  async function request(
    operation: Operation,
    path: string,
    signal: AbortSignal | undefined,
    call: CallOptions | undefined,
  ): Promise<string> {
    const { retries } = limits;
    let tokenRenewed = false;
    for (let retry = 0; ;) {
      const outcome = await attempt(operation, path, signal);
      if (outcome.ok) return outcome.body;
      const { error, retryAfterMs, token } = outcome;
      if (token !== undefined && !tokenRenewed && rejectsToken(error)) {
        // The token expired or was revoked before its time (password or permission change): one fresh token and
        // one more try, outside poll.retries and the auth cool-down count.
        tokens.invalidate(token);
        tokenRenewed = true;
        continue;
      }
      if (error instanceof DisHttpError) cooldown.failed(error);
      if (!isRetryable(error.reason) || retry >= retries) throw error;
      if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) throw error;
      // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"), unless the server said when.
      const delayMs = retryAfterMs ?? Math.round(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry));
      if (call?.deadlineMs !== undefined && options.clock.now() + delayMs >= call.deadlineMs) throw error;
      await options.clock.sleep(delayMs, signal);
      retry++;
    }
  }

  async function fetchParsed<T>(
    operation: Operation,
    path: string,
    signal: AbortSignal | undefined,
    call: CallOptions | undefined,
    parse: (body: unknown) => T,
  ): Promise<T> {
    const body = await request(operation, path, signal, call);
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
    call: CallOptions | undefined,
  ): Promise<P[]> {
    const pages: P[] = [];
    const pageByKey = new Map<string, number>();
    let cursor: string | undefined;
    for (let number = 1; ; number++) {
      const path = paging.path(cursor);
      const page = await fetchParsed(paging.operation, path, signal, call, paging.parse);
      const failure = (problem: string) => new DisResponseError(paging.moreField, problem, `GET ${displayPath(path)}`);
      const keys = paging.keys(page);
      for (const key of keys) {
        const first = pageByKey.get(key);
        if (first !== undefined) {
          throw failure(
            `was true on page ${number - 1} but page ${number} repeats ${quoteForError(key)} from page ${first}`,
          );
        }
      }
      for (const key of keys) pageByKey.set(key, number);
      pages.push(page);
      if (!page.hasMore) return pages;
      const next = paging.cursor(page);
      if (next === undefined) throw failure(`is true but page ${number} lists no ${paging.noun}`);
      if (number >= MAX_PAGES) throw failure(`is still true after ${MAX_PAGES} pages`);
      cursor = next;
    }
  }

  function displayPath(path: string): string {
    return `/v2/${options.projectId}${path}`;
  }

  /** The error of a request that got no whole response; `timedOutAfterMs` when the client's timer ended it. */
  function toRequestError(
    error: unknown,
    method: string,
    path: string,
    timedOutAfterMs: number | undefined,
  ): DisRequestError {
    if (timedOutAfterMs !== undefined) {
      return new DisRequestError({
        method,
        path,
        reason: 'timeout',
        detail: `no response within ${timedOutAfterMs} ms`,
        cause: error,
      });
    }
    const code = error instanceof RequestError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return new DisRequestError({
      method,
      path,
      reason: 'network',
      detail: code === undefined ? message : `${code}: ${message}`,
      cause: error,
    });
  }

  return {
    async getDumpTask(stream, task, signal, call) {
      const path = `/streams/${encodeURIComponent(stream)}/transfer-tasks/${encodeURIComponent(task)}`;
      return fetchParsed('show_transfer_task', path, signal, call, (body) =>
        parseDumpTask(body, { stream, task, nowMs: options.clock.now() }),
      );
    },
    async listStreams(signal, call) {
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
          cursor: (page) => page.names.at(-1),
          moreField: 'has_more_streams',
          noun: 'streams',
        },
        signal,
        call,
      );
      return pages.flatMap((page) => page.names);
    },
    async listDumpTasks(stream, signal, call) {
      const path = `/streams/${encodeURIComponent(stream)}/transfer-tasks`;
      return fetchParsed('list_transfer_tasks', path, signal, call, parseDumpTaskList);
    },
    async getStream(stream, signal, call) {
      const streamPath = `/streams/${encodeURIComponent(stream)}`;
      const pages = await allPages(
        {
          operation: 'show_stream',
          path: (cursor) => {
            const query = new URLSearchParams({ limit_partitions: String(PARTITIONS_PER_PAGE) });
            if (cursor !== undefined) query.set('start_partitionId', cursor);
            return `${streamPath}${queryString(query)}`;
          },
          parse: (body) => parseStreamDetailsPage(body, { stream }),
          keys: (page) => page.partitions.map((partition) => partition.partitionId),
          cursor: (page) => page.cursor,
          moreField: 'has_more_partitions',
          noun: 'partitions',
        },
        signal,
        call,
      );
      const fieldIssues = firstIssuePerField(pages.flatMap((page) => page.fieldIssues ?? []));
      return Object.freeze({
        partitions: Object.freeze(pages.flatMap((page) => page.partitions)),
        ...(fieldIssues.length === 0 ? {} : { fieldIssues: Object.freeze(fieldIssues) }),
      });
    },
    cooldownUntilMs: () => cooldown.untilMs(),
    reconfigure(next) {
      limits = { timeoutMs: next.timeoutMs, retries: next.retries };
      agent.http.maxSockets = next.maxSockets;
      agent.https.maxSockets = next.maxSockets;
      limiter.setRate(rateOf(next.maxRequestsPerSecond));
      tokens.setTimings(iamTimings(next));
    },
    close() {
      tokens.close();
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

/** One issue per field: every page of stream details may echo the same odd `stream_name`. */
function firstIssuePerField(issues: readonly FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter(({ field }) => {
    if (seen.has(field)) return false;
    seen.add(field);
    return true;
  });
}

/** The token source's timings from the client's options or new limits, with their defaults. */
function iamTimings(limits: Pick<ClientLimits, 'iamFailureBackoffMs' | 'iamRefreshAheadMs'>): IamTokenTimings {
  return {
    failureBackoffMs: limits.iamFailureBackoffMs ?? DEFAULT_IAM_FAILURE_BACKOFF_MS,
    refreshAheadMs: limits.iamRefreshAheadMs ?? DEFAULT_IAM_REFRESH_AHEAD_MS,
  };
}
