import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.js';
import { FILE_SIZE_LIMITS, FileReadError, readRegularFile } from '../config/read-regular-file.js';
import type { IamPasswordCredentials, OidcCredentials } from '../config/types.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError } from './errors.js';
import { errorResponseInit } from './error-response.js';
import type { Operation } from './operations.js';
import { parseJsonBody } from './parse.js';
import {
  createRenewingCredential,
  type CredentialEvent,
  type Fetched,
  type RenewalTimings,
  type RenewingCredential,
} from './renewing-credential.js';
import type { Transport } from './transport.js';

/**
 * "Obtaining a User Token Through Password Authentication", relative to the IAM endpoint (docs/dis-api.md
 * ("IAM tokens")).
 */
export const IAM_TOKENS_PATH = '/v3/auth/tokens';
/** "Obtaining a Token with an OpenID Connect ID Token", relative to the IAM endpoint (docs/dis-api.md ("Workload identity")). */
export const ID_TOKEN_TOKENS_PATH = '/v3.0/OS-AUTH/id-token/tokens';

/** Default `refreshAheadMs`: an hour before expiry (tokens live 24 h). */
export const DEFAULT_IAM_REFRESH_AHEAD_MS = 60 * 60_000;
/** Default `failureBackoffMs`: a minute, the default poll interval. */
export const DEFAULT_IAM_FAILURE_BACKOFF_MS = 60_000;
/** A token is no longer used this long before it expires (the IAM docs warn that one about to expire may fail). */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Credentials traded for an IAM token: an IAM user's password, or a workload's service-account JWT. */
export type TokenCredentials = IamPasswordCredentials | OidcCredentials;

/** A token request: where it goes, what error messages name, its extra headers and its body. */
export type TokenRequest = Readonly<{
  operation: Operation;
  url: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}>;

/** A response to a token request. */
export type TokenResponse = Readonly<{ statusCode: number; headers: IncomingHttpHeaders; body: string }>;

/**
 * Sends one token request. Rejects with a DisRequestError when no response came, and with a DisResponseError when the
 * body exceeds the cap.
 */
export type SendTokenRequest = (request: TokenRequest & Readonly<{ signal: AbortSignal }>) => Promise<TokenResponse>;

/**
 * Sends token requests over the DIS client's transport (its timeout, body cap, agents, proxy and request counting),
 * never through the client itself: a token request is not admitted, authenticated or retried like a DIS call, and
 * the token source needs nothing of the client that asks it for tokens.
 */
export function sendTokenRequestsOver(transport: Transport): SendTokenRequest {
  return async ({ operation, url, path, headers, body, signal }) => {
    const sent = await transport.send({ operation, method: 'POST', url, path, headers, body }, signal);
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

/** The ID token file could not be read (missing, empty, too large): the exchange is not even tried. */
export class IdTokenFileError extends DisError {
  override name = 'IdTokenFileError';

  constructor(file: string, reason: string) {
    super(`cannot read auth.oidc.idTokenFile "${file}": ${reason}`, { code: 'ERR_ID_TOKEN_FILE', reason: 'auth' });
  }
}

/** How tokens are fetched and kept. */
export type IamTokenSourceOptions = Readonly<{
  /** The project the tokens are scoped to. */
  projectId: string;
  clock: Clock;
  send: SendTokenRequest;
  timings: RenewalTimings;
  onEvent?: (event: CredentialEvent) => void;
  /** Reads the ID token file; default: the capped regular-file reader. Rejects with a FileReadError. */
  readIdToken?: (file: string) => Promise<string>;
}>;

/** One IAM token shared by every request of a client, from a password or from an OIDC ID token. */
export type IamTokenSource = RenewingCredential<TokenCredentials, string>;

/**
 * Creates the token source a client shares across its calls: password and OIDC credentials each build their own
 * request (passwordTokenRequest, idTokenTokenRequest); both answer alike, with the token in `X-Subject-Token` and its
 * expiry in the body.
 */
export function createIamTokenSource(options: IamTokenSourceOptions): IamTokenSource {
  const readIdToken = options.readIdToken ?? ((file) => readRegularFile(file, FILE_SIZE_LIMITS.token));
  async function exchange(
    credentials: TokenCredentials,
    signal: AbortSignal,
    startedMs: number,
  ): Promise<Fetched<string>> {
    const noun = credentials.kind === 'iam' ? 'no IAM token' : 'no IAM token for the OIDC ID token';
    const fail = (cause: DisError): IamTokenError =>
      new IamTokenError(`${noun}: ${cause.message}${remedyFor(cause, credentials, options.projectId)}`, cause);
    let request: TokenRequest;
    if (credentials.kind === 'iam') {
      request = passwordTokenRequest(credentials, options.projectId);
    } else {
      let jwt: string;
      try {
        // Read for every exchange: the kubelet rotates the projected token well before it expires.
        jwt = (await readIdToken(credentials.idTokenFile)).trim();
      } catch (error) {
        if (!(error instanceof FileReadError)) throw error;
        throw fail(new IdTokenFileError(credentials.idTokenFile, error.reason));
      }
      if (jwt === '') throw fail(new IdTokenFileError(credentials.idTokenFile, 'file is empty'));
      request = idTokenTokenRequest(credentials, jwt, options.projectId);
    }
    try {
      const response = await options.send({ ...request, signal });
      const { token, lifetimeMs } = readTokenResponse(response, request.path, startedMs);
      return { value: token, expiresAtMs: startedMs + lifetimeMs };
    } catch (error) {
      throw error instanceof DisError ? fail(error) : error;
    }
  }

  return createRenewingCredential<TokenCredentials, string>({
    methodOf: (credentials) => credentials.kind,
    clock: options.clock,
    timings: options.timings,
    expiryMarginMs: EXPIRY_MARGIN_MS,
    identity,
    fetch: exchange,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
}

/** Identifies the credentials without keeping another copy of the password (the JWT file's path, not its contents). */
function identity(credentials: TokenCredentials): string {
  const parts =
    credentials.kind === 'iam'
      ? ['iam', credentials.endpoint, credentials.domain, credentials.username, credentials.password]
      : ['oidc', credentials.endpoint, credentials.idpId, credentials.idTokenFile];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The password method's request, scoped to the project (docs/dis-api.md ("IAM tokens")). */
export function passwordTokenRequest(credentials: IamPasswordCredentials, projectId: string): TokenRequest {
  const path = `${credentials.endpoint}${IAM_TOKENS_PATH}`;
  const user = { name: credentials.username, password: credentials.password, domain: { name: credentials.domain } };
  return {
    operation: 'iam_token',
    url: `${path}?nocatalog=true`,
    path,
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user } }, scope: { project: { id: projectId } } },
    }),
  };
}

