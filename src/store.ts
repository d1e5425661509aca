import type { Target } from './config/types.js';
import type { DumpTask } from './dis/types.js';
import type { ErrorReason } from './dis/errors.js';

/** The last error of a target, as shown on the landing page and in logs. */
export type TargetError = Readonly<{ reason: ErrorReason; message: string; atMs: number }>;

/** Everything known about one target after the latest poll cycle. */
export type TargetStatus = Readonly<{
  target: Target;
  /** Whether the latest poll succeeded. */
  up: boolean;
  /** When the latest poll of this target finished. */
  lastPollMs?: number;
  lastDurationSeconds?: number;
  lastSuccessMs?: number;
  lastError?: TargetError;
  /** The last good details; kept while failing (until `poll.staleAfter`), dropped at once on not_found. */
  task?: DumpTask;
  /** Failed polls so far, by reason. */
  errors: Readonly<Partial<Record<ErrorReason, number>>>;
}>;

/** An immutable picture of all targets, replaced as a whole after every poll cycle. */
export type Snapshot = Readonly<{
  /** Poll cycles finished so far; 0 until the first one is done. */
  cyclesCompleted: number;
  lastCycleEndMs?: number;
  targets: readonly TargetStatus[];
}>;

/** Holds the latest snapshot; readers never see a half-written one. */
export class SnapshotStore {
  #current: Snapshot;

  constructor(initial: Snapshot = { cyclesCompleted: 0, targets: [] }) {
    this.#current = deepFreeze(initial);
  }

  /** The latest snapshot. */
  current(): Snapshot {
    return this.#current;
  }

  /** Swaps in a new snapshot in one step. */
  replace(next: Snapshot): void {
    this.#current = deepFreeze(next);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
