import type { AppPartitionState, StreamPartition } from '../dis/types.js';
import type { AppStatus, StreamStatus, TargetStatus } from './store.js';

// What a snapshot shows at a given time, one copy of each rule: the /metrics writer (metrics/family-writers.ts),
// the prom-client reference it is tested against (test/reference/) and the poller (each partition's track) all
// call these, so they cannot disagree. docs/metrics.md ("Series lifecycle", "Lag in seconds and in records").

/**
 * Whether a target's last task details may still be served at `nowMs`: its latest poll succeeded, or its last success
 * is at most staleAfter old.
 */
export function isServable(status: TargetStatus, nowMs: number, staleAfterMs: number): boolean {
  return status.task !== undefined && isRecent(status, nowMs, staleAfterMs);
}

/** Whether an app/stream pair's last consumption state may still be served at `nowMs`: as for a target. */
export function isAppServable(status: AppStatus, nowMs: number, staleAfterMs: number): boolean {
  return status.state !== undefined && isRecent(status, nowMs, staleAfterMs);
}

function isRecent(
  status: Readonly<{ up: boolean; lastSuccessMs?: number }>,
  nowMs: number,
  staleAfterMs: number,
): boolean {
  if (status.up) return true;
  return status.lastSuccessMs !== undefined && nowMs - status.lastSuccessMs <= staleAfterMs;
}

/** Whether a stream's details may still be served at `nowMs`: there are some, at most staleAfter old (as targets). */
export function isFresh(stream: StreamStatus, nowMs: number, staleAfterMs: number): boolean {
  return (
    stream.details !== undefined && stream.lastSuccessMs !== undefined && nowMs - stream.lastSuccessMs <= staleAfterMs
  );
}

/** Scrape time minus a dump time, in seconds, at least 0. */
export function lagSeconds(nowMs: number, timestampMs: number): number {
  return Math.max(0, nowMs - timestampMs) / 1000;
}

/**
 * Records of a partition waiting to be dumped: the end of its sequence number range minus the dump's offset, at
 * least 0. Undefined unless the range (both ends: a null or odd range has neither) and the offset are known.
 */
export function lagRecords(range: StreamPartition | undefined, offset: number | undefined): number | undefined {
  const known = knownRange(range, offset);
  return known === undefined ? undefined : Math.max(0, known.endOffset - known.offset);
}

/**
 * Records of a partition that left the stream's retention before the dump reached them: the start of its sequence
 * number range minus the dump's offset, at least 0. Known exactly when lagRecords is.
 */
export function expiredRecords(range: StreamPartition | undefined, offset: number | undefined): number | undefined {
  const known = knownRange(range, offset);
  return known === undefined ? undefined : Math.max(0, known.startOffset - known.offset);
}

function knownRange(
  range: StreamPartition | undefined,
  offset: number | undefined,
): { startOffset: number; endOffset: number; offset: number } | undefined {
  if (range?.startOffset === undefined || range.endOffset === undefined || offset === undefined) return undefined;
  return { startOffset: range.startOffset, endOffset: range.endOffset, offset };
}

/**
 * Records of a partition an app has not consumed: `latest_offset` minus its checkpoint, at least 0. Undefined without
 * a checkpoint (none yet, or an odd one) or without `latest_offset` (docs/metrics.md ("Consumer apps")).
 */
export function appLagRecords(partition: AppPartitionState): number | undefined {
  const { checkpoint, latestOffset } = partition;
  return checkpoint === undefined || latestOffset === undefined ? undefined : Math.max(0, latestOffset - checkpoint);
}

/**
 * Records of a partition that left the stream's retention before the app consumed them: `earliest_offset` minus its
 * checkpoint, at least 0. Undefined without a checkpoint or without `earliest_offset`.
 */
export function appExpiredRecords(partition: AppPartitionState): number | undefined {
  const { checkpoint, earliestOffset } = partition;
  return checkpoint === undefined || earliestOffset === undefined
    ? undefined
    : Math.max(0, earliestOffset - checkpoint);
}
