import { expect } from 'chai';
import baseGot from 'got';
import { pino, type Logger } from 'pino';
import { createApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import type { Config, Credentials } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import { flush } from './manual-clock.js';

export const PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const CREDENTIALS: Credentials = { accessKey: 'TESTACCESSKEY0000000', secretKey: 'test-secret-key-0123456789' };

/** A full config for tests: loopback, port 0, fast timeouts, no retries unless asked. */
export function testConfig(
  endpoint: string,
  overrides: Partial<Config['poll']> = {},
  targets?: Config['targets'],
): Config {
  return {
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'fatal', format: 'json' },
    dis: { endpoint, region: 'cn-north-4', projectId: PROJECT_ID },
    auth: {
      accessKey: CREDENTIALS.accessKey,
      secretKey: CREDENTIALS.secretKey,
      securityToken: '',
      accessKeyFile: '',
      secretKeyFile: '',
    },
    targets: targets ?? [
      { stream: 'orders', task: 'orders-to-obs' },
      { stream: 'clicks', task: 'clicks-to-dli' },
    ],
    poll: { intervalMs: 60_000, timeoutMs: 2_000, concurrency: 4, retries: 0, staleAfterMs: 300_000, ...overrides },
    discovery: { intervalMs: 300_000 },
    lag: { records: true },
    shard: { index: 0, total: 1, fromHostname: false },
    metrics: { stateSets: 'all' },
  };
}

/** Starts the whole exporter (real HTTP, real client) with an injected clock. */
export async function startExporter(
  config: Config,
  options: {
    clock: Clock;
    credentials?: Credentials;
    processMetrics?: boolean;
    /** What a reload reads; by default the same config again. */
    readConfig?: () => Config;
    /** Silent by default. */
    logger?: Logger;
  },
): Promise<{ app: App; server: RunningServer }> {
  const app = createApp(config, {
    logger: options.logger ?? pino({ level: 'silent' }),
    credentials: options.credentials ?? CREDENTIALS,
    readConfig: options.readConfig ?? (() => config),
    build: { version: '0.0.0-test', revision: 'test', nodejsVersion: 'v20.0.0' },
    clock: options.clock,
    random: () => 0.5,
    processMetrics: options.processMetrics ?? false,
  });
  const server = await app.start();
  return { app, server };
}

/** The sample lines of an exposition for the given metric names (no HELP/TYPE). */
export function seriesOf(exposition: string, ...names: string[]): string[] {
  return exposition
    .split('\n')
    .filter((line) => names.some((name) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)));
}

/** The exposition without the lines whose values depend on wall-clock durations. */
export function withoutDurations(exposition: string): string {
  return exposition
    .split('\n')
    .filter((line) => !/^dis_exporter_(api_request|poll)_duration_seconds_(bucket|sum|count)/.test(line))
    .join('\n');
}

/** Lets the poll loop run (on its injected clock) until `count` cycles have completed; fails if it does not get there. */
export async function cyclesCompleted(app: App, count: number): Promise<void> {
  for (let i = 0; i < 2000 && app.store.current().cyclesCompleted < count; i++) await flush();
  expect(app.store.current().cyclesCompleted).to.equal(count);
}

// got retries some statuses by default, which would hide the exporter's own answer
const got = baseGot.extend({ retry: { limit: 0 } });

/** GET /metrics, which must answer 200; its body. */
export async function scrape(server: RunningServer): Promise<string> {
  const response = await got(`${server.url}/metrics`);
  expect(response.statusCode).to.equal(200);
  return response.body;
}
