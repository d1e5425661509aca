import { isRetryable, type DisError } from './errors.js';

/** The back-off before the first retry, at most (before jitter); it doubles with each retry. */
const BACKOFF_BASE_MS = 250;
/** The longest back-off (before jitter). */
const BACKOFF_CAP_MS = 10_000;

/** Everything that decides whether a failed attempt of a call is retried, and when. */
export type RetryInput = Readonly<{
  /** The failed attempt's error: only a retryable `reason` is retried (errors.ts `isRetryable`). */
  error: DisError;
  /** The retries this call has made so far: 0 when its first attempt failed. */
  retry: number;
  /** The most retries a call may make (`poll.retries`). */
  retries: number;
  /** The wait the server asked for (a `Retry-After` of a 429 or 503), in ms; undefined when it asked for none. */
  retryAfterMs: number | undefined;
  /** The longest `Retry-After` honoured: a longer one stops the call rather than hold it. */
  maxRetryAfterMs: number;
  /** When the caller's cycle ends (ms since the epoch); undefined for none. */
  deadlineMs: number | undefined;
  /** Now, on the client's clock. */
  nowMs: number;
  /** Uniform [0, 1) source of the jitter; called only when a back-off is drawn. */
  random: () => number;
}>;

/** The decision to retry no more: the call fails with the attempt's error. */
export const STOP = 'stop';

/**
 * The wait before the next attempt, in ms, or STOP. A call stops on an error that is not retryable, after `retries`
 * retries, on a `Retry-After` longer than `maxRetryAfterMs`, and when the wait would end at or after its deadline.
 * The wait is the server's `Retry-After` when it sent one, else an exponential back-off with full jitter (a uniform
 * draw up to 250 ms, doubled per retry, capped at 10 s), as docs/dis-api.md ("Retries and rate limits") describes.
 */
export function calculateRetryDelay(input: RetryInput): number | typeof STOP {
  const { retry, retryAfterMs } = input;
  if (!isRetryable(input.error.reason) || retry >= input.retries) return STOP;
  if (retryAfterMs !== undefined && retryAfterMs > input.maxRetryAfterMs) return STOP;
  // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"), unless the server said when.
  const delayMs = retryAfterMs ?? Math.round(input.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry));
  if (input.deadlineMs !== undefined && input.nowMs + delayMs >= input.deadlineMs) return STOP;
  return delayMs;
}
