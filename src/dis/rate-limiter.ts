import type { Clock } from '../clock.js';

/**
 * The rate limit to configure by default. DIS publishes no limit for its management APIs (dis-api.md §6): 20/s is
 * 1,200 requests a minute, enough for several hundred dump tasks on a 60 s interval, yet it keeps a retry storm or a
 * huge discovery from tripping APIGW.0308/DIS.4305 throttling and, after many failures, the DIS.4309 IP blacklist.
 */
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 20;

/** Paces requests: every request takes a token first. */
export interface RateLimiter {
  /** Resolves once a token is taken; rejects with the signal's reason (returning the token) once it aborts. */
  acquire(signal?: AbortSignal): Promise<void>;
}

/** How fast tokens refill and how many may pile up. */
export type RateLimiterOptions = Readonly<{
  /** Tokens added per second; `0`, a negative number, NaN or `Infinity` turns the limiter off. */
  requestsPerSecond: number;
  /** The bucket size: the most requests sent at once after a quiet spell; at least 1. */
  burst: number;
  /** Measures the refill and does the waiting. */
  clock: Clock;
}>;

/**
 * A token bucket on the injected clock. A caller that finds no token reserves the next one (the bucket goes into
 * debt) and sleeps until it has refilled, so waiters are served in arrival order and never wake to find nothing.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { requestsPerSecond: rate, clock } = options;
  if (!(rate > 0) || rate === Infinity) {
    return {
      acquire: async (signal) => {
        if (signal?.aborted) throw signal.reason;
      },
    };
  }
  const burst = Math.max(1, options.burst);
  let tokens = burst;
  let updatedAt = clock.now();
  return {
    async acquire(signal) {
      if (signal?.aborted) throw signal.reason;
      const now = clock.now();
      // A wall clock that steps back refills nothing, and refilling restarts from the new time instead of stalling.
      tokens = Math.min(burst, tokens + (Math.max(0, now - updatedAt) * rate) / 1000);
      updatedAt = now;
      tokens -= 1;
      if (tokens >= 0) return;
      try {
        await clock.sleep(Math.ceil((-tokens * 1000) / rate), signal);
      } catch (error) {
        tokens = Math.min(burst, tokens + 1);
        throw error;
      }
    },
  };
}
