import { hostname as osHostname } from 'node:os';
import { ConfigError } from './config-error.js';
import {
  formProblems,
  readProjects,
  resolveSections,
  resolveSectionsAsync,
  usesProjects,
  type AuthSection,
} from './projects.js';
import { readConfigFile, readConfigFileAsync } from './read-file.js';
import {
  configSchema,
  createConvictConfig,
  describeKind,
  isMapping,
  schemaLeaves,
  type ConfigProperties,
} from './schema.js';
import { checkShape, hasSettingTypes, isAtOrUnder, keyOf, validationProblems } from './schema-problems.js';
import { resolveProxySettings } from './proxy.js';
import { resolveShardIndex } from './shard.js';
import { toAppSelector } from './apps.js';
import { toSelector } from './targets.js';
import type { Config, ProjectEntry, ProxySettings } from './types.js';

export { ConfigError } from './config-error.js';

/**
 * Where loadConfig reads from: an optional YAML/JSON file and the environment (which wins over the file).
 * `hostname` stands in for `os.hostname()` (for tests); with `shard.fromHostname` the host name is the
 * environment's HOSTNAME when set, else `hostname`, else `os.hostname()`.
 */
export type LoadConfigOptions = Readonly<{
  file?: string;
  env: Readonly<Record<string, string | undefined>>;
  hostname?: string;
}>;

// An empty variable counts as unset, as orchestrators render optional variables as "".
function presentEnv(env: LoadConfigOptions['env']): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value !== '') present[name] = value;
  return present;
}

function fileContents(file: string, raw: unknown, problems: string[]): Record<string, unknown> {
  if (raw === null || raw === undefined) return {};
  // Only the kind of value: `--config` pointed at a key file by mistake must not print the key.
  if (!isMapping(raw)) {
    throw new ConfigError([`${file}: must contain a mapping of settings (got ${describeKind(raw)})`]);
  }
  return checkShape(raw, configSchema, '', problems);
}

function withEnvHint(problem: string, env: Readonly<Record<string, string>>): string {
  const key = keyOf(problem);
  const leaf = schemaLeaves().find((candidate) => isAtOrUnder(key, candidate.path));
  return leaf !== undefined && leaf.env !== '' && leaf.env in env ? `${problem} (set by ${leaf.env})` : problem;
}

