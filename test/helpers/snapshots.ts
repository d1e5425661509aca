import type { DumpTask } from '../../src/dis/types.js';
import type { Snapshot } from '../../src/poll/store.js';

/** The project of every target and stream of the fixed snapshot. */
export const SNAPSHOT_PROJECT_ID = '0123456789abcdef0123456789abcdef';

/** Scrape time of the fixed snapshot: 2024-01-01T00:10:00Z. */
export const SCRAPE_MS = Date.UTC(2024, 0, 1, 0, 10, 0);
const POLLED_MS = SCRAPE_MS - 20_000;

/** The OBS task of docs/dis-api.md ("Example"), moved to 2024, with a second, ABNORMAL partition. */
export const ordersTask: DumpTask = {
  taskId: 'As805BudhcH1lDs6gbn',
  state: 'RUNNING',
  destinationType: 'OBS',
  destination: 'obsbucket',
  createTimeMs: 1704067200000 - 86_400_000,
  lastTransferTimestampMs: SCRAPE_MS - 90_500,
  deliverIntervalSeconds: 60,
  partitions: [
    {
      partitionId: 'shardId-0000000001',
      state: 'ABNORMAL',
      discard: 12,
      lastTransferOffset: 1000,
      lastTransferTimestampMs: SCRAPE_MS - 3_600_000,
    },
    {
      partitionId: 'shardId-0000000000',
      state: 'RUNNING',
      discard: 0,
      lastTransferOffset: 289897,
      lastTransferTimestampMs: SCRAPE_MS - 90_500,
    },
  ],
};

/** A DLI task in a state docs/metrics.md ("Dump task metrics") does not list, with missing timestamps and fields. */
const oddTask: DumpTask = {
  taskId: '',
  state: 'SUSPENDED',
  destinationType: 'DLI',
  destination: 'db.table "quoted"\\',
  partitions: [{ partitionId: 'shardId-0000000000', state: 'RUNNING', lastTransferOffset: 0 }],
};

/** A DWS task whose dump time lies in the future (clock skew): lag 0. */
const futureTask: DumpTask = {
  taskId: 'gGGu2WN88XbmRTm64nJ',
  state: 'PAUSED',
  destinationType: 'DWS',
  destination: 'dws-cluster',
  createTimeMs: SCRAPE_MS - 1000,
  lastTransferTimestampMs: SCRAPE_MS + 5000,
  partitions: [],
};

/** Every case of the series lifecycle in one snapshot, for the golden exposition. */
export const fixedSnapshot: Snapshot = {
  cyclesCompleted: 3,
  lastCycleEndMs: POLLED_MS,
  discovery: { errors: 2, lastSuccessMs: SCRAPE_MS - 60_000 },
  streams: [
    {
      projectId: SNAPSHOT_PROJECT_ID,
      stream: 'orders',
      lastSuccessMs: POLLED_MS,
      details: {
        partitions: [
          { partitionId: 'shardId-0000000001', status: 'ACTIVE', startOffset: 2000, endOffset: 2500 },
          { partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 289_000, endOffset: 290_000 },
          // EXPIRED: a null range gives no offsets and no lag in records
          { partitionId: 'shardId-0000000002', status: 'EXPIRED' },
        ],
      },
    },
    {
      // failing for 6 minutes: past staleAfter, its offsets are no longer served
      projectId: SNAPSHOT_PROJECT_ID,
      stream: 'clicks',
      lastSuccessMs: SCRAPE_MS - 360_000,
      lastError: { reason: 'timeout', message: 'no response', atMs: POLLED_MS },
      details: {
        partitions: [{ partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 10 }],
      },
    },
  ],
  targets: [
    {
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'orders', task: 'orders-to-obs' },
      up: true,
      lastPollMs: POLLED_MS,
      lastSuccessMs: POLLED_MS,
      task: ordersTask,
      errors: { timeout: 1 },
      tracks: {
        // moved at the last poll, records waiting again since: progressing
        'shardId-0000000000': {
          recent: [
            { atMs: POLLED_MS - 60_000, offset: 289_800, lagRecords: 150 },
            { atMs: POLLED_MS, offset: 289_897, lagRecords: 103 },
          ],
          waitingSinceMs: POLLED_MS,
        },
        // records waiting, offset still for an hour: stalled (stallAfter = 3 × 60 s)
        'shardId-0000000001': {
          recent: [
            { atMs: POLLED_MS - 60_000, offset: 1000, lagRecords: 1490 },
            { atMs: POLLED_MS, offset: 1000, lagRecords: 1500 },
          ],
          waitingSinceMs: SCRAPE_MS - 3_600_000,
        },
      },
    },
    {
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'clicks', task: 'clicks-to-dli' },
      up: true,
      lastPollMs: POLLED_MS,
      lastSuccessMs: POLLED_MS,
      task: oddTask,
      errors: {},
    },
    {
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'payments', task: 'payments-to-dws' },
      up: true,
      lastPollMs: POLLED_MS,
      lastSuccessMs: POLLED_MS,
      task: futureTask,
      errors: {},
    },
    {
      // failing for 2 minutes: still within staleAfter (5m), its data is served
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'orders', task: 'stale-but-served' },
      up: false,
      lastPollMs: POLLED_MS,
      lastSuccessMs: SCRAPE_MS - 120_000,
      lastError: {
        reason: 'server_error',
        message: 'GET /v2/p/streams/orders/transfer-tasks/stale-but-served: HTTP 500 DIS.5000',
        atMs: POLLED_MS,
      },
      task: { ...ordersTask, partitions: [] },
      errors: { server_error: 2 },
    },
    {
      // failing for 6 minutes: past staleAfter, only self-metrics remain
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'orders', task: 'stale-and-dropped' },
      up: false,
      lastPollMs: POLLED_MS,
      lastSuccessMs: SCRAPE_MS - 360_000,
      lastError: { reason: 'throttled', message: 'HTTP 429', atMs: POLLED_MS },
      task: ordersTask,
      errors: { throttled: 6 },
    },
    {
      // deleted: no data at all, and never a success
      projectId: SNAPSHOT_PROJECT_ID,
      target: { stream: 'orders', task: 'deleted' },
      up: false,
      lastPollMs: POLLED_MS,
      lastError: { reason: 'not_found', message: 'HTTP 400 DIS.4354', atMs: POLLED_MS },
      errors: { not_found: 3 },
    },
  ],
};
