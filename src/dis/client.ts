import type { Clock } from '../clock.js';
import type { Credentials, ProxySettings } from '../config/types.js';
import { createAdmission, type Admission } from './admission.js';
import { DisClockSkewError } from './clock-skew.js';
import type { CooldownInfo } from './cooldown.js';
import { readErrorAnswer } from './error-response.js';
import { type DisError, DisHttpError, DisResponseError } from './errors.js';
import { DEFAULT_IAM_FAILURE_BACKOFF_MS, DEFAULT_IAM_REFRESH_AHEAD_MS, sendTokenRequestsOver } from './iam-token.js';
import { sendMetadataRequestsOver } from './metadata-keys.js';
import {
  APPS_LISTING,
  consumerStateListing,
  dumpTaskListRequest,
  dumpTaskRequest,
  mergeAppListing,
  mergeConsumerState,
  mergeStreamDetails,
  STREAM_NAMES_LISTING,
  streamDetailsListing,
  type DisRequest,
  type Operation,
  type PagedRequest,
} from './operations.js';
import { walkPages, type Page } from './paging.js';
import { parseJsonBody } from './parse.js';
import type { CredentialEvent, RenewalTimings } from './renewing-credential.js';
import { createRequestAuthenticator, type RequestAuthenticator } from './request-auth.js';
import { calculateRetryDelay, STOP } from './retry-policy.js';
import { createTransport, type ApiRequestEvent, type Transport } from './transport.js';
import type { AppListing, ConsumerState, DumpTask, DumpTaskSummary, StreamDetails } from './types.js';

export type { ApiRequestEvent } from './transport.js';
export type { Operation } from './operations.js';
export type { CredentialEvent } from './renewing-credential.js';

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
  /** "Querying Apps", every page (limit=100, start_app_name = last name of the previous page while has_more_app). */
  listApps(signal?: AbortSignal, options?: CallOptions): Promise<AppListing>;
  /**
   * "Querying App Consumption Status" of an app in a stream, every page: checkpoint_type=LAST_READ, limit=1000,
   * start_partition_id = the last partition id of the previous page as DIS sent it, while has_more.
   */
  getConsumerState(app: string, stream: string, signal?: AbortSignal, options?: CallOptions): Promise<ConsumerState>;
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
 * ones, a cool-down that auth failures started ends (the new credentials get their try). With IAM or OIDC credentials
 * every DIS request carries one shared IAM token as `X-Auth-Token` instead of an AK/SK signature; with metadata
 * credentials requests are signed with the agency's temporary keys; a changed credential drops the token or keys.
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
  /** The proxy of DIS and IAM requests (never of the metadata service's); omitted: none. */
  proxy?: ProxySettings;
  /**
   * After a failed IAM token request or metadata key fetch, no other is sent for this long and calls fail at once
   * with its error; the app passes the poll interval (one a cycle at most). Default 60 000 ms.
   */
  credentialsFailureBackoffMs?: number;
  /** An IAM token is replaced in the background this long before it expires (at most half its lifetime). Default 1 h. */
  tokenRefreshAheadMs?: number;
  /**
   * Called when a token or temporary keys are obtained, and for every fetch of them that failed (`firstOfKind` for the
   * first of a new kind of failure, so that a log says it once).
   */
  onCredentials?: (event: CredentialEvent) => void;
}>;

/** The limits of createDisClient that a reload may change (an omitted maxRequestsPerSecond turns the limit off). */
export type ClientLimits = Pick<
  DisClientOptions,
  | 'timeoutMs'
  | 'retries'
  | 'maxSockets'
  | 'maxRequestsPerSecond'
  | 'credentialsFailureBackoffMs'
  | 'tokenRefreshAheadMs'
>;

/** Default `maxRetryAfterMs`: a minute. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** Default `cooldownMs`: 10 minutes. */
export const DEFAULT_COOLDOWN_MS = 10 * 60_000;
/** Default `authFailuresBeforeCooldown`. */
export const DEFAULT_AUTH_FAILURES_BEFORE_COOLDOWN = 3;
/** Default `maxBodyBytes`: 8 MiB, far above a dump task's details or a page of 1000 partitions. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Sockets kept for the metadata service: one fetch at a time. */
const METADATA_SOCKETS = 1;

/**
 * Creates the DIS client. It composes the transport (transport.ts: got, keep-alive agents, proxy, AK/SK signing,
 * timeout, body cap), the admission of each request (admission.ts: cool-down, rate limit), the authentication of each
 * request (request-auth.ts: IAM tokens and metadata keys, fetched over the transports, not through this client), the
 * reading of error answers (error-response.ts), the retry policy (retry-policy.ts), paging (paging.ts) and the
 * requests of each operation (operations.ts).
 */
