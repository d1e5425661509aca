import { appExpiredRecords, appLagRecords } from '../poll/lag-and-staleness.js';
import type { AppStatus, StreamStatus } from '../poll/store.js';
import { cell, row, table } from './html.js';

// The landing page's tables of consumer apps and stream health (docs/operations.md ("The landing page")): what the
// page shows besides the dump tasks. Pure, like the page; every value from DIS or the configuration is escaped by the
// page's table helpers (http/html.ts).

/** What an app/stream pair's partitions add up to. */
type AppTotals = Readonly<{
  waiting: number;
  worst: Readonly<{ partitionId: string; lag: number }> | undefined;
  withoutCheckpoint: number;
  expired: number;
}>;

/** The poll status of an app/stream pair: `pending` before its first poll, then `up` or `down`. */
export function appPollText(status: AppStatus): 'pending' | 'up' | 'down' {
  if (status.lastPollMs === undefined) return 'pending';
  return status.up ? 'up' : 'down';
}

/** Whether a stream's details say it is not RUNNING (FROZEN above all); false when unknown. */
export function streamNotRunning(status: StreamStatus): boolean {
  const state = status.details?.status;
  return state !== undefined && state !== 'RUNNING';
}

/** One project's consumer app/stream pairs, the pair with the most records waiting first. */
export function appTable(apps: readonly AppStatus[]): string {
  const rows = apps
    .map((status) => ({ status, totals: totalsOf(status) }))
    .sort((a, b) => b.totals.waiting - a.totals.waiting);
  const lines = rows.map(({ status, totals }) => {
    const poll = appPollText(status);
    const known = status.state !== undefined;
    const worst = totals.worst === undefined ? '' : `${totals.worst.partitionId}: ${totals.worst.lag}`;
    const error = status.lastError === undefined ? '' : `${status.lastError.reason}: ${status.lastError.message}`;
    return row(`${status.pair.app}/${status.pair.stream}`, [
      cell(status.pair.app),
      cell(status.pair.stream),
      cell(poll, poll === 'up' ? 'ok' : poll === 'down' ? 'bad' : 'muted'),
      cell(known ? String(totals.waiting) : '', 'num'),
      cell(worst),
      cell(known ? String(totals.withoutCheckpoint) : '', totals.withoutCheckpoint > 0 ? 'num warn' : 'num'),
      cell(known ? String(totals.expired) : '', totals.expired > 0 ? 'num bad' : 'num'),
      cell(error),
    ]);
  });
  return table(
    ['app', 'stream', 'poll', 'records waiting', 'most behind', 'no checkpoint', 'expired records', 'last error'],
    lines,
  );
}

function totalsOf(status: AppStatus): AppTotals {
  let waiting = 0;
  let expired = 0;
  let withoutCheckpoint = 0;
  let worst: AppTotals['worst'];
  for (const partition of status.state?.partitions ?? []) {
    const lag = appLagRecords(partition);
    if (partition.hasCheckpoint === false) withoutCheckpoint++;
    expired += appExpiredRecords(partition) ?? 0;
    if (lag === undefined) continue;
    waiting += lag;
    if (worst === undefined || lag > worst.lag) worst = { partitionId: partition.partitionId, lag };
  }
  return { waiting, worst, withoutCheckpoint, expired };
}

/** One project's streams whose details the exporter holds: status, retention, partitions, last error. */
export function streamTable(streams: readonly StreamStatus[]): string {
  const lines = streams.map((status) => {
    const { stream, lastError } = status;
    const { status: state, retentionHours, writablePartitions, readablePartitions, streamId = '' } = status.details!;
    const notActive = status.details!.partitions.filter((partition) => partition.status !== 'ACTIVE');
    return row(stream, [
      cell(stream),
      cell(streamId),
      cell(state ?? 'unknown', state === 'RUNNING' ? 'ok' : 'bad'),
      cell(retentionHours === undefined ? '' : `${retentionHours} h`, 'num'),
      cell(`${writablePartitions ?? '?'} / ${readablePartitions ?? '?'}`, 'num'),
      cell(notActive.map((partition) => `${partition.partitionId} ${partition.status ?? '(no status)'}`).join(', ')),
      cell(lastError === undefined ? '' : `${lastError.reason}: ${lastError.message}`),
    ]);
  });
  return table(
    [
      'stream',
      'stream id',
      'status',
      'retention',
      'writable / readable partitions',
      'partitions not ACTIVE',
      'last error',
    ],
    lines,
  );
}
