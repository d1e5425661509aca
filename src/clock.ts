/** Source of time and of waiting, injected everywhere so tests can drive them. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay setTimeout honours; Node fires a longer one after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      // Waits longer than one timer allows run as a chain of timers.
      const wait = (remainingMs: number): void => {
        timer = setTimeout(
          () => {
            if (remainingMs > MAX_TIMER_MS) {
              wait(remainingMs - MAX_TIMER_MS);
              return;
            }
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.min(remainingMs, MAX_TIMER_MS),
        );
      };
      wait(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Starts a monotonic stopwatch; the returned function gives the seconds elapsed since. */
export function startStopwatch(): () => number {
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}
