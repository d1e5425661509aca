import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, loadConfig, loadConfigAsync } from './config/load.js';
import { projectsOf, resolveProjectCredentials } from './config/projects.js';
import { describeConfig } from './config/describe.js';
import type { Config, Credentials } from './config/types.js';
import { createLogger } from './logger.js';
import { readBuildInfo } from './version.js';
import { loadWebConfig, type LoadedWebConfig } from './web/load-web-config.js';
import { WebSecurity } from './web/web-security.js';

/** Where run() writes and what it waits on; the process by default, replaceable in tests. */
export type CliIo = Readonly<{
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: () => Promise<string>;
  /** Calls `reload` whenever the process is asked to reload its configuration (SIGHUP); returns how to stop that. */
  onReloadSignal: (reload: () => void) => () => void;
  /** The clock to run on instead of the system's (tests). */
  clock?: Clock;
  /** The logger to use instead of one built from the config (tests). */
  logger?: Logger;
  /** Called once the exporter listens, with its URL (tests, demo). */
  onListening?: (url: string) => void;
}>;

const USAGE = `Usage: dis-exporter [--config FILE] [--web.config.file FILE] [--check-config] [--version]

  --config FILE           configuration file, YAML (.yaml/.yml) or JSON (env DIS_EXPORTER_CONFIG)
  --web.config.file FILE  web config file: TLS, basic auth (Prometheus exporter-toolkit format);
                          wins over web.configFile (env DIS_EXPORTER_WEB_CONFIG_FILE)
  --check-config          validate the configuration, print it with secrets masked, and exit
  --version               print the version and exit
  --help                  print this help and exit
`;

/** The process's stdout/stderr and signals. */
export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopSignal: () =>
    new Promise((resolve) => {
      const onSignal = (signal: string): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }),
  onReloadSignal: (reload) => {
    const onSignal = (): void => reload();
    process.on('SIGHUP', onSignal);
    return () => process.off('SIGHUP', onSignal);
  },
};

/** The whole command line: returns the exit code (0 clean stop, 1 bad usage, bad config or port in use). */
export async function run(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo = processIo,
): Promise<number> {
  let flags: {
    config?: string;
    'web.config.file'?: string;
    'check-config'?: boolean;
    version?: boolean;
    help?: boolean;
  };
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        'web.config.file': { type: 'string' },
        'check-config': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 1;
  }
  if (flags.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const build = readBuildInfo();
  if (flags.version === true) {
    io.stdout(`dis-exporter ${build.version} (revision ${build.revision}, node ${build.nodejsVersion})\n`);
    return 0;
  }

  const file = flags.config ?? (env.DIS_EXPORTER_CONFIG === '' ? undefined : env.DIS_EXPORTER_CONFIG);
  const sources = { ...(file === undefined ? {} : { file }), env };
  // A reload reads the same file and environment again (and --web.config.file still wins), without blocking the
  // event loop: scrapes go on meanwhile.
  const readConfig = async (): Promise<Config> =>
    withWebConfigFile(await loadConfigAsync(sources), flags['web.config.file']);
  let config: Config;
  let credentials: ReadonlyMap<string, Credentials>;
  let web: LoadedWebConfig | undefined;
  try {
    config = withWebConfigFile(loadConfig(sources), flags['web.config.file']);
    credentials = resolveProjectCredentials(projectsOf(config));
    web = config.web.configFile === '' ? undefined : loadWebConfig(config.web.configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(error.problems.map((problem) => `${problem}\n`).join(''));
    return 1;
  }
  if (flags['check-config'] === true) {
    io.stdout(describeConfig(config));
    return 0;
  }

  // Listen for SIGTERM/SIGINT before starting: as PID 1 in a container a stop can come at any moment.
  const stopping = io.stopSignal();
  const logger = io.logger ?? createLogger(config);
  // Every line names its component once: the app's come from its own children of the root logger.
  const mainLogger = logger.child({ component: 'main' });
  const clock = io.clock ?? systemClock;
  const security = new WebSecurity(web, { clock, logger: logger.child({ component: 'web' }) });
  const app = createApp(config, {
    logger,
    credentials: (projectId) => credentials.get(projectId),
    readConfig,
    build,
    clock,
    web: security,
  });
  const stopReloading = io.onReloadSignal(() => void app.reload());
  try {
    const running = await app.start();
    io.onListening?.(running.url);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    mainLogger.fatal(
      { host: config.server.host, port: config.server.port, code },
      code === 'EADDRINUSE' ? 'port already in use' : 'cannot listen',
    );
    stopReloading();
    await app.stop();
    return 1;
  }
  const projects = projectsOf(config);
  const targets = projects.reduce((sum, project) => sum + project.targets.length, 0);
  mainLogger.info(
    { projects: projects.length, targets, version: build.version, tls: security.tls, webConfigFile: security.file },
    'dis-exporter started',
  );
  const signal = await stopping;
  mainLogger.info({ signal }, 'stopping');
  stopReloading();
  await app.stop();
  mainLogger.info('stopped');
  return 0;
}

/** The config with `--web.config.file`, when given, in place of web.configFile: the flag wins. */
function withWebConfigFile(config: Config, flag: string | undefined): Config {
  if (flag === undefined) return config;
  return Object.freeze({ ...config, web: Object.freeze({ configFile: flag }) });
}
