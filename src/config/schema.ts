import convict from 'convict';
import { appProblems, parseAppList, type AppEntry } from './apps.js';
import { DAY, MINUTE, SECOND, formatDuration, missingUnit, parseDuration } from './duration.js';
import { parseStrictJson } from './parse-json.js';
import { MAX_NESTING_DEPTH } from './parse-result.js';
import { checkProxyUrl } from './proxy.js';
import { parseTargetList, targetProblems, type TargetEntry } from './targets.js';
import type { LogLevel, StateSets } from './types.js';
import { describeKind, describeValue, DIS_NAME } from './values.js';

export { describeKind, describeValue, isMapping } from './values.js';

/** The configuration as convict holds it: the config file's shape, with durations already in milliseconds. */
export type ConfigProperties = {
  server: { host: string; port: number; maxRequests: number };
  web: { configFile: string };
  log: { level: LogLevel; format: 'json' | 'pretty' };
  dis: { endpoint: string; region: string; projectId: string; proxy: string };
  auth: {
    accessKey: string;
    secretKey: string;
    securityToken: string;
    accessKeyFile: string;
    secretKeyFile: string;
    securityTokenFile: string;
    iam: { endpoint: string; domain: string; username: string; password: string; passwordFile: string };
    oidc: { endpoint: string; idpId: string; idTokenFile: string };
    metadata: { enabled: boolean; endpoint: string };
  };
  targets: TargetEntry[];
  apps: AppEntry[];
  /** The entries as written; config/projects.ts checks and reads them. */
  projects: unknown[];
  poll: {
    interval: number;
    timeout: number;
    concurrency: number;
    retries: number;
    staleAfter: number;
    maxRequestsPerSecond: number;
  };
  discovery: { interval: number };
  /** `stallAfter` is "" when unset. */
  lag: { records: boolean; stallAfter: number | '' };
  shard: { index: number; total: number; fromHostname: boolean };
  metrics: { stateSets: StateSets };
};

/**
 * The default of `poll.maxRequestsPerSecond`. DIS publishes no limit for its management APIs (docs/dis-api.md
 * ("Retries and rate limits")): 20/s is 1,200 requests a minute, enough for several hundred dump tasks on a 60 s
 * interval, yet it keeps a retry storm or a huge discovery from tripping APIGW.0308/DIS.4305 throttling and, after
 * many failures, the DIS.4309 IP blacklist (docs/operations.md ("The API budget")).
 */
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 20;

// Node clamps timer delays above 2^31-1 ms to 1 ms, so a longer interval would poll in a tight loop.
const MAX_DURATION_MS = 24 * DAY;

function bound(item: convict.SchemaObj, name: 'min' | 'max'): number {
  const value: unknown = item[name];
  if (typeof value !== 'number') throw new TypeError(`schema item without a numeric "${name}"`);
  return value;
}

function coerceInteger(text: string): unknown {
  const trimmed = text.trim();
  return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : text;
}

function assertIntegerIn(value: unknown, min: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`must be ${what} from ${min} to ${max} (got ${describeValue(value)})`);
  }
}

function showDuration(value: number): string {
  return Number.isSafeInteger(value) && value >= 0 ? formatDuration(value) : String(value);
}

// The milliseconds are a safe integer: parseDuration makes them, or the file's 0 (fileNumberProblem).
function assertDurationIn(value: number, item: convict.SchemaObj): void {
  const min = bound(item, 'min');
  if (value < min) throw new Error(`must be at least ${formatDuration(min)} (got ${showDuration(value)})`);
  if (value > MAX_DURATION_MS) {
    throw new Error(`must be at most ${formatDuration(MAX_DURATION_MS)} (got ${showDuration(value)})`);
  }
}

type EndpointCheck = { origin: string } | { problem: string };

/** What an endpoint setting is for: an example URL, and the path the exporter adds to it. */
type EndpointKind = Readonly<{ example: string; addedPath: string }>;

