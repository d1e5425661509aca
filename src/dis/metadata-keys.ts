import type { Clock } from '../clock.js';
import type { AccessKeyPair, MetadataCredentials } from '../config/types.js';
import { DisError, DisHttpError, DisRequestError, DisResponseError } from './errors.js';
import { errorResponseInit, type ReadResponse } from './error-response.js';
import { isObject, readTime } from './iam-token.js';
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

/** The session token request (docs/dis-api.md ("Agency keys from the metadata service")). */
export const METADATA_TOKEN_PATH = '/meta-data/latest/api/token';
/** The security key request: the agency's temporary AK/SK and security token. */
export const SECURITY_KEY_PATH = '/openstack/latest/securitykey';
/** How long a session token is asked to live: 6 h, as Huawei's SDKs ask. */
export const SESSION_TOKEN_TTL_SECONDS = 6 * 3600;
/** The service renews its keys this long before they expire, old and new valid meanwhile: fetch again from then on. */
export const METADATA_RENEWAL_LEAD_MS = 10 * 60_000;
/** Keys are no longer used this long before they expire (they stay valid until then; this covers clock drift). */
const EXPIRY_MARGIN_MS = 60_000;
/** A session token is asked for again this long before its TTL runs out. */
const SESSION_TOKEN_MARGIN_MS = 5 * 60_000;
/** What the service answers when no agency is bound to the server (Huawei's SDKs look for it). */
const NO_AGENCY_MESSAGE = 'Please configure Cloud Service Agency first';

/** No temporary keys could be had: every call fails with this, its `reason` that of the failed request. */
export class MetadataKeyError extends DisError {
  override name = 'MetadataKeyError';

  constructor(message: string, cause: DisError) {
    super(message, { code: 'ERR_METADATA_KEYS', reason: cause.reason, cause, reported: true });
  }
}

/** One request to the metadata service. */
type MetadataRequest = Readonly<{
  operation: Operation;
  method: 'GET' | 'PUT';
  path: string;
  headers: Readonly<Record<string, string>>;
}>;

/** Sends one request to the metadata service; rejects with a DisError when no whole response came. */
export type SendMetadataRequest = (
  endpoint: string,
  request: MetadataRequest,
  signal: AbortSignal,
) => Promise<ReadResponse>;

/**
 * Sends metadata requests over a transport of their own, which never uses a proxy: the service answers only on the
 * link-local address of the server itself.
 */
export function sendMetadataRequestsOver(transport: Transport): SendMetadataRequest {
  return async (endpoint, { operation, method, path, headers }, signal) => {
    const url = `${endpoint}${path}`;
    // An empty body ends the PUT: got's stream otherwise waits for one to be written.
    const body = method === 'PUT' ? { body: '' } : {};
    const sent = await transport.send({ operation, method, url, path: url, headers, ...body }, signal);
    if (!sent.ok) throw sent.error;
    if (sent.body === undefined) throw transport.tooLarge(`${method} ${url}`);
    return { statusCode: sent.response.statusCode, headers: sent.response.headers, body: sent.body };
  };
}

/** How temporary keys are fetched and kept. */
export type MetadataKeySourceOptions = Readonly<{
  clock: Clock;
  send: SendMetadataRequest;
  /** Only `failureBackoffMs` is used: the keys are fetched again from METADATA_RENEWAL_LEAD_MS before they expire. */
  timings: RenewalTimings;
  onEvent?: (event: CredentialEvent) => void;
}>;

/** The agency's temporary keys, shared by every request of a client. */
export type MetadataKeySource = RenewingCredential<MetadataCredentials, AccessKeyPair>;

/** The session token: one to send, none because the service has no such API, or none asked for yet. */
type Session = Readonly<{ token: string; expiresAtMs: number }> | 'unsupported' | undefined;

/**
 * Creates the key source: a session token first where the service offers one (`PUT` METADATA_TOKEN_PATH; a 404 or
 * 405 means it does not), then the keys (`GET` SECURITY_KEY_PATH with `X-Metadata-Token`), again once the service
 * renews them and after DIS rejects them. A 401 to the key request asks for a new session token once.
 */
