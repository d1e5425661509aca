import { appExpiredRecords, appLagRecords } from '../poll/lag-and-staleness.js';
import type { AppStatus, StreamStatus } from '../poll/store.js';

// The landing page's tables of consumer apps and stream health (docs/operations.md ("The landing page")): what the
// page shows besides the dump tasks. Pure, like the page; every value from DIS or the configuration goes through the
// page's own HTML escaping, which the page passes in (so that neither module imports the other).

/** Escapes text for HTML element content and attribute values. */
export type Escape = (text: string) => string;

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
export function appTable(apps: readonly AppStatus[], escape: Escape): string {
  const rows = apps
    .map((status) => ({ status, totals: totalsOf(status) }))
    .sort((a, b) => b.totals.waiting - a.totals.waiting);
  const lines = rows.map(({ status, totals }) => {
    const poll = appPollText(status);
    const known = status.state !== undefined;
    const worst = totals.worst === undefined ? '' : `${totals.worst.partitionId}: ${totals.worst.lag}`;
    const error = status.lastError === undefined ? '' : `${status.lastError.reason}: ${status.lastError.message}`;
    return row(`${status.pair.app}/${status.pair.stream}`, escape, [
      [status.pair.app, ''],
      [status.pair.stream, ''],
      [poll, poll === 'up' ? 'ok' : poll === 'down' ? 'bad' : 'muted'],
      [known ? String(totals.waiting) : '', 'num'],
      [worst, ''],
      [known ? String(totals.withoutCheckpoint) : '', totals.withoutCheckpoint > 0 ? 'num warn' : 'num'],
      [known ? String(totals.expired) : '', totals.expired > 0 ? 'num bad' : 'num'],
      [error, ''],
    ]);
  });
  return table(
    ['app', 'stream', 'poll', 'records waiting', 'most behind', 'no checkpoint', 'expired records', 'last error'],
    lines,
    escape,
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
export function streamTable(streams: readonly StreamStatus[], escape: Escape): string {
  const lines = streams.map((status) => {
    const { stream, lastError } = status;
    const { status: state, retentionHours, writablePartitions, readablePartitions, streamId = '' } = status.details!;
    const notActive = status.details!.partitions.filter((partition) => partition.status !== 'ACTIVE');
    return row(stream, escape, [
      [stream, ''],
      [streamId, ''],
      [state ?? 'unknown', state === 'RUNNING' ? 'ok' : 'bad'],
      [retentionHours === undefined ? '' : `${retentionHours} h`, 'num'],
      [`${writablePartitions ?? '?'} / ${readablePartitions ?? '?'}`, 'num'],
      [notActive.map((partition) => `${partition.partitionId} ${partition.status ?? '(no status)'}`).join(', '), ''],
      [lastError === undefined ? '' : `${lastError.reason}: ${lastError.message}`, ''],
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
    escape,
  );
}

/** A table row named by `key` for tools and tests, of [text, class] cells, every text escaped. */
function row(key: string, escape: Escape, cells: readonly (readonly [string, string])[]): string {
  const tds = cells.map(
    ([text, className]) => `<td${className === '' ? '' : ` class="${className}"`}>${escape(text)}</td>`,
  );
  return `<tr data-key="${escape(key)}">${tds.join('')}</tr>`;
}

function table(headings: readonly string[], rows: readonly string[], escape: Escape): string {
  return `<table>
<thead><tr>${headings.map((heading) => `<th>${escape(heading)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
