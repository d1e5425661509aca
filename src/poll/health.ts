import type { StreamPartition } from '../dis/types.js';
import { expiredRecords, isFresh, isServable, lagRecords, lagSeconds } from './lag-and-staleness.js';
import { streamKey, type Snapshot, type TargetStatus } from './store.js';
import { isPausedState, judge, stallAfterMs, type PartitionStatus } from './verdict.js';

// What a snapshot says about each dump task and partition at a given time, for people (the landing page): the
// same rules and numbers as /metrics (lag-and-staleness.ts, verdict.ts), gathered per task instead of per series.

/** One partition of a task whose details are served, with what /metrics shows of it at that time. */
export type PartitionHealth = Readonly<{
  partitionId: string;
  /** The partition's DIS `state`; undefined when DIS gave none. */
  state?: string;
  /** The verdict; undefined while its lag in records is unknown (no stream details, or lag.records off). */
  status?: PartitionStatus;
  stalledSeconds?: number;
  lagRecords?: number;
  expiredRecords?: number;
  lagSeconds?: number;
  discard?: number;
}>;

/** One polled dump task: its poll status, and its DIS state and partitions while its details are served. */
export type TaskHealth = Readonly<{
  target: TargetStatus;
  /** Whether its last details are still served (up, or failing for at most poll.staleAfter). */
  served: boolean;
  /** The task's DIS `state` while served; undefined otherwise, or when DIS gave none. */
  state?: string;
  lagSeconds?: number;
  /** By partition id, as in the exposition; empty while not served. */
  partitions: readonly PartitionHealth[];
}>;

/** The settings the rules depend on: `poll.staleAfter` and `lag.stallAfter` (undefined = from the deliver interval). */
export type HealthSettings = Readonly<{ staleAfterMs: number; stallAfterMs?: number }>;

/** The partition verdicts that need someone to look: the dump is stuck, went backwards, or cannot keep up. */
const ATTENTION_STATUSES: ReadonlySet<PartitionStatus | undefined> = new Set(['stalled', 'rewound', 'falling_behind']);

/** Pure: the health of every polled task at `nowMs`, in the snapshot's order. */
export function snapshotHealth(snapshot: Snapshot, nowMs: number, settings: HealthSettings): TaskHealth[] {
  const ranges = new Map<string, ReadonlyMap<string, StreamPartition>>();
  for (const stream of snapshot.streams) {
    if (!isFresh(stream, nowMs, settings.staleAfterMs)) continue;
    const byId = new Map(stream.details!.partitions.map((partition) => [partition.partitionId, partition]));
    ranges.set(streamKey(stream.projectId, stream.stream), byId);
  }
  return snapshot.targets.map((target) => {
    const task = target.task;
    if (task === undefined || !isServable(target, nowMs, settings.staleAfterMs)) {
      return { target, served: false, partitions: [] };
    }
    const streamRanges = ranges.get(streamKey(target.projectId, target.target.stream));
    const stallAfter = stallAfterMs(settings.stallAfterMs, task.deliverIntervalSeconds);
    const partitions = [...task.partitions]
      .sort((a, b) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0))
      .map((progress): PartitionHealth => {
        const range = streamRanges?.get(progress.partitionId);
        const track = target.tracks?.[progress.partitionId];
        const verdict = track === undefined ? undefined : judge(track, nowMs, stallAfter);
        const waiting = lagRecords(range, progress.lastTransferOffset);
        const expired = expiredRecords(range, progress.lastTransferOffset);
        const { lastTransferTimestampMs: dumpedMs } = progress;
        return {
          partitionId: progress.partitionId,
          ...(progress.state === undefined ? {} : { state: progress.state }),
          ...(verdict === undefined ? {} : { status: verdict.status, stalledSeconds: verdict.stalledSeconds }),
          ...(waiting === undefined ? {} : { lagRecords: waiting }),
          ...(expired === undefined ? {} : { expiredRecords: expired }),
          ...(dumpedMs === undefined ? {} : { lagSeconds: lagSeconds(nowMs, dumpedMs) }),
          ...(progress.discard === undefined ? {} : { discard: progress.discard }),
        };
      });
    return {
      target,
      served: true,
      ...(task.state === undefined ? {} : { state: task.state }),
      ...(task.lastTransferTimestampMs === undefined
        ? {}
        : { lagSeconds: lagSeconds(nowMs, task.lastTransferTimestampMs) }),
      partitions,
    };
  });
}

/**
 * Whether a partition needs someone to look (docs/operations.md ("The landing page")): its DIS state is not RUNNING,
 * its verdict is stalled, rewound or falling_behind, or records expired before the dump reached them. The partitions
 * of a PAUSED task that are PAUSED with it are not: the task shows the pause, as the shipped alerts do.
 */
export function needsAttention(task: Pick<TaskHealth, 'state'>, partition: PartitionHealth): boolean {
  const pausedWithTask = partition.state === 'PAUSED' && isPausedState(task.state);
  return (
    (partition.state !== undefined && partition.state !== 'RUNNING' && !pausedWithTask) ||
    ATTENTION_STATUSES.has(partition.status) ||
    (partition.expiredRecords ?? 0) > 0
  );
}

/** The partitions of a task that need someone to look (needsAttention), by partition id. */
export function partitionsNeedingAttention(task: TaskHealth): PartitionHealth[] {
  return task.partitions.filter((partition) => needsAttention(task, partition));
}
