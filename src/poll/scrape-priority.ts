import type { Clock } from '../clock.js';

/** How long one scrape may hold new DIS requests back, at most, however long it takes. */
export const MAX_HOLD_MS = 1000;

/**
 * Lets scrapes go first. A scrape and a poll cycle share one event loop, and a cycle at fleet scale keeps it busy
 * with responses; taking turns fairly, a scrape would take that much longer (docs/benchmarks.md ("What limits each
 * figure")). So while a scrape is rendered (`first`), new DIS requests wait (`turn`, which ScrapeFirstClient awaits
 * before each call; requests in flight finish): the scrape runs at nearly its idle speed and the cycle ends that much
 * later. Polling keeps at least half of the time: a scrape holds requests for MAX_HOLD_MS at most, and only if at
 * least as long has passed since the previous hold ended as that hold lasted; scrapes that come more often than that
 * take turns with polling like any other work.
 */
export class ScrapePriority {
  readonly #clock: Clock;
  readonly #maxHoldMs: number;
  /** Scrapes being rendered that hold requests back, with when the hold ends at the latest. */
  readonly #holding = new Map<symbol, number>();
  /** When the latest hold began and ended (every scrape that held requests was done by then). */
  #lastHold = { startMs: 0, endMs: 0 };
  #released: { promise: Promise<void>; release: () => void; timer: AbortController } | undefined;

  constructor(clock: Clock, maxHoldMs: number = MAX_HOLD_MS) {
    this.#clock = clock;
    this.#maxHoldMs = maxHoldMs;
  }

  /** The chunks of a /metrics body; new DIS requests wait while they are produced. */
  async *first<T>(chunks: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    const scrape = Symbol('scrape');
    const nowMs = this.#clock.now();
    const { startMs, endMs } = this.#lastHold;
    const holding = this.#holding.size > 0 || nowMs - endMs >= endMs - startMs;
    if (holding) {
      if (this.#holding.size === 0) this.#lastHold = { startMs: nowMs, endMs: Infinity };
      // Scrapes that overlap share one hold, of MAX_HOLD_MS at most in all.
      this.#holding.set(scrape, this.#lastHold.startMs + this.#maxHoldMs);
    }
    try {
      yield* chunks;
    } finally {
      if (holding) {
        this.#holding.delete(scrape);
        if (this.#holding.size === 0) this.#endHold();
      }
    }
  }

  /** Resolves at once when no scrape is being rendered; otherwise when none is, or none may hold any longer. */
  async turn(): Promise<void> {
    if (this.#holding.size === 0) return;
    const until = Math.max(-Infinity, ...this.#holding.values());
    const waitMs = until - this.#clock.now();
    if (waitMs <= 0) return;
    if (this.#released === undefined) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      const timer = new AbortController();
      this.#released = { promise, release, timer };
      this.#clock.sleep(waitMs, timer.signal).then(
        () => this.#endHold(),
        () => undefined,
      );
    }
    await this.#released.promise;
  }

  #endHold(): void {
    const nowMs = this.#clock.now();
    const { startMs } = this.#lastHold;
    const longest = startMs + this.#maxHoldMs;
    this.#lastHold = { startMs, endMs: Math.min(nowMs, longest) };
    const released = this.#released;
    this.#released = undefined;
    released?.timer.abort();
    released?.release();
  }
}
