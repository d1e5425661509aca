/** 2001-01-01T00:00:00Z: every epoch-seconds value up to the year 2286 is smaller, read as milliseconds. */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(2001, 0, 1);

/** How far ahead of this host's clock a timestamp may be and still count as clock skew (lag 0) rather than wrong. */
export const MAX_AHEAD_MS = 86_400_000;

/**
 * What is wrong with a DIS timestamp (`create_time`, `last_transfer_timestamp`) read as epoch milliseconds at
 * `nowMs`, or undefined when it is plausible (docs/metrics.md ("Odd values in DIS answers")). A 10-digit seconds
 * value would give a lag of decades, and one far in the future a lag of 0 that hides a stall, so both are left out;
 * a value up to a day ahead is a skewed clock and stays.
 */
export function implausibleTimestamp(milliseconds: number, nowMs: number): string | undefined {
  if (milliseconds < EARLIEST_PLAUSIBLE_MS) return `is before 2001, so not epoch milliseconds (got ${milliseconds})`;
  if (milliseconds > nowMs + MAX_AHEAD_MS) {
    return `is more than a day ahead of this host's clock (got ${milliseconds})`;
  }
  return undefined;
}