// Problems are listed in the order of the schema; an unknown key comes last in its section.
function rank(problem: string): number {
  const key = keyOf(problem);
  const leaves = schemaLeaves();
  const leaf = leaves.findIndex((candidate) => isAtOrUnder(key, candidate.path));
  if (leaf !== -1) return leaf;
  const section = key.split(/[.[]/)[0] ?? '';
  const lastInSection = leaves.findLastIndex((candidate) => isAtOrUnder(candidate.path, section));
  return lastInSection === -1 ? leaves.length : lastInSection + 0.5;
}

// Problems of the `projects` entries, whichever check found them, are listed entry by entry.
function projectIndex(problem: string): number {
  const index = /^projects\[(\d+)\]/.exec(problem)?.[1];
  return index === undefined ? -1 : Number(index);
}

function toConfig(
  properties: ConfigProperties,
  shardIndex: number,
  proxy: ProxySettings,
  projects: readonly ProjectEntry[] | undefined,
): Config {
  const { server, web, log, dis, auth, targets, apps, poll, discovery, lag, shard, metrics } = properties;
  const { iam, oidc, metadata } = auth;
  return {
    server: { host: server.host, port: server.port, maxRequests: server.maxRequests },
    web: { configFile: web.configFile },
    log: { level: log.level, format: log.format },
    dis: { endpoint: dis.endpoint, region: dis.region, projectId: dis.projectId, proxy: dis.proxy },
    auth: {
      accessKey: auth.accessKey,
      secretKey: auth.secretKey,
      securityToken: auth.securityToken,
      accessKeyFile: auth.accessKeyFile,
      secretKeyFile: auth.secretKeyFile,
      securityTokenFile: auth.securityTokenFile,
      iam: {
        endpoint: iam.endpoint,
        domain: iam.domain,
        username: iam.username,
        password: iam.password,
        passwordFile: iam.passwordFile,
      },
      oidc: { endpoint: oidc.endpoint, idpId: oidc.idpId, idTokenFile: oidc.idTokenFile },
      metadata: { enabled: metadata.enabled, endpoint: metadata.endpoint },
    },
    proxy,
    targets: targets.map(toSelector),
    ...(apps.length === 0 ? {} : { apps: apps.map(toAppSelector) }),
    ...(projects === undefined ? {} : { projects }),
    poll: {
      intervalMs: poll.interval,
      timeoutMs: poll.timeout,
      concurrency: poll.concurrency,
      retries: poll.retries,
      staleAfterMs: poll.staleAfter,
      maxRequestsPerSecond: poll.maxRequestsPerSecond,
    },
    discovery: { intervalMs: discovery.interval },
    lag: { records: lag.records, ...(lag.stallAfter === '' ? {} : { stallAfterMs: lag.stallAfter }) },
    shard: { index: shardIndex, total: shard.total, fromHostname: shard.fromHostname },
    metrics: { stateSets: metrics.stateSets },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** What the checks before the credential files found: the settings, and the problems so far. */
type Checked = Readonly<{
  env: Readonly<Record<string, string>>;
  fileProblems: readonly string[];
  problems: readonly string[];
  properties: ConfigProperties;
  /** The `projects` entries, when that form is used. */
  projects?: readonly ProjectEntry[];
  /** The `auth` sections in use whose settings are valid: their credentials are read and checked. */
  authSections: readonly AuthSection[];
}>;

function checkSettings(options: LoadConfigOptions, raw: unknown): Checked {
  const env = presentEnv(options.env);
  const fileProblems: string[] = [];
  const contents = options.file === undefined ? {} : fileContents(options.file, raw, fileProblems);
  const store = createConvictConfig(env);
  store.load(contents);
  const problems = validationProblems(store);
  const properties = store.getProperties();
  // `projects` written but not as a list (reported) stands for the several-projects form all the same.
  const projectsWritten = [...fileProblems, ...problems].some((problem) => isAtOrUnder(keyOf(problem), 'projects'));
  problems.push(...formProblems(properties, projectsWritten));
  const projects = usesProjects(properties) ? readProjects(properties.projects) : undefined;
  problems.push(...(projects?.problems ?? []));
  // A credential setting of the wrong type has been reported already and cannot be read (an unknown key in the
  // section, which convict keeps, is reported and does not matter).
  const credentialsReadable = hasSettingTypes(properties.auth, configSchema.auth);
  // The top-level auth is in use unless every project has its own (or `projects` cannot be read to tell).
  const topLevel = credentialsReadable && (projects === undefined ? !projectsWritten : projects.usesTopLevelAuth);
  const authSections = [...(topLevel ? [{ auth: properties.auth, key: 'auth' }] : []), ...(projects?.ownAuth ?? [])];
  return {
    env,
    fileProblems,
    problems,
    properties,
    authSections,
    ...(projects === undefined ? {} : { projects: projects.entries }),
  };
}

function credentialProblems(error: unknown): readonly string[] {
  if (error instanceof ConfigError) return error.problems;
  throw error;
}

const NO_PROXY: ProxySettings = { httpsProxy: '', httpProxy: '', noProxy: '' };

function finish(checked: Checked, credentialProblems: readonly string[], options: LoadConfigOptions): Config {
  const { env, fileProblems, properties } = checked;
  const problems = [...checked.problems, ...credentialProblems];
  // The shard keys are checked together once each is valid on its own (a dropped one included).
  let shardIndex = properties.shard.index;
  if (![...fileProblems, ...problems].some((problem) => isAtOrUnder(keyOf(problem), 'shard'))) {
    const resolved = resolveShardIndex(properties.shard, () => env['HOSTNAME'] ?? options.hostname ?? osHostname());
    if ('problem' in resolved) problems.push(resolved.problem);
    else shardIndex = resolved.index;
  }
  const proxy = resolveProxySettings(typeof properties.dis.proxy === 'string' ? properties.dis.proxy : '', env);
  if ('problems' in proxy) problems.push(...proxy.problems);
  // A setting dropped for its shape would also be reported as missing or as its default's problem.
  const dropped = fileProblems.map(keyOf);
  const rest = problems.filter((problem) => !dropped.some((key) => isAtOrUnder(keyOf(problem), key)));
  const all = [...fileProblems, ...rest.map((problem) => withEnvHint(problem, env))];
  if (all.length > 0) {
    const ordered = [...new Set(all)].sort((a, b) => rank(a) - rank(b) || projectIndex(a) - projectIndex(b));
    throw new ConfigError(ordered);
  }
  return deepFreeze(
    toConfig(properties, shardIndex, 'settings' in proxy ? proxy.settings : NO_PROXY, checked.projects),
  );
}

/**
 * Loads, validates and freezes the config (defaults < file < environment), reading the credential files to check
 * them; ConfigError lists every problem. For the start: the reads block.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const checked = checkSettings(options, options.file === undefined ? undefined : readConfigFile(options.file));
  let problems: readonly string[] = [];
  try {
    resolveSections(checked.authSections);
  } catch (error) {
    problems = credentialProblems(error);
  }
  return finish(checked, problems, options);
}

/** loadConfig without blocking the event loop on the file reads (a reload): the same checks and errors. */
export async function loadConfigAsync(options: LoadConfigOptions): Promise<Config> {
  const raw = options.file === undefined ? undefined : await readConfigFileAsync(options.file);
  const checked = checkSettings(options, raw);
  let problems: readonly string[] = [];
  try {
    await resolveSectionsAsync(checked.authSections);
  } catch (error) {
    problems = credentialProblems(error);
  }
  return finish(checked, problems, options);
}
