import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { Config, Credentials } from './config/types.js';
import { createDisClient, type DisClient } from './dis/client.js';
import { createHttpApp, listen, type RunningServer } from './http/server.js';
import { createExposition } from './metrics/exposition.js';
import { renderExposition } from './metrics/render.js';
import { ScrapePriority } from './metrics/scrape-priority.js';
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
  /** The self-metrics and process metrics; the data families are rendered from the store, not held here. */
  registry: Registry;
  store: SnapshotStore;
  /** The /metrics body as it is served, in chunks. */
  metrics(openMetrics: boolean): AsyncIterable<string>;
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

  // The data families come straight from the snapshot (their text cached per snapshot); the registry holds only
  // the long-lived instruments, which are rendered after them.
  const exposition = createExposition({
    pollIntervalMs: config.poll.intervalMs,
    logger: logger.child({ component: 'metrics' }),
    projectId: config.dis.projectId,
    staleAfterMs: config.poll.staleAfterMs,
    stateSets: config.metrics.stateSets,
    ...(config.lag.stallAfterMs === undefined ? {} : { stallAfterMs: config.lag.stallAfterMs }),
  });
  // A scrape goes first: while one is rendered, the poller's new DIS requests wait (a second at most).
  const priority = new ScrapePriority(clock);
  const metrics = (openMetrics: boolean): AsyncIterable<string> =>
    priority.first(
      renderExposition({ exposition, registry, snapshot: () => store.current(), now: () => clock.now() }, openMetrics),
    );
  const self = registerSelfMetrics(registry, deps.build, config.shard);
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const disLogger = logger.child({ component: 'dis' });
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
      // Logged here, once per cool-down: 'poll failed' logs a target only when its reason changes, so it would show
      // the DIS.4309 or 401 that began the cool-down but never the cool-down itself and its remedy.
      onCooldown: ({ untilMs, error }) =>
        disLogger.error(
          { until: new Date(untilMs).toISOString(), error: error.message },
          'DIS requests paused (cool-down)',
        ),
      onClockSkew: (skewSeconds) =>
        disLogger.error({ skewSeconds }, 'host clock is off (APIGW.0303); sync it with NTP'),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });

  const poller = new Poller({
    selectors: config.targets,
    projectId: config.dis.projectId,
    shard: config.shard,
    discoveryIntervalMs: config.discovery.intervalMs,
    lagRecords: config.lag.records,
    client: priority.gate(client),
    store,
    clock,
    logger: logger.child({ component: 'poller' }),
    intervalMs: config.poll.intervalMs,
    concurrency: config.poll.concurrency,
    onCycle: (seconds) => {
      self.recordPollCycle(seconds);
      // The label text of the new snapshot is built now rather than by the first scrape that finds it.
      void exposition.prepare(store.current());
    },
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });

  let running: RunningServer | undefined;
  const httpLogger = logger.child({ component: 'http' });

  return {
    registry,
    store,
    metrics,
    poller,
    async start() {
      const app = createHttpApp({
        metrics,
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
