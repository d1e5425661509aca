import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { AccessKeyPair } from '../config/types.js';

/** A request as far as signing needs it. Header names in any case. */
export type SignableRequest = Readonly<{
  method: string;
  url: URL;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body?: string | Uint8Array;
}>;

/** The three parts of an `SDK-HMAC-SHA256` Authorization header value. */
export type AuthorizationParts = { accessKey: string; signedHeaders: string[]; signature: string };

/** Outcome of checking a received request's signature, with the API Gateway error code on failure. */
export type VerifyResult =
  { ok: true; accessKey: string } | { ok: false; code: 'APIGW.0301' | 'APIGW.0303'; message: string };

/** The API Gateway signing algorithm name, as it appears in the Authorization header and the string to sign. */
export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** Clock skew the gateway tolerates between X-Sdk-Date and its own time (docs/dis-api.md ("Clock skew")). */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

const SDK_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const AUTHORIZATION_PATTERN =
  /^SDK-HMAC-SHA256 +Access=([^\s,]+) *, *SignedHeaders=([^\s,]+) *, *Signature=([0-9a-f]{64})$/;
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A path that percent-decoding and RFC 3986 encoding leave as it is. */
const PLAIN_PATH = /^[A-Za-z0-9\-._~/]*$/;
/** The hex SHA-256 of an empty payload (every GET). */
const EMPTY_PAYLOAD_SHA256 = sha256Hex('');
/** The headers signRequest signs when present, in the sorted order SignedHeaders lists them. */
const SIGNABLE_HEADERS = ['content-type', 'host', 'x-project-id', 'x-sdk-date', 'x-security-token'] as const;
const AUTH_ERROR_PREFIX = 'Incorrect IAM authentication information: ';

/** The latest X-Sdk-Date formatted, by second: every request of a busy second carries the same value. */
let lastSdkDate = { second: NaN, text: '' };

/** Formats epoch milliseconds as the `X-Sdk-Date` value, e.g. `20191115T033655Z` (sub-second part dropped). */
export function formatSdkDate(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === lastSdkDate.second) return lastSdkDate.text;
  const text = formatSdkDateUncached(epochMs);
  lastSdkDate = { second, text };
  return text;
}

