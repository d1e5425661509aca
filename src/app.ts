import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { renewedMethodOf } from './config/credentials.js';
import { describeConfig } from './config/describe.js';
import { projectsOf, resolveProjectCredentialsAsync } from './config/projects.js';
import { Reloader, type ReloadOutcome } from './config/reload.js';
import { keepRestartOnlyKeys } from './config/restart-only.js';
import type { Config, Credentials, Project, RenewedMethod } from './config/types.js';
import {
  createDisClient,
  type ClientLimits,
  type CredentialEvent,
  type DisClient,
  type HttpDisClient,
} from './dis/client.js';
import { DEFAULT_IAM_REFRESH_AHEAD_MS } from './dis/iam-token.js';
import { SERVER_TIMEOUTS, createHttpApp, listen, type RunningServer, type ServerTimeouts } from './http/server.js';
import { createExposition, type ExpositionOptions } from './metrics/exposition.js';
import { renderExposition } from './metrics/render.js';
import { registerProjectInfo } from './metrics/project-info.js';
import { registerSelfMetrics, type BuildInfo, type SelfMetrics } from './metrics/self.js';
import type { HealthSettings } from './poll/health.js';
import { Poller, type PollerSettings } from './poll/poller.js';
import { ProjectClients } from './poll/project-clients.js';
import { ScrapeFirstClient } from './poll/scrape-first-client.js';
import { ScrapePriority } from './poll/scrape-priority.js';
import { SnapshotStore } from './poll/store.js';
import { WebSecurity } from './web/web-security.js';

/** What createApp takes besides the config; everything after `build` has a production default. */
export type AppDeps = Readonly<{
  logger: Logger;
  /**
   * What each project's requests authenticate with, by project ID: its `auth` resolved at start (resolveProjectCredentials).
   * A reload replaces it with its own.
   */
  credentials: (projectId: string) => Credentials | undefined;
  /**
   * Reads the configuration again as at start (file, then environment) for a reload, best without blocking the
   * event loop (loadConfigAsync); throws (rejects with) ConfigError.
   */
  readConfig: () => Config | Promise<Config>;
  build: BuildInfo;
  clock?: Clock;
  random?: () => number;
  /** prom-client's default process_* and nodejs_* metrics (off in golden tests: they vary). */
  processMetrics?: boolean;
  /** Replaces the real DIS client of every project (tests of the poller-to-metrics path). */
  client?: DisClient;
  /** The web config in force; by default loaded from config.web.configFile (throws ConfigError when bad). */
  web?: WebSecurity;
  /** Replaces some of SERVER_TIMEOUTS (tests). */
  timeouts?: Partial<ServerTimeouts>;
}>;

/** The wired exporter. */
export type App = Readonly<{
  /** The self-metrics and process metrics; the data families are rendered from the store, not held here. */
  registry: Registry;
  store: SnapshotStore;
  /** The /metrics body as it is served, in chunks. */
  metrics(openMetrics: boolean): AsyncIterable<string>;
  poller: Poller;
  /**
   * Re-reads the configuration, the credential files and the web config file and applies them, all or nothing
   * (SIGHUP, `POST /-/reload`); never rejects.
   */
  reload(): Promise<ReloadOutcome>;
  /** Listens, then starts polling; rejects if the port is taken. */
  start(): Promise<RunningServer>;
  /** Stops polling, lets in-flight scrapes finish (10 s at most), closes connections and the web config's workers. */
  stop(): Promise<void>;
}>;

const SHUTDOWN_GRACE_MS = 10_000;
/** A clock still off is logged again after this long (every failed call reports it). */
const CLOCK_SKEW_LOG_EVERY_MS = 60 * 60_000;

/** Logs a host clock that DIS answers show off (clock-skew.ts) when first seen, then once per CLOCK_SKEW_LOG_EVERY_MS. */
function clockSkewReporter(logger: Logger, clock: Clock): (skewSeconds: number) => void {
  let loggedAtMs: number | undefined;
  return (skewSeconds) => {
    const now = clock.now();
    if (loggedAtMs !== undefined && now - loggedAtMs < CLOCK_SKEW_LOG_EVERY_MS) return;
    loggedAtMs = now;
    logger.error({ skewSeconds }, 'host clock is off; sync it with NTP');
  };
}

