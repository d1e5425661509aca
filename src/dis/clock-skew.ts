import { DisHttpError } from './errors.js';
import { parseHttpDate } from './http-date.js';

/** The API gateway code for "X-Sdk-Date is too far from the gateway's time" (more than 15 minutes). */
export const CLOCK_SKEW_CODE = 'APIGW.0303';

/** The gateway's tolerance: 15 minutes. */
const MAX_SKEW_SECONDS = 15 * 60;

/**
 * How far the `Date` header of an auth failure must put this host off for the failure to be blamed on its clock.
 * The gateway refuses a signature dated more than 15 minutes off its own clock, but the `Date` header is only a
 * witness of that clock: stamped by whichever front answers, to the second, after the time in flight. A host more
 * than 5 minutes off it is out of sync by any measure and NTP is the first fix; a host within 5 minutes of it
 * cannot be what the gateway refused, so the failure is left to the credentials.
 */
const SUSPECT_SKEW_SECONDS = 5 * 60;

/**
 * The gateway's message for an AK/SK signature outside its window, which comes with `APIGW.0301`, not
 * `APIGW.0303`: "Incorrect IAM authentication information: calc ak sk signature fail:signature expired".
 */
const SIGNATURE_EXPIRED = /signature expired/i;

type ErrorResponse = ConstructorParameters<typeof DisHttpError>[0];

/** How far this host's clock is ahead of the server's `Date` header, in whole seconds (negative: behind). */
export function measureClockSkewSeconds(dateHeader: string | undefined, nowMs: number): number | undefined {
  if (dateHeader === undefined) return undefined;
  const serverMs = parseHttpDate(dateHeader.trim(), nowMs);
  // Math.round(-0.4) is -0; the message would still read "0 s ahead" but the callback should get a plain 0.
  return serverMs === undefined ? undefined : Math.round((nowMs - serverMs) / 1000) || 0;
}

/** Whether the gateway itself says the request's date was too far off: APIGW.0303, or a "signature expired" message. */
function gatewayBlamesClock(response: ErrorResponse): boolean {
  return response.apiCode === CLOCK_SKEW_CODE || SIGNATURE_EXPIRED.test(response.apiMessage ?? '');
}

/**
 * The DisClockSkewError an error response amounts to, or undefined when it does not point at the host clock.
 * APIGW.0303 always does. Any other auth failure (a 401, or APIGW.0301 whatever its status) of an AK/SK-signed
 * request does when its `Date` header puts this host more than SUSPECT_SKEW_SECONDS off, or, without a usable
 * `Date`, when its message says the signature expired. A 403 never does (the signature passed), nor does a
 * request that carried an IAM token, whose validity IAM measures on its own clock.
 */
export function clockSkewErrorOf(
  response: ErrorResponse,
  dateHeader: string | undefined,
  nowMs: number,
  signed: boolean,
): DisClockSkewError | undefined {
  const skewSeconds = measureClockSkewSeconds(dateHeader, nowMs);
  if (response.apiCode === CLOCK_SKEW_CODE) return new DisClockSkewError({ ...response, skewSeconds });
  if (!signed || (response.statusCode !== 401 && response.apiCode !== 'APIGW.0301')) return undefined;
  const blamed =
    skewSeconds === undefined ? gatewayBlamesClock(response) : Math.abs(skewSeconds) > SUSPECT_SKEW_SECONDS;
  return blamed ? new DisClockSkewError({ ...response, skewSeconds }) : undefined;
}

/** An auth failure the host clock caused: its message says the clock is off and how to fix it. */
export class DisClockSkewError extends DisHttpError {
  override name = 'DisClockSkewError';
  /** This host minus DIS, in seconds, from the response's `Date` header; undefined without one. */
  readonly skewSeconds: number | undefined;

  constructor(init: ErrorResponse & { skewSeconds: number | undefined }) {
    super(init);
    this.skewSeconds = init.skewSeconds;
    const skew = init.skewSeconds;
    const limit = 'off by more than 15 minutes';
    let clock = `the host clock is ${limit}`;
    if (skew !== undefined) {
      clock = `the host clock is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} the DIS Date header`;
      if (Math.abs(skew) > MAX_SKEW_SECONDS) clock = `${clock}, ${limit}`;
      else if (gatewayBlamesClock(init)) clock = `${clock}, yet DIS says it is ${limit}`;
    }
    this.message = `${this.message}; ${clock}; sync it with NTP`;
  }
}
