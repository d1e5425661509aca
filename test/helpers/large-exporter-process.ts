// The whole exporter in a process of its own (forked by a test), serving a large generated snapshot, so that the
// test can read the exporter's own RSS. The DIS client is a fake that fails every call: the snapshot never changes.
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { DisClient } from '../../src/dis/client.js';
import { CREDENTIALS, testConfig } from './exporter.js';
import { largeSnapshot } from './large-snapshot.js';

/** What the test passes as the first argument (JSON). */
export type LargeExporterOptions = Readonly<{ tasks: number; partitions: number; sendTimeoutMs: number }>;
/** What the process sends once it serves the large snapshot. */
export type LargeExporterReady = Readonly<{ url: string }>;

/** The scrape time of the snapshot; the clock stands still there, so every render of it is the same. */
export const LARGE_EXPORTER_NOW_MS = Date.UTC(2024, 0, 1);

const options = JSON.parse(process.argv[2] ?? '{}') as LargeExporterOptions;
const clock: Clock = { now: () => LARGE_EXPORTER_NOW_MS, sleep: systemClock.sleep };
const fail = (): Promise<never> => Promise.reject(new Error('no DIS in this test'));
const client: DisClient = {
  getDumpTask: fail,
  listStreams: fail,
  listDumpTasks: fail,
  getStream: fail,
  listApps: fail,
  getConsumerState: fail,
  close: () => undefined,
};
const base = testConfig('http://127.0.0.1:1', { intervalMs: 3_600_000 });
// No limit on concurrent scrapes: memory must stay bounded without it.
const config = { ...base, server: { ...base.server, maxRequests: 0 } };
const app = createApp(config, {
  logger: pino({ level: 'silent' }),
  credentials: () => ({ kind: 'aksk', ...CREDENTIALS }),
  readConfig: () => config,
  build: { version: '0.0.0-test', revision: 'test', nodejsVersion: process.version },
  clock,
  client,
  processMetrics: false,
  timeouts: { sendTimeoutMs: options.sendTimeoutMs },
});
const server = await app.start();
while (app.store.current().cyclesCompleted < 1) await new Promise((resolve) => setTimeout(resolve, 5));
app.store.replace(largeSnapshot({ tasks: options.tasks, partitions: options.partitions }, LARGE_EXPORTER_NOW_MS));
process.send?.({ url: server.url } satisfies LargeExporterReady);
process.on('disconnect', () => void app.stop().then(() => process.exit(0)));