function formatSdkDateUncached(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  if (iso.length !== 24) {
    throw new RangeError('epoch milliseconds outside years 0000-9999');
  }
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Parses an `X-Sdk-Date` value into epoch milliseconds, or undefined when it is not a real UTC date-time. */
export function parseSdkDate(value: string): number | undefined {
  const match = SDK_DATE_PATTERN.exec(value);
  if (match === null) {
    return undefined;
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const epochMs = date.getTime();
  // Date rolls 20240230 over to March 1st; only a value that formats back unchanged is a real date.
  return formatSdkDate(epochMs) === value ? epochMs : undefined;
}

/** Canonical URI of a request path: percent-decoded, split on `/`, each segment RFC 3986-encoded, with a trailing `/`. */
export function canonicalUri(pathname: string): string {
  // A path of unreserved characters and slashes (every DIS path of ordinary names) decodes and encodes to itself.
  if (PLAIN_PATH.test(pathname)) return pathname.endsWith('/') ? pathname : `${pathname}/`;
  // The whole path is decoded before splitting, like the official API Gateway signers (unquote(uri).split('/')),
  // so an encoded %2F separates segments; decoding to bytes keeps invalid UTF-8 and stray '%' intact.
  const segments = splitBytes(percentDecode(pathname), 0x2f).map(encodeBytes);
  const path = segments.join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

/** Canonical query string: pairs sorted by key then value (UTF-8 byte order, case kept), RFC 3986-encoded, `k=` for empty values. */
export function canonicalQueryString(params: URLSearchParams): string {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of params) {
    const values = byKey.get(key);
    if (values === undefined) {
      byKey.set(key, [value]);
    } else {
      values.push(value);
    }
  }
  const pairs: string[] = [];
  for (const key of [...byKey.keys()].sort(compareUtf8)) {
    const encodedKey = rfc3986Encode(key);
    for (const value of (byKey.get(key) ?? []).sort(compareUtf8)) {
      pairs.push(`${encodedKey}=${rfc3986Encode(value)}`);
    }
  }
  return pairs.join('&');
}

/** Builds the canonical request text for the given signed header names; `host` falls back to `url.host` when no Host header is set. */
export function canonicalRequest(req: SignableRequest, signedHeaders: readonly string[]): string {
  return canonicalRequestOf(
    req,
    signedHeaders.map((name) => name.toLowerCase()),
    lowerCaseHeaders(req.headers),
  );
}

/**
 * The canonical request from header values already keyed by lower-case name (with `host` falling back to the URL's);
 * the payload hash is X-Sdk-Content-Sha256 when set, else the body's.
 */
function canonicalRequestOf(
  req: SignableRequest,
  names: readonly string[],
  headers: ReadonlyMap<string, string>,
): string {
  let headerLines = '';
  for (const name of names) {
    const value = headers.get(name) ?? (name === 'host' ? req.url.host : undefined);
    if (value === undefined) {
      throw new Error(`signed header "${name}" is absent from the request`);
    }
    headerLines += `${name}:${value}\n`;
  }
  const query = req.url.search === '' ? '' : canonicalQueryString(req.url.searchParams);
  const payloadHash = headers.get('x-sdk-content-sha256') ?? payloadSha256(req.body);
  return `${req.method.toUpperCase()}\n${canonicalUri(req.url.pathname)}\n${query}\n${headerLines}\n${names.join(';')}\n${payloadHash}`;
}

/** Builds the string to sign: algorithm, X-Sdk-Date and the hex SHA-256 of the canonical request, one per line. */
export function stringToSign(canonicalRequestText: string, sdkDate: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequestText)}`;
}

/** Headers to add to the request: 'X-Sdk-Date', 'Authorization' and, for temporary credentials, 'X-Security-Token'. */
export function signRequest(req: SignableRequest, credentials: AccessKeyPair, nowMs: number): Record<string, string> {
  const sdkDate = formatSdkDate(nowMs);
  const added: Record<string, string> = { 'X-Sdk-Date': sdkDate };
  // Our values replace any the caller set under the same name in another case.
  const headers = lowerCaseHeaders(req.headers);
  headers.set('x-sdk-date', sdkDate);
  headers.delete('x-security-token');
  const token = credentials.securityToken;
  // An empty token means "no temporary credentials": config defaults unset strings to ''.
  if (token !== undefined && token !== '') {
    added['X-Security-Token'] = token;
    headers.set('x-security-token', token);
  }
  const signedHeaders = SIGNABLE_HEADERS.filter((name) => name === 'host' || headers.has(name));
  const canonical = canonicalRequestOf(req, signedHeaders, headers);
  const signature = hmacHex(credentials.secretKey, stringToSign(canonical, sdkDate));
  added['Authorization'] =
    `${SIGNING_ALGORITHM} Access=${credentials.accessKey}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return added;
}

/** Splits an Authorization header value into access key, signed header names and signature, or undefined when garbled. */
export function parseAuthorization(value: string): AuthorizationParts | undefined {
  const match = AUTHORIZATION_PATTERN.exec(value.trim());
  if (match === null) {
    return undefined;
  }
  const [, accessKey = '', headerList = '', signature = ''] = match;
  const signedHeaders = headerList.split(';');
  if (!signedHeaders.every((name) => HEADER_NAME_PATTERN.test(name))) {
    return undefined;
  }
  return { accessKey, signedHeaders: signedHeaders.map((name) => name.toLowerCase()), signature };
}