export function createDisClient(options: DisClientOptions): HttpDisClient {
  const { clock } = options;
  const transportOptions = {
    userAgent: options.userAgent,
    clock,
    timeoutMs: options.timeoutMs,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
  };
  const transport = createTransport({
    ...transportOptions,
    maxSockets: options.maxSockets,
    ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
  });
  // Never through the proxy: the metadata service answers only on the server's own link-local address.
  const metadataTransport = createTransport({ ...transportOptions, maxSockets: METADATA_SOCKETS });
  const admission = createAdmission({
    clock,
    credentials: options.credentials,
    maxRequestsPerSecond: options.maxRequestsPerSecond,
    rateLimitBurst: options.rateLimitBurst,
    cooldownMs: options.cooldownMs ?? DEFAULT_COOLDOWN_MS,
    authFailuresBeforeCooldown: options.authFailuresBeforeCooldown ?? DEFAULT_AUTH_FAILURES_BEFORE_COOLDOWN,
    ...(options.onCooldown === undefined ? {} : { onCooldown: options.onCooldown }),
  });
  const auth = createRequestAuthenticator({
    projectId: options.projectId,
    clock,
    timings: renewalTimings(options),
    sendTokenRequest: sendTokenRequestsOver(transport),
    sendMetadataRequest: sendMetadataRequestsOver(metadataTransport),
    ...(options.onCredentials === undefined ? {} : { onEvent: options.onCredentials }),
  });
  let retries = options.retries;
  const parts: Parts = {
    options,
    transport,
    admission,
    auth,
    base: `${options.endpoint.replace(/\/+$/, '')}/v2/${encodeURIComponent(options.projectId)}`,
    retries: () => retries,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    random: options.random ?? Math.random,
  };
  const now = (): number => clock.now();

  return {
    async getDumpTask(stream, task, signal, call) {
      return fetchParsed(parts, dumpTaskRequest(stream, task, now), signal, call);
    },
    async listStreams(signal, call) {
      const pages = await fetchAllPages(parts, STREAM_NAMES_LISTING, signal, call);
      return pages.flatMap((page) => page.names);
    },
    async listDumpTasks(stream, signal, call) {
      return fetchParsed(parts, dumpTaskListRequest(stream), signal, call);
    },
    async getStream(stream, signal, call) {
      return mergeStreamDetails(await fetchAllPages(parts, streamDetailsListing(stream), signal, call));
    },
    async listApps(signal, call) {
      return mergeAppListing(await fetchAllPages(parts, APPS_LISTING, signal, call));
    },
    async getConsumerState(app, stream, signal, call) {
      return mergeConsumerState(await fetchAllPages(parts, consumerStateListing(app, stream), signal, call));
    },
    cooldownUntilMs: () => admission.cooldownUntilMs(),
    reconfigure(next) {
      retries = next.retries;
      transport.reconfigure({ timeoutMs: next.timeoutMs, maxSockets: next.maxSockets });
      metadataTransport.reconfigure({ timeoutMs: next.timeoutMs, maxSockets: METADATA_SOCKETS });
      admission.setMaxRequestsPerSecond(next.maxRequestsPerSecond);
      auth.setTimings(renewalTimings(next));
    },
    close() {
      auth.close();
      transport.close();
      metadataTransport.close();
    },
  };
}

/** The parts a client's calls go through, and the settings each call reads. */
type Parts = Readonly<{
  options: DisClientOptions;
  transport: Transport;
  admission: Admission;
  auth: RequestAuthenticator;
  /** The prefix of every DIS request's URL: the endpoint and `/v2/{project_id}`. */
  base: string;
  /** `poll.retries` as it is now (a reload changes it for the calls that start later). */
  retries: () => number;
  maxRetryAfterMs: number;
  random: () => number;
}>;

/**
 * The result of one attempt: the body, or the error, how long the server asked us to wait before another, and how to
 * drop the token or temporary keys the request carried (when it carried such).
 */
type Attempt =
  | { ok: true; body: string }
  | { ok: false; error: DisError; retryAfterMs: number | undefined; renew?: (() => void) | undefined };

