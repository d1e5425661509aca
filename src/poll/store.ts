import type { Target } from '../config/types.js';
import type { DumpTask, StreamDetails } from '../dis/types.js';
import type { ErrorReason } from '../dis/errors.js';
import type { PartitionTrack } from './verdict.js';

/** The last error of a target, as shown on the landing page and in logs. */
export type TargetError = Readonly<{ reason: ErrorReason; message: string; atMs: number }>;

/** Everything known about one target after the latest poll cycle. */
export type TargetStatus = Readonly<{
  /** The project the target belongs to: the `project_id` of its series. */
  projectId: string;
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
  /** Recent progress of each partition whose lag in records is known, for the verdicts. */
  tracks?: Readonly<Record<string, PartitionTrack>>;
}>;

/** The latest stream details of a stream with a polled task (for lag in records). */
export type StreamStatus = Readonly<{
  /** The project the stream belongs to: a stream name is unique only within its project. */
  projectId: string;
  stream: string;
  /** The last good details; kept while failing (until `poll.staleAfter`), dropped at once on not_found. */
  details?: StreamDetails;
  lastSuccessMs?: number;
  /** Set while the latest discovery had a failed list call. */
  lastError?: TargetError;
}>;

/** How discovery (the list calls behind `*` targets) has gone. */
export type DiscoveryStatus = Readonly<{
  /** Failed list calls so far. */
  errors: number;
  lastSuccessMs?: number;
  lastError?: TargetError;
}>;

/** An immutable picture of all targets, replaced as a whole after every poll cycle. */
export type Snapshot = Readonly<{
  /** Poll cycles finished so far; 0 until the first one is done. */
  cyclesCompleted: number;
  lastCycleEndMs?: number;
  /** The targets this replica polls (after discovery and sharding), project by project, in a stable order. */
  targets: readonly TargetStatus[];
  /** Stream details fetched this cycle; empty when `lag.records` is off. */
  streams: readonly StreamStatus[];
  /** Absent when no target needs discovery. */
  discovery?: DiscoveryStatus;
}>;

/** A stream's identity in a snapshot: the same name in two projects is two streams (names hold no "/"). */
export function streamKey(projectId: string, stream: string): string {
  return `${projectId}/${stream}`;
}

/** Holds the latest snapshot; readers never see a half-written one. */
export class SnapshotStore {
  #current: Snapshot;

  constructor(initial: Snapshot = { cyclesCompleted: 0, targets: [], streams: [] }) {
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
