import { hostname as osHostname } from 'node:os';
import type convict from 'convict';
import { ConfigError } from './config-error.js';
import { ACCESS_KEY_SETTINGS, resolveCredentials, resolveCredentialsAsync } from './credentials.js';
import { readConfigFile, readConfigFileAsync } from './read-file.js';
import {
  configSchema,
  createConvictConfig,
  describeKind,
  isMapping,
  isSchemaLeaf,
  schemaLeaves,
  type ConfigProperties,
  type SchemaNode,
} from './schema.js';
import { resolveProxySettings } from './proxy.js';
import { resolveShardIndex } from './shard.js';
import { toSelector } from './targets.js';
import type { Config, ProxySettings } from './types.js';

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

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

// convict's overlay crashes on a mapping where a setting is expected and ignores these names
// (its prototype-pollution guard), so both are caught here before the file reaches convict.
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The sections that hold a secret setting (`auth`, `auth.iam`): their unknown entries may be secrets. */
const SECRET_SECTIONS: ReadonlySet<string> = new Set(
  schemaLeaves()
    .filter((leaf) => leaf.sensitive)
    .map((leaf) => leaf.path.slice(0, leaf.path.lastIndexOf('.'))),
);

function checkShape(
  raw: Record<string, unknown>,
  section: { readonly [key: string]: SchemaNode },
  prefix: string,
  problems: string[],
): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = join(prefix, key);
    const node = Object.hasOwn(section, key) ? section[key] : undefined;
    if (node === undefined) {
      if (RESERVED_KEYS.has(key)) problems.push(`${path}: unknown key`);
      else clean[key] = value;
    } else if (!isSchemaLeaf(node)) {
      // A section left with every setting commented out is null in YAML: treat it as absent.
      if (value === null) continue;
      if (isMapping(value)) clean[key] = checkShape(value, node, path, problems);
      else problems.push(`${path}: must be a mapping of settings (got ${describeKind(value)})`);
    } else if (isMapping(value)) {
      problems.push(`${path}: must be ${Array.isArray(node.default) ? 'a list' : 'a single value'}, not a mapping`);
    } else {
      clean[key] = value;
    }
  }
  return clean;
}

function fileContents(file: string, raw: unknown, problems: string[]): Record<string, unknown> {
  if (raw === null || raw === undefined) return {};
  // Only the kind of value: `--config` pointed at a key file by mistake must not print the key.
  if (!isMapping(raw)) {
    throw new ConfigError([`${file}: must contain a mapping of settings (got ${describeKind(raw)})`]);
  }
  return checkShape(raw, configSchema, '', problems);
}

