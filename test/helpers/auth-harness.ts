import { Writable } from 'node:stream';
import baseGot from 'got';
import type { Logger } from 'pino';
import type { App } from '../../src/app.js';
import type { Config, Credentials } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { SCENARIO, cyclesCompleted, scrape, startExporter, testConfig } from './exporter.js';
import { ManualClock } from './manual-clock.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

/**
 * The exporter's own logger (its redaction included) at trace level, every line kept as written: what a leak test
 * must search.
 */
export function exporterLogs(): { logger: Logger; texts: string[] } {
  const texts: string[] = [];
  const logger = createLogger(
    { log: { level: 'trace', format: 'json' } },
    new Writable({
      write(chunk, _encoding, done) {
        texts.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, texts };
}

/** The exporter against the simulator with renewed credentials, its logs (every level, as written) kept. */
export type AuthHarness = Readonly<{
  clock: ManualClock;
  dis: FakeDis;
  app: App;
  server: RunningServer;
  /** The log lines, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Everything the exporter showed: its log text, /metrics and the landing page. */
  everythingShown(): Promise<string>;
  /** Advances the clock by one poll interval and waits for the next cycle. */
  nextCycle(): Promise<void>;
  close(): Promise<void>;
}>;

/**
 * Starts the simulator (SCENARIO's streams, no static AK/SK, plus `scenario`) and the exporter with the credentials
 * `credentials` gives for it, at `t0`; resolves after the first cycle.
 */
export async function startAuthHarness(
  t0: number,
  scenario: Record<string, unknown>,
  credentials: (dis: FakeDis) => Credentials,
  poll: Partial<Config['poll']> = {},
): Promise<AuthHarness> {
  const clock = new ManualClock(t0);
  const dis = await startFakeDis({
    clock,
    scenario: parseScenario({ ...SCENARIO, credentials: [], epochMs: t0, ...scenario }),
  });
  const { logger, texts } = exporterLogs();
  const given = credentials(dis);
  const config = testConfig(dis.url, poll);
  const { app, server } = await startExporter(config, { clock, credentials: () => given, logger });
  let cycles = 1;
  await cyclesCompleted(app, cycles);
  return {
    clock,
    dis,
    app,
    server,
    get logs() {
      return texts.map((text) => JSON.parse(text) as Record<string, unknown>);
    },
    async everythingShown() {
      return [texts.join(''), await scrape(server), (await got(`${server.url}/`)).body].join('\n');
    },
    async nextCycle() {
      await clock.advance(config.poll.intervalMs);
      cycles += 1;
      await cyclesCompleted(app, cycles);
    },
    async close() {
      await app.stop();
      await dis.close();
    },
  };
}
