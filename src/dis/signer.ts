import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
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

/** Clock skew the gateway tolerates between X-Sdk-Date and its own time (dis-api.md §4.1.1). */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

const SDK_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const AUTHORIZATION_PATTERN =
  /^SDK-HMAC-SHA256 +Access=([^\s,]+) *, *SignedHeaders=([^\s,]+) *, *Signature=([0-9a-f]{64})$/;
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const AUTH_ERROR_PREFIX = 'Incorrect IAM authentication information: ';

/** Formats epoch milliseconds as the `X-Sdk-Date` value, e.g. `20191115T033655Z` (sub-second part dropped). */
export function formatSdkDate(epochMs: number): string {
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
  const names = signedHeaders.map((name) => name.toLowerCase());
  const headerLines = names.map((name) => {
    const value = canonicalHeaderValue(req, name);
    if (value === undefined) {
      throw new Error(`signed header "${name}" is absent from the request`);
    }
    return `${name}:${value}\n`;
  });
  const payloadHash = headerValue(req.headers, 'x-sdk-content-sha256') ?? sha256Hex(req.body ?? '');
  return [
    req.method.toUpperCase(),
    canonicalUri(req.url.pathname),
    canonicalQueryString(req.url.searchParams),
    headerLines.join(''),
    names.join(';'),
    payloadHash,
  ].join('\n');
}

/** Builds the string to sign: algorithm, X-Sdk-Date and the hex SHA-256 of the canonical request, one per line. */
export function stringToSign(canonicalRequestText: string, sdkDate: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequestText)}`;
}

/** Headers to add to the request: 'X-Sdk-Date', 'Authorization' and, for temporary credentials, 'X-Security-Token'. */
export function signRequest(req: SignableRequest, credentials: AccessKeyPair, nowMs: number): Record<string, string> {
  const sdkDate = formatSdkDate(nowMs);
  const added: Record<string, string> = { 'X-Sdk-Date': sdkDate };
  const token = credentials.securityToken;
  // An empty token means "no temporary credentials": config defaults unset strings to ''.
  if (token !== undefined && token !== '') {
    added['X-Security-Token'] = token;
  }
  // Our values replace any the caller set under the same name in another case.
  const replaced = new Set(Object.keys(added).map((name) => name.toLowerCase()));
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !replaced.has(name.toLowerCase())));
  const signing: SignableRequest = { ...req, headers: { ...headers, ...added } };
  const signedHeaders = ['host', 'x-sdk-date', 'x-project-id', 'x-security-token', 'content-type']
    .filter((name) => canonicalHeaderValue(signing, name) !== undefined)
    .sort();
  const signature = hmacHex(credentials.secretKey, stringToSign(canonicalRequest(signing, signedHeaders), sdkDate));
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
  const authorization = headerValue(req.headers, 'authorization');
  if (authorization === undefined) {
    return authFailure('missing Authorization header');
  }
  const parts = parseAuthorization(authorization);
  if (parts === undefined) {
    return authFailure('malformed Authorization header');
  }
  const sdkDate = headerValue(req.headers, 'x-sdk-date');
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
  const missing = parts.signedHeaders.find((name) => headerValue(req.headers, name) === undefined);
  if (missing !== undefined) {
    return authFailure(`signed header ${missing} is missing from the request`);
  }
  const secret = lookupSecret(parts.accessKey);
  if (secret === undefined) {
    return authFailure('unknown access key');
  }
  const expected = hmacHex(secret, stringToSign(canonicalRequest(req, parts.signedHeaders), sdkDate));
  // Both are 64 lowercase hex characters (parseAuthorization enforces it), so the lengths match.
  if (!timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(parts.signature, 'latin1'))) {
    return authFailure('signature does not match');
  }
  return { ok: true, accessKey: parts.accessKey };
}

function authFailure(detail: string): VerifyResult {
  return { ok: false, code: 'APIGW.0301', message: `${AUTH_ERROR_PREFIX}${detail}` };
}

function headerValue(headers: SignableRequest['headers'], lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === lowerName && value !== undefined) {
      // Node joins repeated request headers with ', ', so arrays are folded the same way.
      return typeof value === 'string' ? value.trim() : value.map((part) => part.trim()).join(', ');
    }
  }
  return undefined;
}

function canonicalHeaderValue(req: SignableRequest, lowerName: string): string | undefined {
  const value = headerValue(req.headers, lowerName);
  return value === undefined && lowerName === 'host' ? req.url.host : value;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
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