const DIS_ENDPOINT: EndpointKind = {
  example: 'https://dis.cn-north-4.myhuaweicloud.com',
  addedPath: '/v2/{project_id}/...',
};
const IAM_ENDPOINT: EndpointKind = {
  example: 'https://iam.cn-north-4.myhuaweicloud.com',
  addedPath: '/v3/auth/tokens',
};
const OIDC_ENDPOINT: EndpointKind = {
  example: 'https://iam.cn-north-4.myhuaweicloud.com',
  addedPath: '/v3.0/OS-AUTH/id-token/tokens',
};
/** The metadata service of ECS and CCE nodes (docs/dis-api.md ("Agency keys from the metadata service")). */
export const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';
const METADATA_ENDPOINT: EndpointKind = {
  example: DEFAULT_METADATA_ENDPOINT,
  addedPath: '/openstack/latest/securitykey',
};

/** Checks a DIS endpoint setting: its origin (the URL normalized), or the problem with it. */
export function checkDisEndpoint(value: unknown): EndpointCheck {
  return checkEndpoint(value, DIS_ENDPOINT);
}

function checkEndpoint(value: unknown, kind: EndpointKind): EndpointCheck {
  const example = `an http:// or https:// URL like ${kind.example}`;
  if (typeof value !== 'string') return { problem: `must be ${example} (got ${describeValue(value)})` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // An unparsable URL may still hold "user:password@", so it is only echoed when it cannot.
    const shown = value.includes('@') ? '' : ` (got ${describeValue(value)})`;
    return { problem: `must be ${example}${shown}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { problem: 'must not contain a user name or password; credentials belong in auth.*' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `must use http:// or https:// (got ${describeValue(url.protocol.slice(0, -1))})` };
  }
  if (url.pathname !== '/') {
    const got = describeValue(url.pathname);
    return { problem: `must not have a path; the exporter adds ${kind.addedPath} (got ${got})` };
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    return { problem: `must not have a query or fragment (got ${describeValue(value)})` };
  }
  return { origin: url.origin };
}

/** A convict format for an endpoint setting, normalized to its origin; `optional` also accepts "" (unset). */
function endpointFormat(kind: EndpointKind, optional: boolean): convict.Format {
  return {
    coerce(text: string) {
      if (optional && text.trim() === '') return '';
      const checked = checkEndpoint(text, kind);
      return 'origin' in checked ? checked.origin : text;
    },
    validate(value: unknown) {
      if (optional && value === '') return;
      const checked = checkEndpoint(value, kind);
      if ('problem' in checked) throw new Error(checked.problem);
    },
  };
}

// Each entry is checked by config/projects.ts, which reads it; only the list itself is checked here.
const PROJECTS_FORMAT: convict.Format = {
  // DIS_PROJECTS holds the list as JSON; text that is not JSON stays text, which validate explains.
  coerce(text: string) {
    const parsed = parseStrictJson(text, MAX_NESTING_DEPTH);
    return 'value' in parsed ? parsed.value : text;
  },
  validate(value: unknown) {
    if (Array.isArray(value)) return;
    const list = 'a list of {projectId, endpoint, region, targets} mappings';
    // Only the kind of the value and fixed parser texts: an entry's auth may hold a secret.
    const parsed = typeof value === 'string' ? parseStrictJson(value, MAX_NESTING_DEPTH) : undefined;
    if (parsed !== undefined && 'error' in parsed) {
      const at = parsed.error.offset === undefined ? '' : ` at character ${parsed.error.offset + 1}`;
      throw new Error(
        `must be ${list}, as JSON in DIS_PROJECTS (got a string that is not JSON: ${parsed.error.message}${at})`,
      );
    }
    throw new Error(`must be ${list} (got ${describeKind(value)})`);
  },
};
const DURATION_FORMATS: ReadonlySet<unknown> = new Set(['dis-duration', 'dis-optional-duration']);

/**
 * The problem with a number the file gives a duration setting, if any. convict validates the milliseconds that
 * `coerce` makes of text (and the defaults), so a number in the file would pass for milliseconds: only 0 may be
 * written without a unit.
 */
export function fileNumberProblem(leaf: convict.SchemaObj, value: unknown): string | undefined {
  if (typeof value !== 'number' || value === 0 || !DURATION_FORMATS.has(leaf.format)) return undefined;
  return missingUnit(value) ?? `must be a duration like 30s, 5m or 1h (got ${value})`;
}

// Named formats, because convict only runs a custom `coerce` (for strings from the environment or a
// file) on formats registered by name; unnamed format functions get convict's loose parseFloat.
const formats: Record<string, convict.Format> = {
  'dis-duration': {
    coerce: (text: string) => parseDuration(text) ?? text,
    validate(value: unknown, item: convict.SchemaObj) {
      if (typeof value !== 'number') {
        throw new Error(missingUnit(value) ?? `must be a duration like 30s, 5m or 1h (got ${describeValue(value)})`);
      }
      assertDurationIn(value, item);
    },
  },
  // A duration that may be left unset as "", for settings whose default depends on other things.
  'dis-optional-duration': {
    coerce: (text: string) => (text.trim() === '' ? '' : (parseDuration(text) ?? text)),
    validate(value: unknown, item: convict.SchemaObj) {
      if (value === '') return;
      if (typeof value !== 'number') {
        throw new Error(
          missingUnit(value) ??
            `must be a duration like 30s, 5m or 1h, or "" for the default (got ${describeValue(value)})`,
        );
      }
      assertDurationIn(value, item);
    },
  },
  'dis-boolean': {
    coerce(text: string) {
      const word = text.trim().toLowerCase();
      return word === 'true' ? true : word === 'false' ? false : text;
    },
    validate(value: unknown) {
      if (typeof value !== 'boolean') throw new Error(`must be true or false (got ${describeValue(value)})`);
    },
  },
  'dis-port': {
    coerce: coerceInteger,
    validate: (value: unknown) => assertIntegerIn(value, 0, 65535, 'a port number'),
  },
  'dis-integer': {
    coerce: coerceInteger,
    validate: (value: unknown, item: convict.SchemaObj) =>
      assertIntegerIn(value, bound(item, 'min'), bound(item, 'max'), 'an integer'),
  },
  // A non-negative rate, fractions allowed (0.5 = one request every two seconds).
  'dis-rate': {
    coerce(text: string) {
      const trimmed = text.trim();
      return /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : text;
    },
    validate(value: unknown, item: convict.SchemaObj) {
      const max = bound(item, 'max');
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
        throw new Error(`must be a number from 0 (no limit) to ${max} (got ${describeValue(value)})`);
      }
    },
  },
  'dis-endpoint': endpointFormat(DIS_ENDPOINT, false),
  'dis-iam-endpoint': endpointFormat(IAM_ENDPOINT, true),
  'dis-oidc-endpoint': endpointFormat(OIDC_ENDPOINT, true),
  'dis-metadata-endpoint': endpointFormat(METADATA_ENDPOINT, false),
  // A proxy URL may carry user:password@, so a problem never quotes it.
  'dis-proxy': {
    coerce: (text: string) => text.trim(),
    validate(value: unknown) {
      if (typeof value !== 'string') throw new Error(`must be a URL string (got ${describeKind(value)})`);
      if (value === '') return;
      const checked = checkProxyUrl(value);
      if ('problem' in checked) throw new Error(checked.problem);
    },
  },
  'dis-targets': {
    coerce: parseTargetList,
    validate(value: unknown) {
      // None is a problem only without `projects` (config/projects.ts).
      if (Array.isArray(value) && value.length === 0) return;
      const problems = targetProblems(value);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    },
  },
  'dis-projects': PROJECTS_FORMAT,
  'dis-apps': {
    coerce: parseAppList,
    validate(value: unknown) {
      const problems = appProblems(value);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    },
  },
};

