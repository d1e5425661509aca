import { expect } from 'chai';
import baseGot from 'got';
import { pino, type Logger } from 'pino';
import { createApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { projectsOf, resolveProjectCredentials } from '../../src/config/projects.js';
import type { AccessKeyPair, Config, Credentials } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import type { WebSecurity } from '../../src/web/web-security.js';
import { flush } from './manual-clock.js';

export const PROJECT_ID = '0123456789abcdef0123456789abcdef';
/** The AK/SK of the tests: in the simulator's scenarios, and what the exporter signs with unless told otherwise. */
export const CREDENTIALS: AccessKeyPair = {
  accessKey: 'TESTACCESSKEY0000000',
  secretKey: 'test-secret-key-0123456789',
};

/** `auth.iam` with every key unset: AK/SK signing. */
export const NO_IAM: Config['auth']['iam'] = { endpoint: '', domain: '', username: '', password: '', passwordFile: '' };
/** `auth.oidc` with every key unset. */
export const NO_OIDC: Config['auth']['oidc'] = { endpoint: '', idpId: '', idTokenFile: '' };
/** `auth.metadata` as it is by default: off. */
export const NO_METADATA: Config['auth']['metadata'] = { enabled: false, endpoint: 'http://169.254.169.254' };
/** An `auth` section with nothing set. */
export const NO_AUTH: Config['auth'] = {
  accessKey: '',
  secretKey: '',
  securityToken: '',
  accessKeyFile: '',
  secretKeyFile: '',
  securityTokenFile: '',
  iam: NO_IAM,
  oidc: NO_OIDC,
  metadata: NO_METADATA,
};
/** No proxy, and no NO_PROXY list. */
export const NO_PROXY: Config['proxy'] = { httpsProxy: '', httpProxy: '', noProxy: '' };

/** Time zero of SCENARIO: 2024-01-01T00:00:00Z. */
export const SCENARIO_EPOCH_MS = Date.UTC(2024, 0, 1);

/** A simulator scenario with the two dump tasks that testConfig polls by default. */
export const SCENARIO = {
  projectId: PROJECT_ID,
  credentials: [CREDENTIALS],
  epochMs: SCENARIO_EPOCH_MS,
  streams: [
    {
      name: 'orders',
      partitions: [
        { initialRecords: 1000, recordsPerSecond: 10 },
        { initialRecords: 2000, recordsPerSecond: 5 },
      ],
      tasks: [
        {
          name: 'orders-to-obs',
          id: 'task-orders-0001',
          destinationType: 'OBS',
          createdMsAgo: 86_400_000,
          destination: { obs_bucket_path: 'orders-archive', deliver_time_interval: 60 },
        },
      ],
    },
    {
      name: 'clicks',
      partitions: [{ initialRecords: 500, recordsPerSecond: 1 }],
      tasks: [
        {
          name: 'clicks-to-dli',
          id: 'task-clicks-0001',
          destinationType: 'DLI',
          createdMsAgo: 86_400_000,
          destination: { dli_database_name: 'analytics', dli_table_name: 'clicks', deliver_time_interval: 30 },
        },
      ],
    },
  ],
};

/** A full config for tests: loopback, port 0, fast timeouts, no retries unless asked. */
export function testConfig(
  endpoint: string,
  overrides: Partial<Config['poll']> = {},
  targets?: Config['targets'],
): Config {
  return {
    server: { host: '127.0.0.1', port: 0, maxRequests: 40 },
    web: { configFile: '' },
    log: { level: 'fatal', format: 'json' },
    dis: { endpoint, region: 'cn-north-4', projectId: PROJECT_ID, proxy: '' },
    auth: { ...NO_AUTH, accessKey: CREDENTIALS.accessKey, secretKey: CREDENTIALS.secretKey },
    proxy: NO_PROXY,
    targets: targets ?? [
      { stream: 'orders', task: 'orders-to-obs' },
      { stream: 'clicks', task: 'clicks-to-dli' },
    ],
    poll: {
      intervalMs: 60_000,
      timeoutMs: 2_000,
      concurrency: 4,
      retries: 0,
      staleAfterMs: 300_000,
      maxRequestsPerSecond: 0,
      ...overrides,
    },
    discovery: { intervalMs: 300_000 },
    lag: { records: true },
    shard: { index: 0, total: 1, fromHostname: false },
    metrics: { stateSets: 'all' },
  };
}

/**
 * Starts the whole exporter (real HTTP, real client) with an injected clock. `credentials` is an AK/SK to sign with,
 * or a getter by project ID (a test may swap what it returns, as a reload does); `logger` defaults to a silent one.
 */
export async function startExporter(
  config: Config,
  options: {
    clock: Clock;
    credentials?: AccessKeyPair | ((projectId: string) => Credentials | undefined);
    processMetrics?: boolean;
    /** What a reload reads; by default the same config again. */
    readConfig?: () => Config;
    /** Silent by default. */
    logger?: Logger;
    web?: WebSecurity;
  },
): Promise<{ app: App; server: RunningServer }> {
  const given = options.credentials ?? CREDENTIALS;
  const credentials = typeof given === 'function' ? given : (): Credentials => ({ kind: 'aksk', ...given });
  const app = createApp(config, {
    logger: options.logger ?? pino({ level: 'silent' }),
    credentials,
    readConfig: options.readConfig ?? (() => config),
    build: { version: '0.0.0-test', revision: 'test', nodejsVersion: 'v20.0.0' },
    clock: options.clock,
    random: () => 0.5,
    processMetrics: options.processMetrics ?? false,
    ...(options.web === undefined ? {} : { web: options.web }),
  });
  const server = await app.start();
  return { app, server };
}

/**
 * Starts the exporter on a config file as main.ts does (no environment): loaded, each project's credentials read, and
 * every reload reading the file again.
 */
export async function startExporterOnFile(file: string, clock: Clock): Promise<{ app: App; server: RunningServer }> {
  const readConfig = () => loadConfig({ file, env: {} });
  const config = readConfig();
  const credentials = resolveProjectCredentials(projectsOf(config));
  return startExporter(config, { clock, credentials: (projectId) => credentials.get(projectId), readConfig });
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

/**
 * Lets the poll loop run (on its injected clock) until `count` cycles have completed; fails if it does not get there
 * within about ten seconds.
 */
export async function cyclesCompleted(app: App, count: number): Promise<void> {
  const done = (): boolean => app.store.current().cyclesCompleted >= count;
  for (let i = 0; i < 2000 && !done(); i++) await flush();
  // A cycle waits on real HTTP round trips and file reads, which a busy machine may be slow to finish: past the
  // quick turns of the event loop above, wait in real time.
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
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
