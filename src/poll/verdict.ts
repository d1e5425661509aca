/** The statuses of `dis_dump_task_partition_status`, in exposition order. */
export const PARTITION_STATUSES = ['idle', 'progressing', 'stalled', 'rewound', 'falling_behind', 'paused'] as const;

/** One partition's verdict. */
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];

/**
 * One poll's view of a partition whose lag in records is known; `paused` when its task was PAUSED at that poll (its
 * offset is not expected to move).
 */
export type Observation = Readonly<{ atMs: number; offset: number; lagRecords: number; paused?: boolean }>;

/** Whether a dump task's `state` is the one in which its offsets stand still by intent. */
export function isPausedState(state: string | undefined): boolean {
  return state === 'PAUSED';
}

/** What is remembered of a partition between polls. */
export type PartitionTrack = Readonly<{
  /** The latest observations, oldest first, at most `historyLength`. */
  recent: readonly Observation[];
  /** Poll time since which the offset has not moved while records were waiting; undefined otherwise. */
  waitingSinceMs?: number;
  /** The latest polls that found the offset moved forward (deliveries), oldest first, at most FALLING_BEHIND_DELIVERIES + 1. */
  deliveries?: readonly Observation[];
}>;

/** A partition's verdict at scrape time, with how long records have waited on a standing offset. */
export type Verdict = Readonly<{ status: PartitionStatus; stalledSeconds: number }>;

/** How many observations are kept per partition. */
export const HISTORY_LENGTH = 6;

/** The lag left after each delivery must have grown over this many latest deliveries to be falling behind. */
export const FALLING_BEHIND_DELIVERIES = 3;

/** The stall threshold when neither `lag.stallAfter` nor a deliver interval is known. */
export const DEFAULT_STALL_AFTER_MS = 300_000;

/** Returns `lag.stallAfter` when configured, else 3 × the destination's deliver interval, else 5m. */
export function stallAfterMs(configuredMs: number | undefined, deliverIntervalSeconds: number | undefined): number {
  if (configuredMs !== undefined) return configuredMs;
  // A task legitimately sits still for a whole deliver interval; three of them leave room for a late or slow delivery.
  if (deliverIntervalSeconds !== undefined && Number.isFinite(deliverIntervalSeconds) && deliverIntervalSeconds > 0) {
    return 3 * deliverIntervalSeconds * 1000;
  }
  return DEFAULT_STALL_AFTER_MS;
}

/** Returns the track that remembers one more poll of a partition, ignoring a poll not newer than the last one. */
export function advanceTrack(previous: PartitionTrack | undefined, observation: Observation): PartitionTrack {
  const recent = previous?.recent ?? [];
  const last = recent.at(-1);
  if (previous !== undefined && last !== undefined && observation.atMs <= last.atMs) return previous;
  const next = [...recent, observation].slice(-HISTORY_LENGTH);
  const waitingSinceMs = waitingSince(previous?.waitingSinceMs, last, observation);
  const moved = last !== undefined && observation.offset > last.offset;
  const deliveries = moved
    ? [...(previous?.deliveries ?? []), observation].slice(-(FALLING_BEHIND_DELIVERIES + 1))
    : (previous?.deliveries ?? []);
  return {
    recent: next,
    ...(waitingSinceMs === undefined ? {} : { waitingSinceMs }),
    ...(deliveries.length === 0 ? {} : { deliveries }),
  };
}

// Between two polls we cannot see when records arrived or when the offset last moved, only that it happened after
// the earlier poll; starting the clock at the later poll can only under-report a stall, never raise a false one.
// So the clock carries over only while the offset stands still with records already waiting; records newly
// waiting (after lag 0, on the first poll, after the offset moved either way, or after a pause) start it at this
// poll. A paused task waits by intent: its clock does not run, so resuming it is not taken for a stall.
function waitingSince(
  previousSinceMs: number | undefined,
  last: Observation | undefined,
  observation: Observation,
): number | undefined {
  if (observation.lagRecords === 0 || observation.paused === true) return undefined;
  if (last !== undefined && last.offset === observation.offset && previousSinceMs !== undefined) return previousSinceMs;
  return observation.atMs;
}

/**
 * Returns the partition's verdict at scrape time `nowMs`, never calling a partition without waiting records stalled,
 * and calling every partition of a task PAUSED at the latest poll `paused`, whatever its offsets did.
 */
export function judge(track: PartitionTrack, nowMs: number, stallAfterMs: number): Verdict {
  const { recent, waitingSinceMs } = track;
  const newest = recent.at(-1);
  const before = recent.at(-2);
  // Without an observation there is nothing waiting that could be reported.
  if (newest === undefined) return { status: 'idle', stalledSeconds: 0 };
  if (newest.paused === true) return { status: 'paused', stalledSeconds: 0 };
  if (before !== undefined && newest.offset < before.offset) return { status: 'rewound', stalledSeconds: 0 };
  if (newest.lagRecords === 0) return { status: 'idle', stalledSeconds: 0 };
  // Only a later poll that still finds the offset where it was proves it stood still; right after it
  // moved (or records first arrived) the partition counts as progressing with 0 seconds stalled.
  const confirmed = waitingSinceMs !== undefined && waitingSinceMs < newest.atMs;
  const waitedMs = confirmed ? Math.max(0, nowMs - waitingSinceMs) : 0;
  const stalledSeconds = waitedMs / 1000;
  if (confirmed && waitedMs >= stallAfterMs) return { status: 'stalled', stalledSeconds };
  if (isFallingBehind(track.deliveries ?? [])) return { status: 'falling_behind', stalledSeconds };
  return { status: 'progressing', stalledSeconds };
}

// Lag legitimately grows between deliveries, however often we poll; what tells a dump that cannot keep up is
// the lag it leaves behind growing from one delivery to the next. When every poll sees a delivery this is
// "lag grew over each of the last N polls".
function isFallingBehind(deliveries: readonly Observation[]): boolean {
  if (deliveries.length < FALLING_BEHIND_DELIVERIES + 1) return false;
  return deliveries.every((delivery, i) => i === 0 || delivery.lagRecords > deliveries[i - 1]!.lagRecords);
}
