import type { Clock } from '../clock.js';

/** A token bucket that answers at once: `tryTake()` is false when the bucket is empty (the request gets 429). */
export type RequestRateLimit = Readonly<{ tryTake(): boolean }>;

/** One token every `intervalMs`, at most `burst` saved up (the web config's `rate_limit`, as Go's rate.Limiter). */
export function createRequestRateLimit(intervalMs: number, burst: number, clock: Clock): RequestRateLimit {
  let tokens = burst;
  let updatedAt = clock.now();
  return {
    tryTake() {
      const now = clock.now();
      // A wall clock that steps back refills nothing.
      tokens = Math.min(burst, tokens + Math.max(0, now - updatedAt) / intervalMs);
      updatedAt = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
