import { DisHttpError } from './errors.js';
import { parseHttpDate } from './http-date.js';

/** The API gateway code for "X-Sdk-Date is too far from the gateway's time" (more than 15 minutes). */
export const CLOCK_SKEW_CODE = 'APIGW.0303';

/** The gateway's tolerance: 15 minutes. */
const MAX_SKEW_SECONDS = 15 * 60;

/** How far this host's clock is ahead of the server's `Date` header, in whole seconds (negative: behind). */
export function measureClockSkewSeconds(dateHeader: string | undefined, nowMs: number): number | undefined {
  if (dateHeader === undefined) return undefined;
  const serverMs = parseHttpDate(dateHeader.trim(), nowMs);
  // Math.round(-0.4) is -0; the message would still read "0 s ahead" but the callback should get a plain 0.
  return serverMs === undefined ? undefined : Math.round((nowMs - serverMs) / 1000) || 0;
}

/** An APIGW.0303 response: its message says the host clock is off and how to fix it. */
export class DisClockSkewError extends DisHttpError {
  override name = 'DisClockSkewError';
  /** This host minus DIS, in seconds, from the response's `Date` header; undefined without one. */
  readonly skewSeconds: number | undefined;

  constructor(init: ConstructorParameters<typeof DisHttpError>[0] & { skewSeconds: number | undefined }) {
    super(init);
    this.skewSeconds = init.skewSeconds;
    const skew = init.skewSeconds;
    const limit = 'off by more than 15 minutes';
    let clock = `the host clock is ${limit}`;
    if (skew !== undefined) {
      const measured = `the host clock is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} the DIS Date header`;
      clock = Math.abs(skew) > MAX_SKEW_SECONDS ? `${measured}, ${limit}` : `${measured}, yet DIS says it is ${limit}`;
    }
    this.message = `${this.message}; ${clock}; sync it with NTP`;
  }
}