export function createMetadataKeySource(options: MetadataKeySourceOptions): MetadataKeySource {
  const { clock, send } = options;
  let session: Session;

  async function sessionToken(endpoint: string, signal: AbortSignal, renew: boolean): Promise<string | undefined> {
    const now = clock.now();
    if (!renew && session === 'unsupported') return undefined;
    if (!renew && typeof session === 'object' && now < session.expiresAtMs) return session.token;
    const request = {
      operation: 'metadata_token',
      method: 'PUT',
      path: METADATA_TOKEN_PATH,
      headers: { 'x-metadata-token-ttl-seconds': String(SESSION_TOKEN_TTL_SECONDS) },
    } as const;
    const response = await send(endpoint, request, signal);
    if (response.statusCode === 404 || response.statusCode === 405) {
      session = 'unsupported';
      return undefined;
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new DisHttpError(errorResponseInit({ method: 'PUT', path: `${endpoint}${METADATA_TOKEN_PATH}` }, response));
    }
    const token = response.body.trim();
    if (token === '') {
      throw new DisResponseError('', 'empty session token', `PUT ${endpoint}${METADATA_TOKEN_PATH}`);
    }
    session = { token, expiresAtMs: now + SESSION_TOKEN_TTL_SECONDS * 1000 - SESSION_TOKEN_MARGIN_MS };
    return token;
  }

  async function securityKey(endpoint: string, token: string | undefined, signal: AbortSignal) {
    const headers: Record<string, string> = token === undefined ? {} : { 'x-metadata-token': token };
    const request = { operation: 'metadata_securitykey', method: 'GET', path: SECURITY_KEY_PATH, headers } as const;
    return send(endpoint, request, signal);
  }

  async function fetchKeys(credentials: MetadataCredentials, signal: AbortSignal): Promise<Fetched<AccessKeyPair>> {
    const { endpoint } = credentials;
    const fail = (cause: DisError): MetadataKeyError =>
      new MetadataKeyError(`no temporary keys from the metadata service: ${cause.message}${remedyFor(cause)}`, cause);
    try {
      let response = await securityKey(endpoint, await sessionToken(endpoint, signal, false), signal);
      // An expired or missing session token; not the answer of a server without an agency.
      if (response.statusCode === 401 && !response.body.includes(NO_AGENCY_MESSAGE)) {
        response = await securityKey(endpoint, await sessionToken(endpoint, signal, true), signal);
      }
      return readSecurityKey(response, `GET ${endpoint}${SECURITY_KEY_PATH}`, endpoint);
    } catch (error) {
      throw error instanceof DisError ? fail(error) : error;
    }
  }

  // The service decides when keys are renewed, so only the back-off follows the poll interval.
  const withLead = (timings: RenewalTimings): RenewalTimings => ({
    ...timings,
    refreshAheadMs: METADATA_RENEWAL_LEAD_MS,
  });
  const source = createRenewingCredential<MetadataCredentials, AccessKeyPair>({
    methodOf: () => 'metadata',
    clock,
    timings: withLead(options.timings),
    expiryMarginMs: EXPIRY_MARGIN_MS,
    identity: (credentials) => credentials.endpoint,
    fetch: fetchKeys,
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
  return { ...source, setTimings: (timings) => source.setTimings(withLead(timings)) };
}

/** The keys and their expiry from a 2xx answer to the key request; a DisHttpError or DisResponseError otherwise. */
function readSecurityKey(response: ReadResponse, request: string, endpoint: string): Fetched<AccessKeyPair> {
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new DisHttpError(errorResponseInit({ method: 'GET', path: `${endpoint}${SECURITY_KEY_PATH}` }, response));
  }
  let json: unknown;
  try {
    json = parseJsonBody(response.body);
  } catch (error) {
    throw error instanceof DisResponseError ? error.forRequest(request) : error;
  }
  const credential = isObject(json) ? json['credential'] : undefined;
  if (!isObject(credential)) throw new DisResponseError('credential', 'must be an object', request);
  const text = (key: string): string => {
    const value = credential[key];
    if (typeof value !== 'string' || value.trim() === '') {
      // Only the kind of value: these fields are secrets.
      throw new DisResponseError(`credential.${key}`, 'must be a non-empty string', request);
    }
    return value.trim();
  };
  const value = { accessKey: text('access'), secretKey: text('secret'), securityToken: text('securitytoken') };
  return { value, expiresAtMs: readTime(credential, 'credential.expires_at', request, true) };
}

/** What to fix, after the error text: `; check ...`, or "" when it is not the set-up. */
function remedyFor(cause: DisError): string {
  if (cause instanceof DisRequestError) {
    return (
      '; the metadata service answers only on ECS servers and CCE nodes: check auth.metadata.endpoint and that ' +
      'nothing (a NetworkPolicy, a firewall) blocks 169.254.169.254 port 80'
    );
  }
  if (cause instanceof DisResponseError) {
    return '; check auth.metadata.endpoint, which must be the metadata service, http://169.254.169.254';
  }
  if (cause instanceof DisHttpError && cause.statusCode >= 400 && cause.statusCode < 500) {
    return '; bind an agency with DIS read permissions (e.g. DIS ReadOnlyAccess) to this ECS server or CCE node pool';
  }
  return '';
}