/** Server side (used by the simulator): recomputes the signature of a received request. */
export function verifySignature(
  req: SignableRequest,
  lookupSecret: (accessKey: string) => string | undefined,
  nowMs: number,
  maxSkewMs: number = DEFAULT_MAX_SKEW_MS,
): VerifyResult {
  const headers = lowerCaseHeaders(req.headers);
  const authorization = headers.get('authorization');
  if (authorization === undefined) {
    return authFailure('missing Authorization header');
  }
  const parts = parseAuthorization(authorization);
  if (parts === undefined) {
    return authFailure('malformed Authorization header');
  }
  const sdkDate = headers.get('x-sdk-date');
  if (sdkDate === undefined) {
    return authFailure('missing X-Sdk-Date header');
  }
  const signedAt = parseSdkDate(sdkDate);
  if (signedAt === undefined) {
    return authFailure('malformed X-Sdk-Date header');
  }
  if (Math.abs(nowMs - signedAt) > maxSkewMs) {
    return {
      ok: false,
      code: 'APIGW.0303',
      message: `X-Sdk-Date differs from server time by more than ${Math.round(maxSkewMs / 1000)} s`,
    };
  }
  if (!parts.signedHeaders.includes('x-sdk-date')) {
    // The signing guide's FAQ: x-sdk-date is the one header every signature must cover.
    return authFailure('x-sdk-date is not a signed header');
  }
  const missing = parts.signedHeaders.find((name) => !headers.has(name));
  if (missing !== undefined) {
    return authFailure(`signed header ${missing} is missing from the request`);
  }
  const secret = lookupSecret(parts.accessKey);
  if (secret === undefined) {
    return authFailure('unknown access key');
  }
  const canonical = canonicalRequestOf(req, parts.signedHeaders, headers);
  const expected = hmacHex(secret, stringToSign(canonical, sdkDate));
  // Both are 64 lowercase hex characters (parseAuthorization enforces it), so the lengths match.
  if (!timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(parts.signature, 'latin1'))) {
    return authFailure('signature does not match');
  }
  return { ok: true, accessKey: parts.accessKey };
}

function authFailure(detail: string): VerifyResult {
  return { ok: false, code: 'APIGW.0301', message: `${AUTH_ERROR_PREFIX}${detail}` };
}

/** Every header with a value, by lower-case name (the first of names differing only in case), its value trimmed. */
function lowerCaseHeaders(headers: SignableRequest['headers']): Map<string, string> {
  const byName = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    const lowerName = name.toLowerCase();
    if (value !== undefined && !byName.has(lowerName)) byName.set(lowerName, foldHeaderValue(value));
  }
  return byName;
}

/** Node joins repeated request headers with ', ', so arrays are folded the same way; values are trimmed. */
function foldHeaderValue(value: string | readonly string[]): string {
  return typeof value === 'string' ? value.trim() : value.map((part) => part.trim()).join(', ');
}

function payloadSha256(body: string | Uint8Array | undefined): string {
  return body === undefined || body.length === 0 ? EMPTY_PAYLOAD_SHA256 : sha256Hex(body);
}

function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

function hmacHex(secretKey: string, data: string): string {
  return createHmac('sha256', secretKey).update(data).digest('hex');
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e // - . _ ~
  );
}

function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function rfc3986Encode(text: string): string {
  return encodeBytes(Buffer.from(text, 'utf8'));
}

function isHexDigit(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}

function percentDecode(text: string): Uint8Array {
  const input = Buffer.from(text, 'utf8');
  const output: number[] = [];
  for (let i = 0; i < input.length; i += 1) {
    const byte = input[i] as number;
    if (byte === 0x25 && isHexDigit(input[i + 1]) && isHexDigit(input[i + 2])) {
      output.push(Number.parseInt(input.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else {
      output.push(byte);
    }
  }
  return Uint8Array.from(output);
}

function splitBytes(bytes: Uint8Array, separator: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i === bytes.length || bytes[i] === separator) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}