/** What the log lines of each method's credentials call them. */
const CREDENTIAL_NOUNS = { iam: 'IAM token', oidc: 'IAM token', metadata: 'temporary keys' } as const;

/**
 * Logs the events of a client's tokens and temporary keys: a failure once per kind (it says what to fix), one obtained
 * again after a failure. The token or keys themselves are never logged.
 */
function logCredentials(logger: Logger, event: CredentialEvent): void {
  const noun = CREDENTIAL_NOUNS[event.method];
  if (event.kind === 'failed') {
    if (!event.firstOfKind) return;
    const { reason, message } = event.error;
    logger.error(
      { method: event.method, reason, error: message, retryAt: new Date(event.retryAtMs).toISOString() },
      `cannot get ${event.method === 'metadata' ? noun : `an ${noun}`}`,
    );
    return;
  }
  const fields = { method: event.method, expiresAt: new Date(event.expiresAtMs).toISOString() };
  if (event.recovered) logger.info(fields, `${noun} obtained again`);
  else logger.debug(fields, `${noun} obtained`);
}

/**
 * Composition root: a client per project → poller → store → metrics → http; a reload swaps the settings of each, and
 * the clients of the projects it adds, removes or moves to another endpoint.
 */
export function createApp(config: Config, deps: AppDeps): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const registry = new Registry();
  const store = new SnapshotStore();
  // The configuration in effect, its projects and their credentials (read by each client at each request): a reload
  // replaces all three.
  let current = config;
  let projects = projectsOf(config);
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
  const setProjectInfo = registerProjectInfo(registry);
  setProjectInfo(projects);
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  self.setCredentialsMethods(credentialMethodsOf(projects, credentials));
  /**
   * Whether a project's requests use `method` now: a token or key fetch that ends after a reload moved the project to
   * another method, or removed it, says nothing about the credentials in use.
   */
  const usesMethod = (projectId: string, method: RenewedMethod): boolean => {
    const now = credentials(projectId);
    return now !== undefined && renewedMethodOf(now) === method;
  };

  const clients = new ProjectClients(
    (project) =>
      deps.client ??
      createHttpClient(project, current, deps, {
        clock,
        credentials: lastCredentialsOf(project.projectId, () => credentials),
        usesMethod: (method) => usesMethod(project.projectId, method),
        self,
      }),
  );
  clients.update(projects);
  const pollerSettings = (settings: Config): PollerSettings => ({
    ...pollSettings(settings),
    projects: projects.map(({ projectId, targets, apps }) => ({
      projectId,
      selectors: targets,
      apps,
      client: new ScrapeFirstClient(clients.clientOf(projectId), priority),
    })),
  });

  const poller = new Poller({
    ...pollerSettings(config),
    store,
    clock,
    logger: logger.child({ component: 'poller' }),
    discoveryLogger: logger.child({ component: 'discovery' }),
    onOverrun: overrunReporter(logger, self, () => current.poll.intervalMs),
    onCycle: (seconds) => {
      self.recordPollCycle(seconds);
      // The cycle that was under way at a reload is over: the clients it retired are no longer used.
      clients.closeRetired();
      // The label text of the new snapshot is built now rather than by the first scrape that finds it.
      void exposition.prepare(store.current());
    },
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });

  const reloadLogger = logger.child({ component: 'reload' });
  /** Puts a checked configuration into effect: from the next cycle for polling, from the next scrape for metrics. */
  const applyConfig = (next: Config, nextCredentials: ReadonlyMap<string, Credentials>): void => {
    const { config: applied, ignored } = keepRestartOnlyKeys(current, next);
    if (ignored.length > 0) reloadLogger.warn({ keys: ignored }, 'changed settings need a restart; kept as they were');
    current = applied;
    projects = projectsOf(applied);
    credentials = (projectId) => nextCredentials.get(projectId);
    // The credential series of a project that changed its method, or was removed, go with it.
    self.setCredentialsMethods(credentialMethodsOf(projects, credentials));
    logger.level = applied.log.level;
    exposition = createExposition(expositionOptions(applied, metricsLogger));
    self.setShard(applied.shard);
    setProjectInfo(projects);
    clients.update(projects);
    const limits = clientLimits(applied);
    for (const client of clients.current()) if (isHttpClient(client)) client.reconfigure(limits);
    poller.reconfigure(pollerSettings(applied));
  };
  const webDeps = { clock, logger: logger.child({ component: 'web' }) };
  const web = deps.web ?? WebSecurity.load(config.web.configFile, webDeps);
  const reloader = createReloader({ readConfig: deps.readConfig, applyConfig, web, clock, logger: reloadLogger, self });

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
        // A scrape may share a body rendered for another only while the snapshot and the renderer are the same.
        metricsVersion: () => [store.current(), exposition],
        clock,
        store,
        isAlive: () => poller.isAlive(),
        version: deps.build.version,
        projects: () => projects,
        describeConfig: () => describeConfig(current),
        health: () => healthSettings(current),
        logger: httpLogger,
        web: { headers: web.headers(), guard: web.guard() },
        maxRequests: () => current.server.maxRequests,
        reload: () => reloader.reload(),
      });
      running = await listen(app, {
        host: config.server.host,
        port: config.server.port,
        createServer: (listener, options) => web.createServer(listener, options),
        timeouts: { ...SERVER_TIMEOUTS, ...deps.timeouts },
        logger: httpLogger,
      });
      httpLogger.info({ url: running.url }, 'listening');
      poller.start();
      return running;
    },
    async stop() {
      await poller.stop();
      await running?.close(SHUTDOWN_GRACE_MS);
      clients.close();
      await web.close();
    },
  };
}

