import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.js';
import type { IamPasswordCredentials } from '../config/types.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError } from './errors.js';
import { errorResponseInit } from './error-response.js';
import { parseJsonBody } from './parse.js';
import type { Transport } from './transport.js';

/**
 * "Obtaining a User Token Through Password Authentication", relative to the IAM endpoint (docs/dis-api.md
 * ("IAM tokens")).
 */
export const IAM_TOKENS_PATH = '/v3/auth/tokens';

/** Default `refreshAheadMs`: an hour before expiry (tokens live 24 h). */
export const DEFAULT_IAM_REFRESH_AHEAD_MS = 60 * 60_000;
/** Default `failureBackoffMs`: a minute, the default poll interval. */
export const DEFAULT_IAM_FAILURE_BACKOFF_MS = 60_000;
/** A token is no longer used this long before it expires (the IAM docs warn that one about to expire may fail). */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** A response to a token request. */
export type TokenResponse = Readonly<{ statusCode: number; headers: IncomingHttpHeaders; body: string }>;

/**
 * Sends one token request. `path` is what error messages show. Rejects with a DisRequestError when no response came,
 * and with a DisResponseError when the body exceeds the cap.
 */
export type SendTokenRequest = (
  request: Readonly<{ url: string; path: string; body: string; signal: AbortSignal }>,
) => Promise<TokenResponse>;

/**
 * Sends token requests over the DIS client's transport (its timeout, body cap, agents and request counting), never
 * through the client itself: a token request is not admitted, authenticated or retried like a DIS call, and the
 * token source needs nothing of the client that asks it for tokens.
 */
export function sendTokenRequestsOver(transport: Transport): SendTokenRequest {
  return async ({ url, path, body, signal }) => {
    const headers = { 'content-type': 'application/json;charset=utf8' };
    const sent = await transport.send({ operation: 'iam_token', method: 'POST', url, path, headers, body }, signal);
    if (!sent.ok) throw sent.error;
    if (sent.body === undefined) throw transport.tooLarge(`POST ${path}`);
    return { statusCode: sent.response.statusCode, headers: sent.response.headers, body: sent.body };
  };
}

/** No token could be had: every call that needs one fails with this, its `reason` that of the token request. */
export class IamTokenError extends DisError {
  override name = 'IamTokenError';

  constructor(message: string, cause: DisError) {
    super(message, { code: 'ERR_IAM_TOKEN', reason: cause.reason, cause, reported: true });
  }
}

/** What the token source reports: a token obtained, or a token request that failed (once per kind of failure). */
export type IamTokenEvent =
  | Readonly<{ kind: 'obtained'; expiresAtMs: number; recovered: boolean }>
  | Readonly<{ kind: 'failed'; error: IamTokenError; retryAtMs: number }>;

/** How tokens are fetched and kept. */
export type IamTokenSourceOptions = Readonly<{
  /** `dis.projectId`: the token's scope. */
  projectId: string;
  clock: Clock;
  send: SendTokenRequest;
  /** After a failed token request, no other is sent for this long (the poll interval: one a cycle at most). */
  failureBackoffMs: number;
  /** A token is replaced in the background from this long before it expires (at most half its lifetime). */
  refreshAheadMs: number;
  onEvent?: (event: IamTokenEvent) => void;
}>;

/** One IAM token shared by every request of a client. */
export interface IamTokenSource {
  /**
   * A token for these credentials: the cached one while it is fresh (starting a background refresh once it is
   * due), else one fetched now, a single request shared by concurrent callers. Rejects with an IamTokenError.
   */
  token(credentials: IamPasswordCredentials, signal?: AbortSignal): Promise<string>;
  /** Drops `token` if it is still the cached one: DIS rejected it (expired early, revoked). */
  invalidate(token: string): void;
  /** New timings (a reload changed the poll interval), for the token requests and refreshes from now on. */
  setTimings(timings: IamTokenTimings): void;
  /** Aborts a token request in flight. */
  close(): void;
}

/** The timings of IamTokenSourceOptions that a reload may change. */
export type IamTokenTimings = Pick<IamTokenSourceOptions, 'failureBackoffMs' | 'refreshAheadMs'>;

type CachedToken = Readonly<{ key: string; token: string; refreshAtMs: number; staleAtMs: number }>;
type Failure = Readonly<{ key: string; error: IamTokenError; retryAtMs: number }>;

