import type { Clock } from '../clock.js';

/** Paces requests: every request takes a token first. */
export interface RateLimiter {
  /** Resolves once a token is taken; rejects with the signal's reason (returning the token) once it aborts. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * Takes a new rate and burst (a reload) for the requests that come from now on; those already waiting keep their
   * turn. A limit turned on starts with a full bucket.
   */
  setRate(rate: Rate): void;
}

/** How fast tokens refill and how many may pile up. */
export type Rate = Readonly<{
  /** Tokens added per second; `0`, a negative number, NaN or `Infinity` turns the limiter off. */
  requestsPerSecond: number;
  /** The bucket size: the most requests sent at once after a quiet spell; at least 1. */
  burst: number;
}>;

/** The rate to start with, and the clock that measures the refill and does the waiting. */
export type RateLimiterOptions = Rate & Readonly<{ clock: Clock }>;

/**
 * A token bucket on the injected clock. A caller that finds no token reserves the next one (the bucket goes into
 * debt) and sleeps until it has refilled, so waiters are served in arrival order and never wake to find nothing.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { clock } = options;
  // rate 0 = off
  let rate = 0;
  let burst = 1;
  let tokens = 0;
  let updatedAt = clock.now();

  /** Adds what has refilled since the last update; a wall clock that steps back refills nothing. */
  const refill = (now: number): void => {
    tokens = Math.min(burst, tokens + (Math.max(0, now - updatedAt) * rate) / 1000);
    updatedAt = now;
  };

  const setRate = (next: Rate): void => {
    const on = next.requestsPerSecond > 0 && next.requestsPerSecond !== Infinity;
    const now = clock.now();
    refill(now);
    burst = Math.max(1, next.burst);
    // A debt is kept (its waiters are asleep already); a bucket that was off, or fuller than the new burst, is full.
    tokens = rate === 0 ? burst : Math.min(burst, tokens);
    rate = on ? next.requestsPerSecond : 0;
  };
  setRate(options);

  return {
    async acquire(signal) {
      if (signal?.aborted) throw signal.reason;
      if (rate === 0) return;
      refill(clock.now());
      tokens -= 1;
      if (tokens >= 0) return;
      try {
        await clock.sleep(Math.ceil((-tokens * 1000) / rate), signal);
      } catch (error) {
        tokens = Math.min(burst, tokens + 1);
        throw error;
      }
    },
    setRate,
  };
}