function normalizedName(name: string): string {
  return name.toLowerCase().replaceAll(/[-_]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function nodeAt(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema;
  for (const segment of path === '' ? [] : path.split('.')) {
    node = node === undefined || isSchemaLeaf(node) || !Object.hasOwn(node, segment) ? undefined : node[segment];
  }
  return node;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function suggestion(path: string): string {
  const name = lastSegment(path);
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
  const parentNode = nodeAt(parent);
  const siblings = parentNode === undefined || isSchemaLeaf(parentNode) ? [] : Object.keys(parentNode);
  const limit = Math.max(1, Math.floor(name.length / 3));
  const near = siblings.find(
    (sibling) =>
      normalizedName(sibling) === normalizedName(name) ||
      editDistance(sibling.toLowerCase(), name.toLowerCase()) <= limit,
  );
  if (near !== undefined) return ` (did you mean ${join(parent, near)}?)`;
  // A key put in the wrong section (`projectId` at the top) is found by its name alone.
  const moved = schemaLeaves().find((leaf) => normalizedName(lastSegment(leaf.path)) === normalizedName(name));
  return moved === undefined ? '' : ` (did you mean ${moved.path}?)`;
}

function unknownKey(path: string): string {
  // Report `metrics` once rather than every `metrics.x.y` convict lists under it.
  const segments = path.split('.');
  const depth = segments.findIndex((_, index) => nodeAt(segments.slice(0, index + 1).join('.')) === undefined);
  const unknown = depth === -1 ? path : segments.slice(0, depth + 1).join('.');
  const hint = suggestion(unknown);
  // `auth: { accessKey: AK, SK }` or `auth: { AK: SK }`: a secret written as a key. A misspelt key name is close to
  // a real one and is shown with it; anything else in these sections may be a secret.
  const section = unknown.slice(0, unknown.lastIndexOf('.'));
  if (hint === '' && SECRET_SECTIONS.has(section)) return `${section}: unknown key, not shown as it may be a secret`;
  return `${unknown}: unknown key${hint}`;
}

const UNDECLARED = /^configuration param '(.+)' not declared in the schema$/;
const KEYED = /^([\w.]+): (.*)$/;

// convict reports all problems as one string: "<key>: <our format's message>: value was <json>" per
// line, plus a fixed sentence per undeclared key. Our format messages never contain
// ": value was ", and multi-line ones (targets) give every line its full path.
function translateConvictLine(line: string): string {
  const clean = line.replace(/: value was .*$/, '');
  const undeclared = UNDECLARED.exec(clean);
  if (undeclared?.[1] !== undefined) return unknownKey(undeclared[1]);
  const keyed = KEYED.exec(clean);
  if (keyed?.[1] !== undefined && keyed[2] !== undefined && keyed[2].startsWith(`${keyed[1]}[`)) return keyed[2];
  return clean;
}

function validationProblems(store: convict.Config<ConfigProperties>): string[] {
  try {
    store.validate({ allowed: 'strict' });
    return [];
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return error.message.split('\n').map(translateConvictLine);
  }
}

function keyOf(problem: string): string {
  return problem.slice(0, problem.indexOf(': '));
}

function isAtOrUnder(key: string, ancestor: string): boolean {
  return key === ancestor || key.startsWith(`${ancestor}.`) || key.startsWith(`${ancestor}[`);
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

function toConfig(properties: ConfigProperties, shardIndex: number, proxy: ProxySettings): Config {
  const { server, web, log, dis, auth, targets, poll, discovery, lag, shard, metrics } = properties;
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
  /** Whether every credential setting is a string, so that the credential files can be read and checked. */
  credentialsReadable: boolean;
}>;

function checkSettings(options: LoadConfigOptions, raw: unknown): Checked {
  const env = presentEnv(options.env);
  const fileProblems: string[] = [];
  const contents = options.file === undefined ? {} : fileContents(options.file, raw, fileProblems);
  const store = createConvictConfig(env);
  store.load(contents);
  const problems = validationProblems(store);
  const properties = store.getProperties();
  // A credential setting of the wrong type has been reported already and cannot be read (an unknown key in the
  // section, which convict keeps, is reported and does not matter).
  const { iam, oidc, metadata } = properties.auth;
  const settings: unknown[] = ACCESS_KEY_SETTINGS.map((key) => properties.auth[key]);
  settings.push(...Object.values(iam), ...Object.values(oidc), metadata.endpoint);
  const credentialsReadable =
    settings.every((value) => typeof value === 'string') && typeof metadata.enabled === 'boolean';
  return { env, fileProblems, problems, properties, credentialsReadable };
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
    const ordered = [...new Set(all)].sort((a, b) => rank(a) - rank(b));
    throw new ConfigError(ordered);
  }
  return deepFreeze(toConfig(properties, shardIndex, 'settings' in proxy ? proxy.settings : NO_PROXY));
}

/**
 * Loads, validates and freezes the config (defaults < file < environment), reading the credential files to check
 * them; ConfigError lists every problem. For the start: the reads block.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const checked = checkSettings(options, options.file === undefined ? undefined : readConfigFile(options.file));
  let problems: readonly string[] = [];
  if (checked.credentialsReadable) {
    try {
      resolveCredentials(checked.properties.auth);
    } catch (error) {
      problems = credentialProblems(error);
    }
  }
  return finish(checked, problems, options);
}

/** loadConfig without blocking the event loop on the file reads (a reload): the same checks and errors. */
export async function loadConfigAsync(options: LoadConfigOptions): Promise<Config> {
  const raw = options.file === undefined ? undefined : await readConfigFileAsync(options.file);
  const checked = checkSettings(options, raw);
  let problems: readonly string[] = [];
  if (checked.credentialsReadable) {
    try {
      await resolveCredentialsAsync(checked.properties.auth);
    } catch (error) {
      problems = credentialProblems(error);
    }
  }
  return finish(checked, problems, options);
}