/** Creates the token source a client shares across its calls. */
export function createIamTokenSource(options: IamTokenSourceOptions): IamTokenSource {
  let timings: IamTokenTimings = { failureBackoffMs: options.failureBackoffMs, refreshAheadMs: options.refreshAheadMs };
  const { clock } = options;
  const lifetime = new AbortController();
  let wantedKey: string | undefined;
  let cached: CachedToken | undefined;
  let inFlight: { key: string; promise: Promise<string> } | undefined;
  let failure: Failure | undefined;
  // The kind of the last failure reported, so a failure repeating every cycle is reported once; and whether one
  // was reported since the last token, so the next token is reported as a recovery (across a reload too).
  let reportedKind: string | undefined;
  let failing = false;

  function fetchShared(credentials: IamPasswordCredentials, key: string): Promise<string> {
    if (inFlight?.key === key) return inFlight.promise;
    if (failure?.key === key && clock.now() < failure.retryAtMs) return Promise.reject(failure.error);
    const startedMs = clock.now();
    const promise = requestToken(credentials, startedMs).then(
      (issued) => {
        // A token of credentials replaced meanwhile (a reload) is handed to the callers that asked, never cached.
        if (key !== wantedKey) return issued.token;
        cached = { key, token: issued.token, ...schedule(startedMs, issued.lifetimeMs, timings.refreshAheadMs) };
        failure = undefined;
        const recovered = failing;
        reportedKind = undefined;
        failing = false;
        options.onEvent?.({ kind: 'obtained', expiresAtMs: startedMs + issued.lifetimeMs, recovered });
        return issued.token;
      },
      (error: unknown) => {
        if (!(error instanceof IamTokenError) || key !== wantedKey) throw error;
        const kind = failureKind(error);
        const retryAtMs = startedMs + timings.failureBackoffMs;
        failure = { key, error, retryAtMs };
        if (kind !== reportedKind) {
          reportedKind = kind;
          failing = true;
          options.onEvent?.({ kind: 'failed', error, retryAtMs });
        }
        throw error;
      },
    );
    const entry = { key, promise };
    inFlight = entry;
    const clear = (): void => {
      if (inFlight === entry) inFlight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  async function requestToken(
    credentials: IamPasswordCredentials,
    startedMs: number,
  ): Promise<{ token: string; lifetimeMs: number }> {
    const path = `${credentials.endpoint}${IAM_TOKENS_PATH}`;
    const fail = (cause: DisError): IamTokenError =>
      new IamTokenError(`no IAM token: ${cause.message}${remedyFor(cause, credentials, options.projectId)}`, cause);
    let response: TokenResponse;
    try {
      response = await options.send({
        url: `${path}?nocatalog=true`,
        path,
        body: tokenRequestBody(credentials, options.projectId),
        signal: lifetime.signal,
      });
    } catch (error) {
      throw error instanceof DisError ? fail(error) : error;
    }
    try {
      return readTokenResponse(response, path, startedMs);
    } catch (error) {
      throw error instanceof DisError ? fail(error) : error;
    }
  }

  return {
    setTimings(next) {
      timings = { failureBackoffMs: next.failureBackoffMs, refreshAheadMs: next.refreshAheadMs };
    },
    async token(credentials, signal) {
      const key = identity(credentials);
      // A changed credential (a reload) drops the token and the back-off of the old one.
      if (key !== wantedKey) {
        wantedKey = key;
        cached = undefined;
        failure = undefined;
        reportedKind = undefined;
      }
      const now = clock.now();
      if (cached !== undefined && now < cached.staleAtMs) {
        // Failures of a background refresh are reported through onEvent; the current token stays usable.
        if (now >= cached.refreshAtMs) fetchShared(credentials, key).catch(() => {});
        return cached.token;
      }
      return abortable(fetchShared(credentials, key), signal);
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
    close() {
      lifetime.abort(new Error('client closed'));
    },
  };
}

/**
 * When a token requested at `startedMs` with this lifetime is refreshed in the background, and when it is no
 * longer used (a call then waits for a new one). The lifetime counts from the request, not the response, to err early.
 */
function schedule(
  startedMs: number,
  lifetimeMs: number,
  refreshAheadMs: number,
): { refreshAtMs: number; staleAtMs: number } {
  const expiresAtMs = startedMs + lifetimeMs;
  return {
    refreshAtMs: expiresAtMs - Math.min(refreshAheadMs, lifetimeMs / 2),
    staleAtMs: expiresAtMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 10),
  };
}

/** Identifies the credentials without keeping another copy of the password. */
function identity(credentials: IamPasswordCredentials): string {
  const { endpoint, domain, username, password } = credentials;
  return createHash('sha256')
    .update(JSON.stringify([endpoint, domain, username, password]))
    .digest('hex');
}

/** Failures of the same kind are reported once: the same error code, HTTP status and API error code. */
function failureKind(error: IamTokenError): string {
  const cause = error.cause;
  if (cause instanceof DisHttpError) return `${cause.code} ${cause.statusCode} ${cause.apiCode ?? ''}`;
  return cause instanceof DisError ? cause.code : error.code;
}

/** The request body of the password method, scoped to the project (docs/dis-api.md ("IAM tokens")). */
export function tokenRequestBody(credentials: IamPasswordCredentials, projectId: string): string {
  const user = { name: credentials.username, password: credentials.password, domain: { name: credentials.domain } };
  return JSON.stringify({
    auth: { identity: { methods: ['password'], password: { user } }, scope: { project: { id: projectId } } },
  });
}

/** What to fix, after the error text: `; check ...`, or "" when it is not the configuration. */
function remedyFor(cause: DisError, credentials: IamPasswordCredentials, projectId: string): string {
  const endpoint =
    'check auth.iam.endpoint, which must be an IAM endpoint like https://iam.cn-north-4.myhuaweicloud.com';
  if (cause instanceof DisRequestError) return '; check auth.iam.endpoint and the network path to it';
  if (cause instanceof DisResponseError) return `; ${endpoint}`;
  if (!(cause instanceof DisHttpError)) return '';
  const user = `user ${JSON.stringify(credentials.username)} of domain ${JSON.stringify(credentials.domain)}`;
  if (cause.statusCode === 401) {
    return `; IAM rejected ${user}: check auth.iam.domain, auth.iam.username and auth.iam.password (or auth.iam.passwordFile)`;
  }
  if (cause.statusCode === 403) {
    return `; IAM refused ${user} a token for project ${projectId}: check the user's permissions and dis.projectId`;
  }
  if (cause.statusCode === 404) return `; ${endpoint}`;
  return '';
}

/** The token and its lifetime from a 2xx (201) response; a DisHttpError or DisResponseError otherwise. */
function readTokenResponse(
  response: TokenResponse,
  path: string,
  startedMs: number,
): { token: string; lifetimeMs: number } {
  const { statusCode, headers, body } = response;
  const request = `POST ${path}`;
  if (statusCode < 200 || statusCode >= 300) {
    throw new DisHttpError(errorResponseInit({ method: 'POST', path }, response));
  }
  const subjectToken = headers['x-subject-token'];
  const token = typeof subjectToken === 'string' ? subjectToken.trim() : '';
  if (token === '') throw new DisResponseError('X-Subject-Token', 'header is missing', request);
  let json: unknown;
  try {
    json = parseJsonBody(body);
  } catch (error) {
    throw error instanceof DisResponseError ? error.forRequest(request) : error;
  }
  const details = isObject(json) ? json['token'] : undefined;
  if (!isObject(details)) throw new DisResponseError('token', 'must be an object', request);
  const expiresAtMs = readTime(details, 'expires_at', request, true);
  const issuedAtMs = readTime(details, 'issued_at', request, false);
  // Measured from issued_at (both IAM's clock), the lifetime does not depend on how far this host's clock is off.
  const lifetimeMs = expiresAtMs - (issuedAtMs ?? startedMs);
  if (!(lifetimeMs > 0)) {
    throw new DisResponseError(
      'token.expires_at',
      `is not after ${issuedAtMs === undefined ? 'now' : 'issued_at'}`,
      request,
    );
  }
  return { token, lifetimeMs };
}

function readTime(details: Record<string, unknown>, key: string, request: string, required: true): number;
function readTime(details: Record<string, unknown>, key: string, request: string, required: false): number | undefined;
function readTime(
  details: Record<string, unknown>,
  key: string,
  request: string,
  required: boolean,
): number | undefined {
  const value = details[key];
  if (value === undefined && !required) return undefined;
  const ms = typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
    throw new DisResponseError(
      `token.${key}`,
      `must be an ISO 8601 time like 2024-01-02T00:00:00.000000Z (got ${got})`,
      request,
    );
  }
  return ms;
}

// IAM writes microseconds (2019-02-13T06:52:13.855000Z); Date.parse takes any number of fraction digits.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The promise, or the signal's reason once it aborts first; the promise itself runs on for other callers. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
