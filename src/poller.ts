import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { startStopwatch } from './clock.js';
import type { Target } from './config/types.js';
import type { DisClient } from './dis/client.js';
import { DisError, type ErrorReason } from './dis/errors.js';
import type { Snapshot, SnapshotStore, TargetStatus } from './store.js';

/** What the poller needs; the clock and the random source are injected so tests drive them. */
export type PollerOptions = Readonly<{
  targets: readonly Target[];
  client: DisClient;
  store: SnapshotStore;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  concurrency: number;
  /** Uniform [0, 1) source for the interval jitter. */
  random?: () => number;
  /** Called after every finished cycle with its duration. */
  onCycle?: (durationSeconds: number) => void;
}>;

/** Share of the interval by which each wait is randomly lengthened or shortened, so replicas drift apart. */
const JITTER_RATIO = 0.05;

/** Polls every target once per interval and swaps the results into the store as one snapshot. */
export class Poller {
  readonly #options: PollerOptions;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #alive = false;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the loop: a first cycle at once, then one per interval; never two at a time. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#alive = true;
    this.#loop = this.#run().finally(() => {
      this.#alive = false;
    });
  }

  /** Whether the loop is running (for `/-/healthy`). */
  isAlive(): boolean {
    return this.#alive;
  }

  /** Stops polling: aborts in-flight requests and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('poller stopped'));
    await this.#loop;
  }

  /** Polls every target once (bounded concurrency) and replaces the snapshot. */
  async runCycle(): Promise<void> {
    const { targets, concurrency, store, clock } = this.#options;
    const elapsed = startStopwatch();
    const previous = store.current();
    const byKey = new Map(previous.targets.map((status) => [targetKey(status.target), status]));
    const results = new Array<TargetStatus>(targets.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#abort.signal.aborted) {
        const index = next++;
        const target = targets[index]!;
        results[index] = await this.#pollTarget(target, byKey.get(targetKey(target)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    if (this.#abort.signal.aborted) return;
    const snapshot: Snapshot = {
      cyclesCompleted: previous.cyclesCompleted + 1,
      lastCycleEndMs: clock.now(),
      targets: results,
    };
    store.replace(snapshot);
    this.#options.onCycle?.(elapsed());
  }

  async #run(): Promise<void> {
    const { clock, intervalMs, logger } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const startedMs = clock.now();
      try {
        await this.runCycle();
      } catch (error) {
        // runCycle turns every DIS failure into data; reaching here is a bug, and the loop must outlive it.
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'poll cycle failed');
      }
      const jitter = (this.#random() * 2 - 1) * JITTER_RATIO * intervalMs;
      const waitMs = Math.max(0, startedMs + intervalMs + jitter - clock.now());
      try {
        await clock.sleep(Math.round(waitMs), signal);
      } catch {
        // aborted: the while condition ends the loop
      }
    }
  }

  async #pollTarget(target: Target, previous: TargetStatus | undefined): Promise<TargetStatus> {
    const { client, clock, logger } = this.#options;
    const elapsed = startStopwatch();
    const log = logger.child({ stream: target.stream, task: target.task });
    try {
      const task = await client.getDumpTask(target.stream, target.task, this.#abort.signal);
      const now = clock.now();
      if (previous !== undefined && !previous.up && previous.lastPollMs !== undefined) {
        log.info({ durationSeconds: elapsed() }, 'target recovered');
      }
      return {
        target,
        up: true,
        lastPollMs: now,
        lastDurationSeconds: elapsed(),
        lastSuccessMs: now,
        task,
        errors: previous?.errors ?? {},
        ...(previous?.lastError === undefined ? {} : { lastError: previous.lastError }),
      };
    } catch (error) {
      const now = clock.now();
      const reason: ErrorReason = error instanceof DisError ? error.reason : 'bad_response';
      const message = error instanceof Error ? error.message : String(error);
      const errors = { ...previous?.errors, [reason]: (previous?.errors[reason] ?? 0) + 1 };
      // Log a failure once per change of state, not once per cycle.
      if (previous === undefined || previous.up || previous.lastError?.reason !== reason) {
        // Only our own message: a got error carries the request options, signed headers included.
        const fields = { reason, error: message, durationSeconds: elapsed() };
        if (error instanceof DisError) log.warn(fields, 'poll failed');
        else log.error(fields, 'poll failed');
      }
      const keepTask = reason !== 'not_found' && previous?.task !== undefined;
      return {
        target,
        up: false,
        lastPollMs: now,
        lastDurationSeconds: elapsed(),
        ...(previous?.lastSuccessMs === undefined ? {} : { lastSuccessMs: previous.lastSuccessMs }),
        lastError: { reason, message, atMs: now },
        ...(keepTask ? { task: previous.task } : {}),
        errors,
      };
    }
  }
}

/** A target's identity within a project. */
export function targetKey(target: Target): string {
  return `${target.stream}/${target.task}`;
}
