import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { Config, Credentials } from './config/types.js';
import { createDisClient, type DisClient } from './dis/client.js';
import { createHttpApp, listen, type RunningServer } from './http/server.js';
import { registerDisMetrics } from './metrics/collector.js';
import { toSamples } from './metrics/samples.js';
import { registerSelfMetrics, type BuildInfo } from './metrics/self.js';
import { Poller } from './poller.js';
import { SnapshotStore } from './store.js';

/** What createApp takes besides the config; everything here has a production default. */
export type AppDeps = Readonly<{
  logger: Logger;
  credentials: () => Credentials;
  build: BuildInfo;
  clock?: Clock;
  random?: () => number;
  /** prom-client's default process_* and nodejs_* metrics (off in golden tests: they vary). */
  processMetrics?: boolean;
  /** Replaces the real DIS client (tests of the poller-to-metrics path). */
  client?: DisClient;
}>;

/** The wired exporter. */
export type App = Readonly<{
  registry: Registry;
  store: SnapshotStore;
  poller: Poller;
  /** Listens, then starts polling; rejects if the port is taken. */
  start(): Promise<RunningServer>;
  /** Stops polling, lets in-flight scrapes finish (10 s at most) and closes connections. */
  stop(): Promise<void>;
}>;

const SHUTDOWN_GRACE_MS = 10_000;

/** Composition root: client → poller → store → metrics → http. */
export function createApp(config: Config, deps: AppDeps): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const registry = new Registry();
  const store = new SnapshotStore();

  registerDisMetrics(registry, {
    pollIntervalMs: config.poll.intervalMs,
    logger: logger.child({ component: 'metrics' }),
    compute: () =>
      toSamples(store.current(), clock.now(), {
        projectId: config.dis.projectId,
        staleAfterMs: config.poll.staleAfterMs,
        ...(config.lag.stallAfterMs === undefined ? {} : { stallAfterMs: config.lag.stallAfterMs }),
      }),
  });
  const self = registerSelfMetrics(registry, deps.build, config.shard);
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const client =
    deps.client ??
    createDisClient({
      endpoint: config.dis.endpoint,
      projectId: config.dis.projectId,
      credentials: deps.credentials,
      timeoutMs: config.poll.timeoutMs,
      retries: config.poll.retries,
      maxSockets: config.poll.concurrency,
      clock,
      userAgent: `dis-exporter/${deps.build.version}`,
      onRequest: (event) => self.recordApiRequest(event),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });

  const poller = new Poller({
    selectors: config.targets,
    projectId: config.dis.projectId,
    shard: config.shard,
    discoveryIntervalMs: config.discovery.intervalMs,
    lagRecords: config.lag.records,
    client,
    store,
    clock,
    logger: logger.child({ component: 'poller' }),
    intervalMs: config.poll.intervalMs,
    concurrency: config.poll.concurrency,
    onCycle: (seconds) => self.recordPollCycle(seconds),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });

  let running: RunningServer | undefined;
  const httpLogger = logger.child({ component: 'http' });

  return {
    registry,
    store,
    poller,
    async start() {
      const app = createHttpApp({
        registry,
        store,
        isAlive: () => poller.isAlive(),
        version: deps.build.version,
        projectId: config.dis.projectId,
        logger: httpLogger,
      });
      running = await listen(app, config.server.host, config.server.port);
      httpLogger.info({ url: running.url }, 'listening');
      poller.start();
      return running;
    },
    async stop() {
      await poller.stop();
      await running?.close(SHUTDOWN_GRACE_MS);
      client.close();
    },
  };
}