/** One request of a call: admitted, authenticated (AK/SK, IAM token or temporary keys), sent, its answer read. */
async function attempt(
  parts: Parts,
  operation: Operation,
  path: string,
  signal: AbortSignal | undefined,
): Promise<Attempt> {
  const { options, admission, transport } = parts;
  await admission.admit(signal);
  // Fails the call (not retried here) when no token or keys can be had; the authenticator reports that.
  const auth = await parts.auth.authenticate(options.credentials(), signal);
  const request = { method: 'GET', path: displayPath(options.projectId, path) } as const;
  const sent = await transport.send(
    {
      operation,
      ...request,
      url: `${parts.base}${path}`,
      headers: { 'x-project-id': options.projectId, ...auth.headers },
      ...(auth.signWith === undefined ? {} : { signWith: auth.signWith }),
    },
    signal,
  );
  if (!sent.ok) return { ok: false, error: sent.error, retryAfterMs: undefined };
  const { response, body } = sent;
  const { statusCode } = response;
  const ok = statusCode >= 200 && statusCode < 300;
  if (ok) admission.succeeded();
  if (body === undefined)
    return { ok: false, error: transport.tooLarge(`GET ${request.path}`), retryAfterMs: undefined };
  if (ok) return { ok: true, body };
  const answer = readErrorAnswer(
    request,
    { statusCode, headers: response.headers, body },
    options.clock.now(),
    auth.signWith !== undefined,
  );
  if (answer.error instanceof DisClockSkewError && answer.error.skewSeconds !== undefined) {
    options.onClockSkew?.(answer.error.skewSeconds);
  }
  return { ok: false, ...answer, renew: auth.renew };
}

/** One call: attempts until one succeeds or the retry policy stops, then the body or the last error. */
async function request(
  parts: Parts,
  operation: Operation,
  path: string,
  signal: AbortSignal | undefined,
  call: CallOptions | undefined,
): Promise<string> {
  const retries = parts.retries();
  const { clock } = parts.options;
  let renewed = false;
  for (let retry = 0; ;) {
    const outcome = await attempt(parts, operation, path, signal);
    if (outcome.ok) return outcome.body;
    const { error, retryAfterMs, renew } = outcome;
    if (renew !== undefined && !renewed && rejectsCredentials(error)) {
      // The token or keys expired or were revoked before their time (a password, permission or agency change): one
      // fresh set and one more try, outside poll.retries and the auth cool-down count.
      renew();
      renewed = true;
      continue;
    }
    if (error instanceof DisHttpError) parts.admission.failed(error);
    const delayMs = calculateRetryDelay({
      error,
      retry,
      retries,
      retryAfterMs,
      maxRetryAfterMs: parts.maxRetryAfterMs,
      deadlineMs: call?.deadlineMs,
      nowMs: clock.now(),
      random: parts.random,
    });
    if (delayMs === STOP) throw error;
    await clock.sleep(delayMs, signal);
    retry++;
  }
}

/** One call whose JSON body is parsed; a DisResponseError names the request. */
async function fetchParsed<T>(
  parts: Parts,
  { operation, path, parse }: DisRequest<T>,
  signal: AbortSignal | undefined,
  call: CallOptions | undefined,
): Promise<T> {
  const body = await request(parts, operation, path, signal, call);
  try {
    return parse(parseJsonBody(body));
  } catch (error) {
    throw error instanceof DisResponseError
      ? error.forRequest(`GET ${displayPath(parts.options.projectId, path)}`)
      : error;
  }
}

/** Every page of a listing, each page one call. */
function fetchAllPages<P extends Page>(
  parts: Parts,
  listing: PagedRequest<P>,
  signal: AbortSignal | undefined,
  call: CallOptions | undefined,
): Promise<P[]> {
  return walkPages(
    listing,
    (path) => fetchParsed(parts, { operation: listing.operation, path, parse: listing.parse }, signal, call),
    (path) => `GET ${displayPath(parts.options.projectId, path)}`,
  );
}

/** The path error messages show: the request's path, project id included, without the endpoint. */
function displayPath(projectId: string, path: string): string {
  return `/v2/${projectId}${path}`;
}

/** A 401 (APIGW.0301 and the like): the token or temporary keys a request carried are expired or revoked. */
function rejectsCredentials(error: DisError): boolean {
  return error instanceof DisHttpError && (error.statusCode === 401 || error.apiCode === 'APIGW.0301');
}

/** The renewal timings from the client's options or new limits, with their defaults. */
function renewalTimings(
  limits: Pick<ClientLimits, 'credentialsFailureBackoffMs' | 'tokenRefreshAheadMs'>,
): RenewalTimings {
  return {
    failureBackoffMs: limits.credentialsFailureBackoffMs ?? DEFAULT_IAM_FAILURE_BACKOFF_MS,
    refreshAheadMs: limits.tokenRefreshAheadMs ?? DEFAULT_IAM_REFRESH_AHEAD_MS,
  };
}
