// The prom-client reference, part 1: a plain translation of a snapshot into label objects and values, written for
// clarity rather than speed. The exporter's /metrics writer (src/metrics/exposition.ts, family-writers.ts) must give
// byte for byte what prom-client renders from these samples (test/unit/metrics.test.ts, and the bench checks it at
// fleet scale). Both take their rules from src/poll/lag-and-staleness.ts and src/poll/verdict.ts; only the shape of
// the output is written twice.
import type { DumpTask, StreamDetails, StreamPartition } from '../../src/dis/types.js';
import type { TranslationOptions } from '../../src/metrics/exposition.js';
import { ERROR_REASONS, FAMILIES, KNOWN_STATES, type FamilyKey } from '../../src/metrics/names.js';
import { expiredRecords, isFresh, isServable, lagRecords, lagSeconds } from '../../src/poll/lag-and-staleness.js';
import { streamKey, type Snapshot } from '../../src/poll/store.js';
import { PARTITION_STATUSES, judge, stallAfterMs, type PartitionTrack } from '../../src/poll/verdict.js';

/** One series: its labels and value. */
export type Sample = Readonly<{ labels: Readonly<Record<string, string>>; value: number }>;

/** Every series of each family, keyed like FAMILIES; a family with no series has an empty list. */
export type Samples = Readonly<Record<FamilyKey, readonly Sample[]>>;

/** Pure: the snapshot as seen at `nowMs` (the scrape time) → every series to expose. */
export function toSamples(snapshot: Snapshot, nowMs: number, options: TranslationOptions): Samples {
  const out = Object.fromEntries(Object.keys(FAMILIES).map((key) => [key, [] as Sample[]])) as Record<
    FamilyKey,
    Sample[]
  >;
  const streams = new Map<string, StreamDetails>();
  for (const stream of snapshot.streams) {
    if (stream.details === undefined || !isFresh(stream, nowMs, options.staleAfterMs)) continue;
    streams.set(streamKey(stream.projectId, stream.stream), stream.details);
    addStreamSamples(out, stream.projectId, stream.stream, stream.details);
  }
  for (const status of snapshot.targets) {
    const labels = {
      project_id: status.projectId,
      stream: status.target.stream,
      task: status.target.task,
    };
    if (isServable(status, nowMs, options.staleAfterMs)) {
      const context = {
        nowMs,
        stream: streams.get(streamKey(status.projectId, status.target.stream)),
        tracks: status.tracks ?? {},
        currentOnly: options.stateSets === 'current',
      };
      addTaskSamples(out, labels, status.task!, context, options.stallAfterMs);
    }
    out.targetUp.push({ labels, value: status.up ? 1 : 0 });
    if (status.lastSuccessMs !== undefined) {
      out.targetLastSuccess.push({ labels, value: status.lastSuccessMs / 1000 });
    }
    for (const reason of ERROR_REASONS) {
      out.targetErrors.push({ labels: { ...labels, reason }, value: status.errors[reason] ?? 0 });
    }
  }
  out.targets.push({ labels: {}, value: snapshot.targets.length });
  if (snapshot.discovery !== undefined) {
    out.discoveryErrors.push({ labels: {}, value: snapshot.discovery.errors });
    if (snapshot.discovery.lastSuccessMs !== undefined) {
      out.lastDiscoverySuccess.push({ labels: {}, value: snapshot.discovery.lastSuccessMs / 1000 });
    }
  }
  return out;
}

type TaskLabels = Readonly<{ project_id: string; stream: string; task: string }>;
type TaskContext = Readonly<{
  nowMs: number;
  stream: StreamDetails | undefined;
  tracks: Readonly<Record<string, PartitionTrack>>;
  /** `metrics.stateSets: current`: a state set gives only its current member. */
  currentOnly: boolean;
}>;

/** The stream partitions' offsets, labelled with the stream asked for (never the name its answer echoes). */
function addStreamSamples(
  out: Record<FamilyKey, Sample[]>,
  projectId: string,
  stream: string,
  details: StreamDetails,
): void {
  const partitions = [...details.partitions].sort((a, b) => compare(a.partitionId, b.partitionId));
  for (const partition of partitions) {
    if (partition.startOffset === undefined || partition.endOffset === undefined) continue;
    const labels = { project_id: projectId, stream, partition: partition.partitionId };
    out.streamStartOffset.push({ labels, value: partition.startOffset });
    out.streamEndOffset.push({ labels, value: partition.endOffset });
  }
}

