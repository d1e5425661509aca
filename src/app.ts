import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { resolveCredentials } from './config/credentials.js';
import { keepRestartOnlyKeys } from './config/restart-only.js';
import type { Config, Credentials } from './config/types.js';
import { createDisClient, type ClientLimits, type DisClient, type HttpDisClient } from './dis/client.js';
import { createHttpApp, listen, type RunningServer } from './http/server.js';
import { createExposition, type ExpositionOptions } from './metrics/exposition.js';
import { renderExposition } from './metrics/render.js';
import { ScrapePriority } from './metrics/scrape-priority.js';
import { registerSelfMetrics, type BuildInfo } from './metrics/self.js';
import { Poller, type PollerSettings } from './poller.js';
import { Reloader, type ReloadOutcome, type ReloadStep } from './reload.js';
import { SnapshotStore } from './store.js';

/** What createApp takes besides the config; everything after `build` has a production default. */
export type AppDeps = Readonly<{
  logger: Logger;
  /** The credentials `config.auth` resolved to at start. */
  credentials: Credentials;
  /** Reads the configuration again as at start (file, then environment) for a reload; throws ConfigError. */
  readConfig: () => Config;
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
  /** Re-reads the configuration and the credential files and applies them (SIGHUP, `POST /-/reload`); never rejects. */
  reload(): Promise<ReloadOutcome>;
  /** Listens, then starts polling; rejects if the port is taken. */
  start(): Promise<RunningServer>;
  /** Stops polling, lets in-flight scrapes finish (10 s at most) and closes connections. */
  stop(): Promise<void>;
}>;

const SHUTDOWN_GRACE_MS = 10_000;

/** Composition root: client → poller → store → metrics → http; a reload swaps the settings of each. */
export function createApp(config: Config, deps: AppDeps): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const registry = new Registry();
  const store = new SnapshotStore();
  // The configuration in effect and its credentials (read by the client at each request): a reload replaces both.
  let current = config;
  let credentials = deps.credentials;

  // The data families come straight from the snapshot (their text cached per snapshot); the registry holds only
  // the long-lived instruments, which are rendered after them.
  const metricsLogger = logger.child({ component: 'metrics' });
  let exposition = createExposition(expositionOptions(config, metricsLogger));
  // A scrape goes first: while one is rendered, the poller's new DIS requests wait (a second at most).
  const priority = new ScrapePriority(clock);
  const metrics = (openMetrics: boolean): AsyncIterable<string> =>
    priority.first(
      renderExposition({ exposition, registry, snapshot: () => store.current(), now: () => clock.now() }, openMetrics),
    );
  const self = registerSelfMetrics(registry, deps.build, config.shard, clock.now());
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const httpClient: HttpDisClient | undefined =
    deps.client === undefined
      ? createDisClient({
          endpoint: config.dis.endpoint,
          projectId: config.dis.projectId,
          credentials: () => credentials,
          ...clientLimits(config),
          clock,
          userAgent: `dis-exporter/${deps.build.version}`,
          onRequest: (event) => self.recordApiRequest(event),
          ...(deps.random === undefined ? {} : { random: deps.random }),
        })
      : undefined;
  const client = deps.client ?? httpClient!;

  const poller = new Poller({
    ...pollerSettings(config),
    projectId: config.dis.projectId,
    client: priority.gate(client),
    store,
    clock,
    logger: logger.child({ component: 'poller' }),
    onCycle: (seconds) => {
      self.recordPollCycle(seconds);
      // The label text of the new snapshot is built now rather than by the first scrape that finds it.
      void exposition.prepare(store.current());
    },
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });

  const reloadLogger = logger.child({ component: 'reload' });
  /** Puts a checked configuration into effect: from the next cycle for polling, from the next scrape for metrics. */
  const applyConfig = (next: Config, nextCredentials: Credentials): void => {
    const { config: applied, ignored } = keepRestartOnlyKeys(current, next);
    if (ignored.length > 0) reloadLogger.warn({ keys: ignored }, 'changed settings need a restart; kept as they were');
    current = applied;
    credentials = nextCredentials;
    logger.level = applied.log.level;
    exposition = createExposition(expositionOptions(applied, metricsLogger));
    self.setShard(applied.shard);
    httpClient?.reconfigure(clientLimits(applied));
    poller.reconfigure(pollerSettings(applied));
  };
  // In order; all must prepare before any applies.
  const reloadSteps: ReloadStep[] = [
    {
      name: 'config',
      prepare: () => {
        const next = deps.readConfig();
        const nextCredentials = resolveCredentials(next.auth);
        return () => applyConfig(next, nextCredentials);
      },
    },
  ];
  const reloader = new Reloader({
    steps: reloadSteps,
    clock,
    logger: reloadLogger,
    onOutcome: (successful, atMs) => self.recordConfigReload(successful, atMs),
  });

  let running: RunningServer | undefined;
  const httpLogger = logger.child({ component: 'http' });

  return {
    registry,
    store,
    metrics,
    poller,
    reload: () => reloader.reload(),
    async start() {
      const app = createHttpApp({
        metrics,
        store,
        isAlive: () => poller.isAlive(),
        version: deps.build.version,
        projectId: config.dis.projectId,
        logger: httpLogger,
        reload: () => reloader.reload(),
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

function expositionOptions(config: Config, logger: Logger): ExpositionOptions {
  return {
    pollIntervalMs: config.poll.intervalMs,
    logger,
    projectId: config.dis.projectId,
    staleAfterMs: config.poll.staleAfterMs,
    stateSets: config.metrics.stateSets,
    ...(config.lag.stallAfterMs === undefined ? {} : { stallAfterMs: config.lag.stallAfterMs }),
  };
}

function clientLimits(config: Config): ClientLimits {
  return { timeoutMs: config.poll.timeoutMs, retries: config.poll.retries, maxSockets: config.poll.concurrency };
}

function pollerSettings(config: Config): PollerSettings {
  return {
    selectors: config.targets,
    shard: config.shard,
    intervalMs: config.poll.intervalMs,
    concurrency: config.poll.concurrency,
    discoveryIntervalMs: config.discovery.intervalMs,
    lagRecords: config.lag.records,
  };
}
