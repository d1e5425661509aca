import { appExpiredRecords, appLagRecords } from '../poll/lag-and-staleness.js';
import type { AppStatus, Snapshot, StreamStatus } from '../poll/store.js';

// The landing page's rows for consumer apps and stream health, one project at a time (docs/metrics.md ("Consumer
// apps", "Stream health")): what the page shows besides the dump tasks. Pure, like the page; every value from DIS or
// the configuration goes through the page's own HTML escaping, which the page passes in (so that neither module
// imports the other).

/** Escapes text for HTML element content. */
type Escape = (text: string) => string;

/** What an app/stream pair's partitions add up to. */
type AppTotals = Readonly<{
  waiting: number;
  worst: Readonly<{ partitionId: string; lag: number }> | undefined;
  withoutCheckpoint: number;
  expired: number;
}>;

/**
 * The project's consumer apps (the pair with the most records waiting first) and the streams whose details it has,
 * each a table headed by `<h3>` and preceded by a newline; `''` when the project has neither.
 */
export function renderAppsAndStreams(snapshot: Snapshot, projectId: string, escape: Escape): string {
  const apps = (snapshot.apps ?? []).filter((status) => status.projectId === projectId);
  const streams = snapshot.streams.filter((status) => status.projectId === projectId && status.details !== undefined);
  const parts: string[] = [];
  if (apps.length > 0) parts.push(`<h3>Consumer apps</h3>\n${appTable(apps, escape)}`);
  if (streams.length > 0) parts.push(`<h3>Streams</h3>\n${streamTable(streams, escape)}`);
  return parts.map((part) => `\n${part}`).join('');
}

function appTable(apps: readonly AppStatus[], escape: Escape): string {
  const rows = apps
    .map((status) => ({ status, totals: totalsOf(status) }))
    .sort((a, b) => b.totals.waiting - a.totals.waiting);
  const lines = rows.map(({ status, totals }) => {
    const state = status.lastPollMs === undefined ? 'pending' : status.up ? 'up' : 'down';
    const known = status.state !== undefined;
    const worst = totals.worst === undefined ? '' : `${totals.worst.partitionId}: ${totals.worst.lag}`;
    const error = status.lastError === undefined ? '' : `${status.lastError.reason}: ${status.lastError.message}`;
    const cells = [
      status.pair.app,
      status.pair.stream,
      state,
      known ? String(totals.waiting) : '',
      worst,
      known ? String(totals.withoutCheckpoint) : '',
      known ? String(totals.expired) : '',
      error,
    ];
    return row(state, cells, escape);
  });
  return table(
    ['app', 'stream', 'state', 'records waiting', 'most behind', 'no checkpoint', 'expired records', 'last error'],
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

function streamTable(streams: readonly StreamStatus[], escape: Escape): string {
  const lines = streams.map(({ stream, details, lastError }) => {
    const { status = '', retentionHours, writablePartitions, readablePartitions, streamId = '' } = details!;
    const notActive = details!.partitions.filter((partition) => partition.status !== 'ACTIVE');
    const cells = [
      stream,
      streamId,
      status,
      retentionHours === undefined ? '' : `${retentionHours} h`,
      `${writablePartitions ?? '?'} / ${readablePartitions ?? '?'}`,
      notActive.map((partition) => `${partition.partitionId} ${partition.status ?? '(no status)'}`).join(', '),
      lastError === undefined ? '' : `${lastError.reason}: ${lastError.message}`,
    ];
    // The page's style colours the third cell: green while RUNNING, red otherwise (FROZEN above all).
    return row(status === 'RUNNING' ? 'up' : 'down', cells, escape);
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

function row(className: string, cells: readonly string[], escape: Escape): string {
  return `<tr class="${className}">${cells.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`;
}

function table(headings: readonly string[], rows: readonly string[]): string {
  return `<table>
<thead><tr>${headings.map((heading) => `<th>${heading}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