/** The OIDC ID token's request, scoped to the project (docs/dis-api.md ("Workload identity")). */
export function idTokenTokenRequest(credentials: OidcCredentials, jwt: string, projectId: string): TokenRequest {
  const path = `${credentials.endpoint}${ID_TOKEN_TOKENS_PATH}`;
  return {
    operation: 'oidc_token',
    url: path,
    path,
    headers: { 'content-type': 'application/json;charset=utf8', 'x-idp-id': credentials.idpId },
    body: JSON.stringify({ auth: { id_token: { id: jwt }, scope: { project: { id: projectId } } } }),
  };
}

/** What to fix, after the error text: `; check ...`, or "" when it is not the configuration. */
function remedyFor(cause: DisError, credentials: TokenCredentials, projectId: string): string {
  const section = credentials.kind === 'iam' ? 'auth.iam' : 'auth.oidc';
  const endpoint = `check ${section}.endpoint, which must be an IAM endpoint like https://iam.cn-north-4.myhuaweicloud.com`;
  if (cause instanceof IdTokenFileError) {
    return '; check auth.oidc.idTokenFile and the projected service-account token volume that provides it';
  }
  if (cause instanceof DisRequestError) return `; check ${section}.endpoint and the network path to it`;
  if (cause instanceof DisResponseError) return `; ${endpoint}`;
  if (!(cause instanceof DisHttpError)) return '';
  if (cause.statusCode === 404) return `; ${endpoint}`;
  if (credentials.kind === 'oidc') {
    if (cause.statusCode === 400 || cause.statusCode === 401) {
      return (
        `; IAM rejected the service-account token for identity provider ${JSON.stringify(credentials.idpId)}: check ` +
        "auth.oidc.idpId, the provider's signing key (the cluster's JWKS) and that the token's audience is the " +
        "provider's client ID"
      );
    }
    if (cause.statusCode === 403) {
      return (
        `; IAM refused a token for project ${projectId}: check the identity provider's conversion rules and the ` +
        'permissions of the user group they map the service account to'
      );
    }
    return '';
  }
  const user = `user ${JSON.stringify(credentials.username)} of domain ${JSON.stringify(credentials.domain)}`;
  if (cause.statusCode === 401) {
    return `; IAM rejected ${user}: check auth.iam.domain, auth.iam.username and auth.iam.password (or auth.iam.passwordFile)`;
  }
  if (cause.statusCode === 403) {
    return `; IAM refused ${user} a token for project ${projectId}: check the user's permissions and dis.projectId`;
  }
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
  const expiresAtMs = readTime(details, 'token.expires_at', request, true);
  const issuedAtMs = readTime(details, 'token.issued_at', request, false);
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

/**
 * An ISO 8601 time field of `details` (named `field` in errors), in ms since the epoch; undefined when it is absent
 * and not `required`. Throws a DisResponseError for any other value.
 */
export function readTime(details: Record<string, unknown>, field: string, request: string, required: true): number;
export function readTime(
  details: Record<string, unknown>,
  field: string,
  request: string,
  required: false,
): number | undefined;
export function readTime(
  details: Record<string, unknown>,
  field: string,
  request: string,
  required: boolean,
): number | undefined {
  const value = details[field.slice(field.lastIndexOf('.') + 1)];
  if (value === undefined && !required) return undefined;
  const ms = typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
    throw new DisResponseError(
      field,
      `must be an ISO 8601 time like 2024-01-02T00:00:00.000000Z (got ${got})`,
      request,
    );
  }
  return ms;
}

// IAM writes microseconds (2019-02-13T06:52:13.855000Z); Date.parse takes any number of fraction digits.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Whether a JSON value is an object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
