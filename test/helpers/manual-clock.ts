import { expect } from 'chai';
import type { Clock } from '../../src/clock.js';

type Sleeper = { until: number; resolve: () => void };

/** A clock that only moves when the test says so; sleepers wake in time order as it advances. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      if (ms <= 0) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      // Like systemClock, a sleeper that wakes leaves no listener behind on a long-lived signal.
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const sleeper: Sleeper = { until: this.#now + ms, resolve: wake };
      this.#sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many callers are asleep. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** The earliest wake-up time, if anyone sleeps. */
  get nextWake(): number | undefined {
    return this.#sleepers.reduce<number | undefined>(
      (min, s) => (min === undefined || s.until < min ? s.until : min),
      undefined,
    );
  }

  /**
   * Puts the clock at `ms`, earlier than now too, waking no one: for code that reads the time as a pure function of
   * it (the simulator's world), where a test looks at one moment and then at another. Refused while anyone sleeps:
   * advance() wakes sleepers in time order.
   */
  setTime(ms: number): void {
    if (this.#sleepers.length > 0) throw new Error(`setTime while ${this.#sleepers.length} sleep: use advance()`);
    this.#now = ms;
  }

  /** Moves time forward by `ms`, waking sleepers whose time has come (letting each run before the next). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#sleepers.filter((s) => s.until <= target).sort((a, b) => a.until - b.until)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.until);
      this.#sleepers = this.#sleepers.filter((s) => s !== due);
      due.resolve();
      await flush();
    }
    this.#now = target;
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits in real time until `condition` holds, for what the manual clock cannot hurry (an HTTP round trip); fails
 * the test after about two seconds.
 */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).to.equal(true);
}