/** Counts a poll cycle that overran the interval, and logs when cycles start to overrun, not on every cycle while they do. */
function overrunReporter(
  logger: Logger,
  self: SelfMetrics,
  intervalMs: () => number,
): (seconds: number, inARow: number) => void {
  return (seconds, inARow) => {
    self.recordPollOverrun();
    if (inARow > 1) return;
    logger.warn(
      { component: 'poller', durationSeconds: seconds, intervalSeconds: intervalMs() / 1000 },
      'poll cycle took longer than poll.interval; raise poll.interval, poll.concurrency or ' +
        'poll.maxRequestsPerSecond, or shard the targets',
    );
  };
}

/**
 * The reload of the configuration and the web config: each step checks its part of the configuration read, in order,
 * and all must prepare before any applies (config/reload.ts).
 */
function createReloader(
  parts: Readonly<{
    readConfig: AppDeps['readConfig'];
    /** Puts a checked configuration and its projects' credentials into effect. */
    applyConfig: (next: Config, credentials: ReadonlyMap<string, Credentials>) => void;
    web: WebSecurity;
    clock: Clock;
    logger: Logger;
    self: SelfMetrics;
  }>,
): Reloader<Config> {
  const { applyConfig, web, self } = parts;
  return new Reloader<Config>({
    read: parts.readConfig,
    steps: [
      {
        name: 'config',
        prepare: async (next) => {
          const nextCredentials = await resolveProjectCredentialsAsync(projectsOf(next));
          return () => applyConfig(next, nextCredentials);
        },
      },
      // The file of the new configuration: `--web.config.file` is in it already when given (cli.ts).
      { name: 'web config', prepare: (next) => web.prepareReload(next.web.configFile) },
    ],
    clock: parts.clock,
    logger: parts.logger,
    onOutcome: (successful, atMs) => self.recordConfigReload(successful, atMs),
  });
}

/** What the landing page's verdicts need of the configuration (poll/health.ts). */
function healthSettings(config: Config): HealthSettings {
  return {
    staleAfterMs: config.poll.staleAfterMs,
    ...(config.lag.stallAfterMs === undefined ? {} : { stallAfterMs: config.lag.stallAfterMs }),
  };
}

/**
 * A project's DIS client over HTTP, with the limits and proxy of `config`, reporting each request and its credentials'
 * expiry and failures to the self-metrics, and logging its cool-downs, tokens, temporary keys and clock skew under the
 * project's ID.
 */