function oneOf(values: readonly string[]): (value: unknown) => void {
  return (value) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      throw new Error(`must be one of ${values.join(', ')} (got ${describeValue(value)})`);
    }
  };
}

function nonEmptyString(value: unknown): void {
  if (typeof value !== 'string') throw new Error(`must be a string (got ${describeValue(value)})`);
  if (value.trim() === '') throw new Error('must not be empty');
}

function anyString(value: unknown): void {
  if (typeof value !== 'string') throw new Error(`must be a string (got ${describeValue(value)})`);
}

function secretString(value: unknown): void {
  if (typeof value !== 'string') throw new Error(`must be a string (got ${describeKind(value)})`);
}

/** The problem with a project ID, if any ("" and a missing one are "is required"). */
export function projectIdProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'is required';
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)}; quote it in YAML)`;
  // It becomes a URL path segment, so "/", "?" or "%" would change which API is called.
  if (!DIS_NAME.test(value)) return `must be 1 to 64 letters, digits, "-" or "_" (got ${describeValue(value)})`;
  return undefined;
}

// "" is no project ID, which is a problem only without `projects` (config/projects.ts).
function projectId(value: unknown): void {
  const problem = value === '' ? undefined : projectIdProblem(value);
  if (problem !== undefined) throw new Error(problem);
}

// A region ID: cn-north-4, ap-southeast-1, eu-west-101.
const REGION = /^[a-z][a-z0-9-]{0,63}$/;

/** The problem with a region setting, if any: a region ID like cn-north-4 is required. */
export function regionProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)})`;
  if (value.trim() === '') return 'must not be empty';
  if (!REGION.test(value)) {
    return `must be a region ID like cn-north-4: lowercase letters, digits and "-" (got ${describeValue(value)})`;
  }
  return undefined;
}

