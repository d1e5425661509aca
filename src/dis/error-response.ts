import type { IncomingHttpHeaders } from 'node:http';
import { clockSkewErrorOf } from './clock-skew.js';
import { DisHttpError } from './errors.js';
import { parseErrorBody } from './parse.js';
import { parseRetryAfter } from './retry-after.js';

/** What a DisHttpError is built from: the request it answers and the error code, message and request id of its body. */
export type ErrorResponseInit = ConstructorParameters<typeof DisHttpError>[0];

/** A request as error messages name it. */
export type RequestLine = Readonly<{ method: string; path: string }>;

/** A response whose body was read. */
export type ReadResponse = Readonly<{ statusCode: number; headers: IncomingHttpHeaders; body: string }>;

/** What a non-2xx answer to a DIS request means: its error, and how long the server asked us to wait. */
export type ErrorAnswer = Readonly<{ error: DisHttpError; retryAfterMs: number | undefined }>;

/** The statuses whose Retry-After the client honours (RFC 9110 §10.2.3, RFC 6585 §4). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** Reads a non-2xx response: the request id from its `X-Request-Id` header, else from its body. */
export function errorResponseInit(request: RequestLine, response: ReadResponse): ErrorResponseInit {
  const parsed = parseErrorBody(response.body);
  const header = response.headers['x-request-id'];
  return {
    method: request.method,
    path: request.path,
    statusCode: response.statusCode,
    apiCode: parsed.apiCode,
    apiMessage: parsed.apiMessage,
    requestId: typeof header === 'string' && header !== '' ? header : parsed.requestId,
  };
}

/**
 * Reads a non-2xx answer to a DIS request at `nowMs`: a DisClockSkewError when it blames the host clock (clock-skew.ts;
 * `signed`: the request carried an AK/SK signature, not an IAM token), else a DisHttpError; and the wait of its
 * `Retry-After` on a 429 or 503.
 */
export function readErrorAnswer(
  request: RequestLine,
  response: ReadResponse,
  nowMs: number,
  signed: boolean,
): ErrorAnswer {
  const init = errorResponseInit(request, response);
  const error = clockSkewErrorOf(init, response.headers.date, nowMs, signed) ?? new DisHttpError(init);
  const retryAfterMs = RETRY_AFTER_STATUSES.has(response.statusCode)
    ? parseRetryAfter(response.headers['retry-after'], nowMs)
    : undefined;
  return { error, retryAfterMs };
}