function createHttpClient(
  project: Project,
  config: Config,
  deps: AppDeps,
  parts: Readonly<{
    clock: Clock;
    credentials: () => Credentials;
    /** Whether the project's requests use `method` now (events of any other are dropped). */
    usesMethod: (method: RenewedMethod) => boolean;
    self: SelfMetrics;
  }>,
): HttpDisClient {
  const { clock, self } = parts;
  const { projectId } = project;
  const logger = deps.logger.child({ component: 'dis', projectId });
  // IAM and OIDC tokens both come from IAM; temporary keys from the metadata service.
  const credentialLoggers = {
    iam: deps.logger.child({ component: 'iam', projectId }),
    metadata: deps.logger.child({ component: 'metadata', projectId }),
  };
  const onCredentials = (event: CredentialEvent): void => {
    if (!parts.usesMethod(event.method)) return;
    if (event.kind === 'obtained') self.recordCredentialsObtained(projectId, event.method, event.expiresAtMs);
    else self.recordCredentialsRefreshFailure(projectId, event.method);
    logCredentials(event.method === 'metadata' ? credentialLoggers.metadata : credentialLoggers.iam, event);
  };
  return createDisClient({
    endpoint: project.endpoint,
    projectId,
    proxy: config.proxy,
    credentials: parts.credentials,
    ...clientLimits(config),
    clock,
    userAgent: `dis-exporter/${deps.build.version}`,
    onRequest: (event) => self.recordApiRequest(event),
    // Logged here, once per cool-down: 'poll failed' logs a target only when its reason changes, so it would
    // show the DIS.4309 or 401 that began the cool-down but never the cool-down itself and its remedy.
    onCooldown: ({ untilMs, error }) =>
      logger.error({ until: new Date(untilMs).toISOString(), error: error.message }, 'DIS requests paused (cool-down)'),
    onClockSkew: clockSkewReporter(logger, clock),
    onCredentials,
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
}

/** The method of each project's credentials, by project ID (undefined: a static AK/SK). */
function credentialMethodsOf(
  projects: readonly Project[],
  credentials: (projectId: string) => Credentials | undefined,
): ReadonlyMap<string, RenewedMethod | undefined> {
  return new Map(
    projects.map(({ projectId }) => {
      const resolved = credentials(projectId);
      return [projectId, resolved === undefined ? undefined : renewedMethodOf(resolved)];
    }),
  );
}

/**
 * The credentials of a project as `lookup` gives them now, else the last ones it gave: a client that a reload retired
 * (its project removed) may still finish a request of the cycle under way.
 */
function lastCredentialsOf(
  projectId: string,
  lookup: () => (projectId: string) => Credentials | undefined,
): () => Credentials {
  let last = lookup()(projectId);
  if (last === undefined) throw new Error(`no credentials for project ${projectId}`);
  return () => {
    last = lookup()(projectId) ?? last!;
    return last;
  };
}

function isHttpClient(client: DisClient): client is HttpDisClient {
  return 'reconfigure' in client;
}

function expositionOptions(config: Config, logger: Logger): ExpositionOptions {
  return {
    pollIntervalMs: config.poll.intervalMs,
    logger,
    staleAfterMs: config.poll.staleAfterMs,
    stateSets: config.metrics.stateSets,
    ...(config.lag.stallAfterMs === undefined ? {} : { stallAfterMs: config.lag.stallAfterMs }),
  };
}

function clientLimits(config: Config): ClientLimits {
  const { timeoutMs, retries, concurrency, maxRequestsPerSecond, intervalMs } = config.poll;
  return {
    timeoutMs,
    retries,
    maxSockets: concurrency,
    maxRequestsPerSecond,
    // At most one token or key request a poll cycle after a failure, and a token refresh well before a poll finds it
    // stale.
    credentialsFailureBackoffMs: intervalMs,
    tokenRefreshAheadMs: Math.max(DEFAULT_IAM_REFRESH_AHEAD_MS, 2 * intervalMs),
  };
}

/** The poller's settings besides its projects. */
function pollSettings(config: Config): Omit<PollerSettings, 'projects'> {
  return {
    shard: config.shard,
    intervalMs: config.poll.intervalMs,
    concurrency: config.poll.concurrency,
    discoveryIntervalMs: config.discovery.intervalMs,
    lagRecords: config.lag.records,
  };
}
