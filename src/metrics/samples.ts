import { ERROR_REASONS } from '../dis/errors.js';
import { KNOWN_STATES, type DumpTask } from '../dis/types.js';
import type { Snapshot, TargetStatus } from '../store.js';
import { FAMILIES, type FamilyKey } from './names.js';

/** One series: its labels and value. */
export type Sample = Readonly<{ labels: Readonly<Record<string, string>>; value: number }>;

/** Every series of each family, keyed like FAMILIES; a family with no series has an empty list. */
export type Samples = Readonly<Record<FamilyKey, readonly Sample[]>>;

/** What the translation needs besides the snapshot. */
export type TranslationOptions = Readonly<{ projectId: string; staleAfterMs: number }>;

/** Pure: the snapshot as seen at `nowMs` (the scrape time) → every series to expose. */
export function toSamples(snapshot: Snapshot, nowMs: number, options: TranslationOptions): Samples {
  const out = Object.fromEntries(Object.keys(FAMILIES).map((key) => [key, [] as Sample[]])) as Record<
    FamilyKey,
    Sample[]
  >;
  for (const status of snapshot.targets) {
    const labels = {
      project_id: options.projectId,
      stream: status.target.stream,
      task: status.target.task,
    };
    if (isServable(status, nowMs, options.staleAfterMs)) addTaskSamples(out, labels, status.task!, nowMs);
    out.targetUp.push({ labels, value: status.up ? 1 : 0 });
    if (status.lastSuccessMs !== undefined) {
      out.targetLastSuccess.push({ labels, value: status.lastSuccessMs / 1000 });
    }
    for (const reason of ERROR_REASONS) {
      out.targetErrors.push({ labels: { ...labels, reason }, value: status.errors[reason] ?? 0 });
    }
  }
  out.targets.push({ labels: {}, value: snapshot.targets.length });
  return out;
}

/** Whether a target's last data may still be served: it is current, or it failed less than staleAfter ago. */
export function isServable(status: TargetStatus, nowMs: number, staleAfterMs: number): boolean {
  if (status.task === undefined) return false;
  if (status.up) return true;
  return status.lastSuccessMs !== undefined && nowMs - status.lastSuccessMs <= staleAfterMs;
}

type TaskLabels = Readonly<{ project_id: string; stream: string; task: string }>;

function addTaskSamples(out: Record<FamilyKey, Sample[]>, labels: TaskLabels, task: DumpTask, nowMs: number): void {
  out.taskInfo.push({
    labels: {
      ...labels,
      task_id: task.taskId,
      destination_type: task.destinationType,
      destination: task.destination,
    },
    value: 1,
  });
  pushStateSet(out.taskState, labels, task.state);
  if (task.createTimeMs !== undefined) out.taskCreateTime.push({ labels, value: task.createTimeMs / 1000 });
  if (task.lastTransferTimestampMs !== undefined) {
    out.taskLastTransfer.push({ labels, value: task.lastTransferTimestampMs / 1000 });
    out.taskLag.push({ labels, value: lagSeconds(nowMs, task.lastTransferTimestampMs) });
  }
  if (task.deliverIntervalSeconds !== undefined) {
    out.taskDeliverInterval.push({ labels, value: task.deliverIntervalSeconds });
  }
  out.taskPartitions.push({ labels, value: task.partitions.length });

  const partitions = [...task.partitions].sort((a, b) => compare(a.partitionId, b.partitionId));
  for (const partition of partitions) {
    const partitionLabels = { ...labels, partition: partition.partitionId };
    pushStateSet(out.partitionState, partitionLabels, partition.state);
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
  }
}

/** A state set: every known state with 0 or 1, plus the current state if the API returned an unknown one. */
function pushStateSet(into: Sample[], labels: Readonly<Record<string, string>>, state: string | undefined): void {
  for (const known of KNOWN_STATES) into.push({ labels: { ...labels, state: known }, value: known === state ? 1 : 0 });
  if (state !== undefined && !(KNOWN_STATES as readonly string[]).includes(state)) {
    into.push({ labels: { ...labels, state }, value: 1 });
  }
}

function lagSeconds(nowMs: number, timestampMs: number): number {
  return Math.max(0, nowMs - timestampMs) / 1000;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
