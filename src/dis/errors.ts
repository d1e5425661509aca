/** Why a poll of a target failed: the `reason` label of `dis_exporter_target_errors_total`. */
export type ErrorReason =
  'timeout' | 'network' | 'throttled' | 'server_error' | 'auth' | 'not_found' | 'bad_response' | 'client_error';

/** Base of every error the DIS client raises: a stable `code`, a `reason`, never a credential. */
export class DisError extends Error {
  override name = 'DisError';
  readonly code: string;
  readonly reason: ErrorReason;
  /**
   * The failure is not one call's but the client's (no IAM token), and the client has reported it once through a
   * callback the app logs: callers need not log it again for every call it fails.
   */
  readonly reported: boolean;

  constructor(message: string, options: { code: string; reason: ErrorReason; cause?: unknown; reported?: boolean }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.reason = options.reason;
    this.reported = options.reported ?? false;
  }
}

const THROTTLED_CODES = new Set(['APIGW.0308', 'DIS.4303', 'DIS.4305']);
const AUTH_CODES = new Set(['APIGW.0301', 'APIGW.0303', 'DIS.4116', 'DIS.4309']);
const NOT_FOUND_CODES = new Set(['DIS.4301', 'DIS.4354']);

/**
 * Maps an HTTP status and the DIS/APIGW error code of its body to a reason (docs/metrics.md ("Error reasons"); where
 * each code comes from: docs/dis-api.md ("The codes")).
 */
export function reasonForHttp(statusCode: number, apiCode: string | undefined): ErrorReason {
  if (apiCode !== undefined) {
    if (THROTTLED_CODES.has(apiCode)) return 'throttled';
    if (AUTH_CODES.has(apiCode)) return 'auth';
    if (statusCode === 400 && NOT_FOUND_CODES.has(apiCode)) return 'not_found';
  }
  // Gone: Huawei's own DIS SDK reads 410 as "the stream is gone", the same as DIS.4301.
  if (statusCode === 410) return 'not_found';
  if (statusCode === 429) return 'throttled';
  if (statusCode === 401 || statusCode === 403) return 'auth';
  if (statusCode >= 500) return 'server_error';
  return 'client_error';
}

/** A response with a non-2xx status. */
export class DisHttpError extends DisError {
  override name = 'DisHttpError';
  readonly statusCode: number;
  /** `DIS.xxxx` or `APIGW.xxxx` from the body, when there is one. */
  readonly apiCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(init: {
    method: string;
    path: string;
    statusCode: number;
    apiCode?: string;
    apiMessage?: string;
    requestId?: string;
  }) {
    const parts = [`${init.method} ${init.path}: HTTP ${init.statusCode}`];
    if (init.apiCode !== undefined) parts.push(init.apiCode);
    if (init.apiMessage !== undefined) parts.push(`(${init.apiMessage})`);
    if (init.requestId !== undefined) parts.push(`[request id ${init.requestId}]`);
    super(parts.join(' '), { code: 'ERR_DIS_HTTP', reason: reasonForHttp(init.statusCode, init.apiCode) });
    this.statusCode = init.statusCode;
    this.apiCode = init.apiCode;
    this.requestId = init.requestId;
  }
}

/** The request never got a response: a timeout, or a connection, DNS or TLS failure. */
export class DisRequestError extends DisError {
  override name = 'DisRequestError';

  constructor(init: { method: string; path: string; reason: 'timeout' | 'network'; detail: string; cause?: unknown }) {
    super(`${init.method} ${init.path}: ${init.detail}`, {
      code: init.reason === 'timeout' ? 'ERR_DIS_TIMEOUT' : 'ERR_DIS_NETWORK',
      reason: init.reason,
      cause: init.cause,
    });
  }
}

/** A 2xx body that is not JSON or not the documented shape; `field` is the JSON path that failed. */
export class DisResponseError extends DisError {
  override name = 'DisResponseError';
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string, request?: string) {
    const detail = field === '' ? problem : `${field}: ${problem}`;
    super(request === undefined ? detail : `${request}: ${detail}`, {
      code: 'ERR_DIS_RESPONSE',
      reason: 'bad_response',
    });
    this.field = field;
    this.problem = problem;
  }

  /** The same error, its message prefixed with the request (`GET /v2/...`) it came from. */
  forRequest(request: string): DisResponseError {
    return new DisResponseError(this.field, this.problem, request);
  }
}

/** Whether another attempt may succeed: network trouble, timeouts, 5xx and throttling. */
export function isRetryable(reason: ErrorReason): boolean {
  return reason === 'timeout' || reason === 'network' || reason === 'server_error' || reason === 'throttled';
}