function addTaskSamples(
  out: Record<FamilyKey, Sample[]>,
  labels: TaskLabels,
  task: DumpTask,
  context: TaskContext,
  configuredStallAfterMs: number | undefined,
): void {
  const { nowMs } = context;
  out.taskInfo.push({
    labels: {
      ...labels,
      task_id: task.taskId,
      destination_type: task.destinationType,
      destination: task.destination,
    },
    value: 1,
  });
  pushStateSet(out.taskState, 'state', KNOWN_STATES, labels, task.state, context.currentOnly);
  if (task.createTimeMs !== undefined) out.taskCreateTime.push({ labels, value: task.createTimeMs / 1000 });
  if (task.lastTransferTimestampMs !== undefined) {
    out.taskLastTransfer.push({ labels, value: task.lastTransferTimestampMs / 1000 });
    out.taskLag.push({ labels, value: lagSeconds(nowMs, task.lastTransferTimestampMs) });
  }
  if (task.deliverIntervalSeconds !== undefined) {
    out.taskDeliverInterval.push({ labels, value: task.deliverIntervalSeconds });
  }
  out.taskPartitions.push({ labels, value: task.partitions.length });

  const ranges = new Map<string, StreamPartition>(context.stream?.partitions.map((p) => [p.partitionId, p]) ?? []);
  const stallAfter = stallAfterMs(configuredStallAfterMs, task.deliverIntervalSeconds);
  const partitions = [...task.partitions].sort((a, b) => compare(a.partitionId, b.partitionId));
  for (const partition of partitions) {
    const partitionLabels = { ...labels, partition: partition.partitionId };
    pushStateSet(out.partitionState, 'state', KNOWN_STATES, partitionLabels, partition.state, context.currentOnly);
    if (partition.discard !== undefined) {
      out.partitionDiscarded.push({ labels: partitionLabels, value: partition.discard });
    }
    if (partition.lastTransferOffset !== undefined) {
      out.partitionOffset.push({ labels: partitionLabels, value: partition.lastTransferOffset });
    }
    if (partition.lastTransferTimestampMs !== undefined) {
      out.partitionLastTransfer.push({ labels: partitionLabels, value: partition.lastTransferTimestampMs / 1000 });
      out.partitionLag.push({ labels: partitionLabels, value: lagSeconds(nowMs, partition.lastTransferTimestampMs) });
    }
    const range = ranges.get(partition.partitionId);
    const waiting = lagRecords(range, partition.lastTransferOffset);
    if (waiting !== undefined) out.partitionLagRecords.push({ labels: partitionLabels, value: waiting });
    const expired = expiredRecords(range, partition.lastTransferOffset);
    if (expired !== undefined) out.partitionExpiredRecords.push({ labels: partitionLabels, value: expired });
    const track = context.tracks[partition.partitionId];
    if (track !== undefined) {
      const verdict = judge(track, nowMs, stallAfter);
      out.partitionStalledSeconds.push({ labels: partitionLabels, value: verdict.stalledSeconds });
      pushStateSet(
        out.partitionStatus,
        'status',
        PARTITION_STATUSES,
        partitionLabels,
        verdict.status,
        context.currentOnly,
      );
    }
  }
}

/**
 * A state set: every known member with 0 or 1, plus the current one if the API returned an unknown one; with
 * `currentOnly`, just the current member with 1 (none when it is missing).
 */
function pushStateSet(
  into: Sample[],
  labelName: string,
  known: readonly string[],
  labels: Readonly<Record<string, string>>,
  current: string | undefined,
  currentOnly: boolean,
): void {
  if (!currentOnly) {
    for (const member of known)
      into.push({ labels: { ...labels, [labelName]: member }, value: member === current ? 1 : 0 });
  }
  if (current !== undefined && (currentOnly || !known.includes(current))) {
    into.push({ labels: { ...labels, [labelName]: current }, value: 1 });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