function region(value: unknown): void {
  const problem = regionProblem(value);
  if (problem !== undefined) throw new Error(problem);
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const STATE_SETS: readonly StateSets[] = ['all', 'current'];

/**
 * The convict schema: every key with its doc, format, default and environment variable, as docs/configuration.md
 * ("Every key") lists them.
 */
export const configSchema = {
  server: {
    host: {
      doc: 'Address the HTTP server (/metrics, /-/healthy, /-/ready) listens on.',
      format: nonEmptyString,
      default: '0.0.0.0',
      env: 'DIS_EXPORTER_HOST',
    },
    port: {
      doc: 'TCP port of the HTTP server; 0 picks a free port.',
      format: 'dis-port',
      default: 9873,
      env: 'DIS_EXPORTER_PORT',
    },
    maxRequests: {
      doc: 'Concurrent /metrics requests at most; more get 503 at once. 0 = no limit.',
      format: 'dis-integer',
      default: 40,
      env: 'DIS_EXPORTER_MAX_REQUESTS',
      min: 0,
      max: 10000,
    },
  },
  web: {
    configFile: {
      doc:
        'Web config file (Prometheus exporter-toolkit format): TLS, basic auth, response headers, rate limit. ' +
        '"" = plain HTTP, open. The --web.config.file flag wins over it.',
      format: anyString,
      default: '',
      env: 'DIS_EXPORTER_WEB_CONFIG_FILE',
    },
  },
  log: {
    level: {
      doc: `Lowest log level written: ${LOG_LEVELS.join(', ')}.`,
      format: oneOf(LOG_LEVELS),
      default: 'info',
      env: 'LOG_LEVEL',
    },
    format: {
      doc: 'Log line format: json (one object per line) or pretty (for humans).',
      format: oneOf(['json', 'pretty']),
      default: 'json',
      env: 'LOG_FORMAT',
    },
  },
  dis: {
    endpoint: {
      doc: 'Base URL of the DIS API, without a path; http:// is allowed (for the simulator).',
      format: 'dis-endpoint',
      default: 'https://dis.cn-north-4.myhuaweicloud.com',
      env: 'DIS_ENDPOINT',
    },
    region: {
      doc: 'Huawei Cloud region of the DIS endpoint, e.g. cn-north-4.',
      format: region,
      default: 'cn-north-4',
      env: 'HUAWEICLOUD_SDK_REGION',
    },
    projectId: {
      doc: 'Project ID the streams belong to (required unless projects is set).',
      format: projectId,
      default: '',
      env: 'HUAWEICLOUD_SDK_PROJECT_ID',
    },
    proxy: {
      doc:
        'HTTP proxy of DIS and IAM requests, e.g. http://proxy.example.com:3128 (user:password@ allowed, never shown); ' +
        '"" = HTTPS_PROXY/HTTP_PROXY from the environment. NO_PROXY applies either way; the metadata service is ' +
        'never proxied.',
      format: 'dis-proxy',
      default: '',
      env: 'DIS_PROXY',
    },
  },
  auth: {
    accessKey: {
      doc: 'Access key ID (AK); required unless accessKeyFile is set.',
      format: secretString,
      default: '',
      env: 'HUAWEICLOUD_SDK_AK',
      sensitive: true,
    },
    secretKey: {
      doc: 'Secret access key (SK); required unless secretKeyFile is set.',
      format: secretString,
      default: '',
      env: 'HUAWEICLOUD_SDK_SK',
      sensitive: true,
    },
    securityToken: {
      doc: 'Security token that comes with a temporary AK/SK; empty for a permanent AK/SK.',
      format: secretString,
      default: '',
      env: 'HUAWEICLOUD_SDK_SECURITY_TOKEN',
      sensitive: true,
    },
    accessKeyFile: {
      doc: 'File holding the AK (surrounding whitespace trimmed); wins over accessKey.',
      format: anyString,
      default: '',
      env: 'HUAWEICLOUD_SDK_AK_FILE',
    },
    secretKeyFile: {
      doc: 'File holding the SK (surrounding whitespace trimmed); wins over secretKey.',
      format: anyString,
      default: '',
      env: 'HUAWEICLOUD_SDK_SK_FILE',
    },
    securityTokenFile: {
      doc: 'File holding the security token of a temporary AK/SK (whitespace trimmed); wins over securityToken.',
      format: anyString,
      default: '',
      env: 'HUAWEICLOUD_SDK_SECURITY_TOKEN_FILE',
    },
    iam: {
      endpoint: {
        doc:
          'Base URL of IAM, without a path, e.g. https://iam.cn-north-4.myhuaweicloud.com; setting any auth.iam key ' +
          'authenticates with an IAM user token instead of AK/SK signing.',
        format: 'dis-iam-endpoint',
        default: '',
        env: 'HUAWEICLOUD_SDK_IAM_ENDPOINT',
      },
      domain: {
        doc: 'Account (domain) name the IAM user belongs to.',
        format: anyString,
        default: '',
        env: 'DIS_IAM_DOMAIN',
      },
      username: {
        doc: 'Name of the IAM user whose token the requests carry.',
        format: anyString,
        default: '',
        env: 'DIS_IAM_USERNAME',
      },
      password: {
        doc: "The IAM user's password; required unless passwordFile is set.",
        format: secretString,
        default: '',
        env: 'DIS_IAM_PASSWORD',
        sensitive: true,
      },
      passwordFile: {
        doc: "File holding the IAM user's password (surrounding whitespace trimmed); wins over password.",
        format: anyString,
        default: '',
        env: 'DIS_IAM_PASSWORD_FILE',
      },
    },
    oidc: {
      endpoint: {
        doc:
          'Base URL of IAM, without a path, e.g. https://iam.cn-north-4.myhuaweicloud.com; setting any auth.oidc key ' +
          'trades the Kubernetes service-account token for an IAM token (CCE workload identity).',
        format: 'dis-oidc-endpoint',
        default: '',
        env: 'DIS_OIDC_IAM_ENDPOINT',
      },
      idpId: {
        doc: 'ID of the IAM identity provider (OpenID Connect) that trusts the cluster.',
        format: anyString,
        default: '',
        env: 'HUAWEICLOUD_SDK_IDP_ID',
      },
      idTokenFile: {
        doc: 'File holding the projected service-account token (a JWT), read again for every token exchange.',
        format: anyString,
        default: '',
        env: 'HUAWEICLOUD_SDK_ID_TOKEN_FILE',
      },
    },
    metadata: {
      enabled: {
        doc: 'Sign requests with the temporary AK/SK of the agency bound to this ECS server or CCE node.',
        format: 'dis-boolean',
        default: false,
        env: 'DIS_METADATA_ENABLED',
      },
      endpoint: {
        doc: 'Base URL of the metadata service; never reached through a proxy.',
        format: 'dis-metadata-endpoint',
        default: DEFAULT_METADATA_ENDPOINT,
        env: 'DIS_METADATA_ENDPOINT',
      },
    },
  },
  targets: {
    doc:
      'Dump tasks to poll, as {stream, task}; task "*" = every dump task of the stream, stream "*" = every stream ' +
      'of the project; include/exclude (regular expressions) filter the names a "*" finds. The environment ' +
      'variable takes "stream/task,stream2/*,*".',
    format: 'dis-targets',
    default: [],
    env: 'DIS_TARGETS',
  },
  apps: {
    doc:
      'Consumer apps whose checkpoints to poll, as {app, stream}; app "*" = every app DIS lists, stream "*" or ' +
      'left out = every stream the app checkpoints. [] = no app calls at all. The environment variable takes ' +
      '"app/stream,app2,*/stream3".',
    format: 'dis-apps',
    default: [],
    env: 'DIS_APPS',
  },
  projects: {
    doc:
      'Several projects polled by one exporter, instead of dis.projectId, targets and apps: a list of {projectId, ' +
      'endpoint, region, targets, apps, auth}, apps and auth optional (the top-level auth when left out). The ' +
      'environment variable takes the list as JSON.',
    format: 'dis-projects',
    default: [],
    env: 'DIS_PROJECTS',
  },
  poll: {
    interval: {
      doc: 'How often every target is polled.',
      format: 'dis-duration',
      default: 60 * SECOND,
      env: 'DIS_POLL_INTERVAL',
      min: SECOND,
    },
    timeout: {
      doc: 'Timeout of one API request.',
      format: 'dis-duration',
      default: 10 * SECOND,
      env: 'DIS_POLL_TIMEOUT',
      min: 1,
    },
    concurrency: {
      doc: 'API requests in flight at most (per project, with several projects).',
      format: 'dis-integer',
      default: 8,
      env: 'DIS_POLL_CONCURRENCY',
      min: 1,
      max: 256,
    },
    retries: {
      doc: 'Extra attempts for network errors, timeouts, 5xx and throttling.',
      format: 'dis-integer',
      default: 2,
      env: 'DIS_POLL_RETRIES',
      min: 0,
      max: 10,
    },
    staleAfter: {
      doc: "How long a failing target's last values are still served.",
      format: 'dis-duration',
      default: 5 * MINUTE,
      env: 'DIS_POLL_STALE_AFTER',
      min: 0,
    },
    maxRequestsPerSecond: {
      doc:
        'API requests per second at most, across all calls and retries (a token bucket that holds one second of ' +
        'requests), so a large fleet is polled at a steady pace rather than in one burst; 0 = no limit. With ' +
        'several projects, each has a bucket of its own.',
      format: 'dis-rate',
      default: DEFAULT_MAX_REQUESTS_PER_SECOND,
      env: 'DIS_POLL_MAX_REQUESTS_PER_SECOND',
      max: 10_000,
    },
  },
  discovery: {
    interval: {
      doc: 'How often the streams and dump tasks behind "*" targets are listed again.',
      format: 'dis-duration',
      default: 5 * MINUTE,
      env: 'DIS_DISCOVERY_INTERVAL',
      min: SECOND,
    },
  },
  lag: {
    records: {
      doc:
        'Fetch stream details once per poll cycle, for every stream with a polled dump task or app: lag in ' +
        'records, expired records, stall detection and stream health.',
      format: 'dis-boolean',
      default: true,
      env: 'DIS_LAG_RECORDS',
    },
    stallAfter: {
      doc:
        "How long a partition's offset may stand still while records wait before it counts as stalled; " +
        '"" = 3 times the destination\'s deliver interval, or 5m when that is unknown.',
      format: 'dis-optional-duration',
      default: '',
      env: 'DIS_LAG_STALL_AFTER',
      min: SECOND,
    },
  },
  shard: {
    index: {
      doc: "This replica's shard, from 0 to shard.total - 1; each polls the targets that hash to it.",
      format: 'dis-integer',
      default: 0,
      env: 'DIS_SHARD_INDEX',
      min: 0,
      max: 999,
    },
    total: {
      doc: 'Number of shards (replicas) the targets are split between, 1 to 1000.',
      format: 'dis-integer',
      default: 1,
      env: 'DIS_SHARD_TOTAL',
      min: 1,
      max: 1000,
    },
    fromHostname: {
      doc:
        'Take shard.index from the host name ending in -<number> (a StatefulSet pod, dis-exporter-2 = 2) ' +
        'instead of shard.index.',
      format: 'dis-boolean',
      default: false,
      env: 'DIS_SHARD_FROM_HOSTNAME',
    },
  },
  metrics: {
    stateSets: {
      doc:
        'State sets (dis_dump_task_state, dis_dump_task_partition_state, dis_dump_task_partition_status, ' +
        'dis_stream_status, dis_stream_partition_status): all = one ' +
        'series per state, 1 for the current one and 0 for the others; current = only the current state, with 1 ' +
        '(far fewer series on large fleets; alert on state!="X" == 1 instead of state="X" == 0).',
      format: oneOf(STATE_SETS),
      default: 'all',
      env: 'DIS_METRICS_STATE_SETS',
    },
  },
} satisfies convict.Schema<ConfigProperties>;

/** A node of the schema: a section of further nodes, or a leaf (a convict schema object, which has a default). */
export type SchemaNode = { readonly [key: string]: SchemaNode } | convict.SchemaObj;

/** Whether a schema node is a leaf setting rather than a section. */
export function isSchemaLeaf(node: SchemaNode): node is convict.SchemaObj {
  return 'default' in node;
}

/** One setting of the schema, flattened. */
export type SchemaLeaf = Readonly<{ path: string; env: string; sensitive: boolean; item: convict.SchemaObj }>;

/** Every setting of the schema in file order, with its dotted path. */
export function schemaLeaves(node: SchemaNode = configSchema, prefix = ''): SchemaLeaf[] {
  if (isSchemaLeaf(node)) {
    const env: unknown = node.env;
    return [{ path: prefix, env: typeof env === 'string' ? env : '', sensitive: node.sensitive === true, item: node }];
  }
  return Object.entries(node).flatMap(([key, child]) => schemaLeaves(child, prefix === '' ? key : `${prefix}.${key}`));
}

/** The `auth` section of the schema without its environment variables: a project's own `auth` is file-only. */
const PROJECT_AUTH_SCHEMA = { auth: withoutEnv(configSchema.auth) };

function withoutEnv(node: SchemaNode): SchemaNode {
  if (isSchemaLeaf(node)) {
    const { env: _env, ...rest } = node;
    return rest;
  }
  return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, withoutEnv(child)]));
}

/**
 * A fresh convict instance over the `auth` section alone, with its defaults and no environment: to check and read a
 * project's own `auth` with the very settings and formats of the top-level one.
 */
export function createAuthConvictConfig(): convict.Config<Pick<ConfigProperties, 'auth'>> {
  convict.addFormats(formats);
  return convict<Pick<ConfigProperties, 'auth'>>(
    PROJECT_AUTH_SCHEMA as convict.Schema<Pick<ConfigProperties, 'auth'>>,
    {
      env: {},
      args: [],
    },
  );
}

/** A fresh convict instance over the schema, with defaults and the given environment applied. */
export function createConvictConfig(
  env: Readonly<Record<string, string | undefined>>,
): convict.Config<ConfigProperties> {
  // convict keeps formats in a module-wide registry; registering again on every call is idempotent.
  convict.addFormats(formats);
  return convict<ConfigProperties>(configSchema, { env: { ...env }, args: [] });
}
