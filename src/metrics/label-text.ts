import type { PartitionProgress, StreamPartition } from '../dis/types.js';
import { streamKey, type Snapshot, type StreamStatus, type TargetStatus } from '../poll/store.js';
import { stallAfterMs, type PartitionTrack } from '../poll/verdict.js';

/** A target with the label text of its series. */
export type TargetText = Readonly<{
  status: TargetStatus;
  /** `project_id="…",stream="…",task="…"` */
  labels: string;
  /** The labels of dis_dump_task_info; "" without task details. */
  infoLabels: string;
  /** Index in `LabelText.streams` of the stream its partitions join, -1 when none. */
  stream: number;
  /** The stall threshold of its partitions' verdicts. */
  stallAfterMs: number;
}>;

/** A partition of a target's task details, in the order of the exposition (by target, then partition id). */
export type PartitionText = Readonly<{
  /** Index of its target in `LabelText.targets`. */
  target: number;
  progress: PartitionProgress;
  /** The target's labels and `partition="…"`. */
  labels: string;
  /** The stream partition it joins, whatever the freshness of the stream details. */
  range: StreamPartition | undefined;
  track: PartitionTrack | undefined;
}>;

/** A stream partition with a sequence number range, in the order of the exposition. */
export type StreamPartitionText = Readonly<{
  /** Index of its stream in `LabelText.streams`. */
  stream: number;
  startOffset: number;
  endOffset: number;
  /** `project_id="…",stream="…",partition="…"` */
  labels: string;
}>;

/** The label text of every series of a snapshot: what does not change from one scrape of the snapshot to the next. */
export type LabelText = Readonly<{
  targets: readonly TargetText[];
  partitions: readonly PartitionText[];
  streams: readonly StreamStatus[];
  streamPartitions: readonly StreamPartitionText[];
}>;

/** Items handled between two looks at the clock in the long loops of building and rendering. */
export const BATCH_ITEMS = 512;

/**
 * Longest stretch of building or rendering before timers and I/O get their turn. Counting time rather than items
 * keeps a scrape from waiting behind a busy poll cycle's callbacks once per few items, and the poll cycle from
 * waiting more than this behind a scrape.
 */
export const SLICE_MS = 10;

/** Lets timers and I/O in. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Returns `breathe`, which yields to the event loop once `sliceMs` have passed since it last did (or since the start). */
export function timeSlices(sliceMs: number = SLICE_MS): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await yieldToEventLoop();
    since = performance.now();
  };
}

/**
 * Builds the label text of a snapshot's series once, in the order of the prom-client reference (partitions sorted by
 * id), yielding to the event loop every `sliceMs` (SLICE_MS).
 */
export async function buildLabelText(
  snapshot: Snapshot,
  options: Readonly<{ stallAfterMs?: number; sliceMs?: number }>,
): Promise<LabelText> {
  // Every series takes `project_id` from its own target or stream; the label is written once per project.
  const projectLabels = new Map<string, string>();
  const project = (projectId: string): string => {
    let label = projectLabels.get(projectId);
    if (label === undefined) {
      label = `project_id="${escapeLabelValue(projectId)}"`;
      projectLabels.set(projectId, label);
    }
    return label;
  };
  const breathe = timeSlices(options.sliceMs);
  let work = 0;
  const pause = async (items: number): Promise<void> => {
    work += items;
    if (work < BATCH_ITEMS) return;
    work = 0;
    await breathe();
  };

  const streamPartitions: StreamPartitionText[] = [];
  const streamIndex = new Map<string, number>();
  const ranges: ReadonlyMap<string, StreamPartition>[] = [];
  for (const [index, status] of snapshot.streams.entries()) {
    const details = status.details;
    ranges.push(new Map(details?.partitions.map((p) => [p.partitionId, p]) ?? []));
    if (details === undefined) continue;
    streamIndex.set(streamKey(status.projectId, status.stream), index);
    // The stream asked for, never the name its answer echoes: two streams answered as one would repeat series.
    const labels = `${project(status.projectId)},stream="${escapeLabelValue(status.stream)}",partition="`;
    for (const { partitionId, startOffset, endOffset } of sortedById(details.partitions)) {
      if (startOffset === undefined || endOffset === undefined) continue;
      streamPartitions.push({
        stream: index,
        startOffset,
        endOffset,
        labels: `${labels}${escapeLabelValue(partitionId)}"`,
      });
    }
    await pause(details.partitions.length);
  }

  const targets: TargetText[] = [];
  const partitions: PartitionText[] = [];
  for (const [index, status] of snapshot.targets.entries()) {
    const labels = `${project(status.projectId)},stream="${escapeLabelValue(status.target.stream)}",task="${escapeLabelValue(status.target.task)}"`;
    const task = status.task;
    const stream = streamIndex.get(streamKey(status.projectId, status.target.stream)) ?? -1;
    const tracks: Readonly<Record<string, PartitionTrack>> = status.tracks ?? {};
    for (const progress of sortedById(task?.partitions ?? [])) {
      partitions.push({
        target: index,
        progress,
        labels: `${labels},partition="${escapeLabelValue(progress.partitionId)}"`,
        range: ranges[stream]?.get(progress.partitionId),
        track: tracks[progress.partitionId],
      });
    }
    const info =
      task === undefined
        ? ''
        : `${labels},task_id="${escapeLabelValue(task.taskId)}",destination_type="${escapeLabelValue(task.destinationType)}",destination="${escapeLabelValue(task.destination)}"`;
    targets.push({
      status,
      labels,
      infoLabels: info,
      stream,
      stallAfterMs: stallAfterMs(options.stallAfterMs, task?.deliverIntervalSeconds),
    });
    await pause(1 + (task?.partitions.length ?? 0));
  }
  return { targets, partitions, streams: snapshot.streams, streamPartitions };
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value escaped as prom-client escapes it: backslash, newline and double quote. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sortedById<T extends { readonly partitionId: string }>(partitions: readonly T[]): T[] {
  return [...partitions].sort((a, b) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0));
}
