import type { IncomingHttpHeaders } from 'node:http';
import type { DisHttpError } from './errors.js';
import { parseErrorBody } from './parse.js';

/** What a DisHttpError is built from: the request it answers and the error code, message and request id of its body. */
export type ErrorResponseInit = ConstructorParameters<typeof DisHttpError>[0];

/** Reads a non-2xx response: the request id from its `X-Request-Id` header, else from its body. */
export function errorResponseInit(
  request: Readonly<{ method: string; path: string }>,
  response: Readonly<{ statusCode: number; headers: IncomingHttpHeaders; body: string }>,
): ErrorResponseInit {
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
