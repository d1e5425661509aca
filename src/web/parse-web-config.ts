import { isAbsolute, resolve } from 'node:path';
import { missingUnit, parseDuration } from '../config/duration.js';
import { describeKind, describeValue, isMapping } from '../config/values.js';
import {
  CLIENT_AUTH_TYPES,
  type ClientAuthType,
  type PemSource,
  type TlsServerConfig,
  type WebConfig,
} from './web-config.js';

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;

// The suites Go's tls.CipherSuites() offers, which are the names the toolkit accepts, in OpenSSL's spelling.
const TLS12_CIPHERS: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};
// As in Go, the TLS 1.3 suites are always on and not configurable; naming them is allowed and changes nothing.
const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const TLS13_DEFAULT = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** The headers the toolkit lets a web config set, with the values it accepts (none listed = any). */
const CONFIGURABLE_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Content-Security-Policy': [],
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
};

const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

type Problems = string[];

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** The mapping at `path`, or undefined (absent or null) after reporting anything else; unknown keys are reported. */
function section(
  value: unknown,
  path: string,
  keys: readonly string[],
  problems: Problems,
): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value)) {
    problems.push(`${path}: must be a mapping (got ${describeKind(value)})`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) problems.push(`${join(path, key)}: unknown key`);
  }
  return value;
}

// Reports a value of the wrong type by its kind only: it may be a key or a password hash.
function optionalString(parent: Record<string, unknown>, key: string, path: string, problems: Problems) {
  const value = parent[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  problems.push(`${join(path, key)}: must be a string (got ${describeKind(value)})`);
  return undefined;
}

function optionalList(parent: Record<string, unknown>, key: string, path: string, problems: Problems) {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  problems.push(`${join(path, key)}: must be a list of strings (got ${describeValue(value)})`);
  return undefined;
}

/** `value` when it is one of `names`; otherwise reports it and gives undefined. */
function pick<T extends string>(value: string, names: readonly T[], where: string, problems: Problems): T | undefined {
  if ((names as readonly string[]).includes(value)) return value as T;
  problems.push(`${where}: must be one of ${names.join(', ')} (got ${describeValue(value)})`);
  return undefined;
}

function pemSource(
  tls: Record<string, unknown>,
  inlineKey: string,
  fileKey: string,
  dir: string,
  problems: Problems,
): PemSource | undefined {
  const path = 'tls_server_config';
  const file = optionalString(tls, fileKey, path, problems);
  const inline = optionalString(tls, inlineKey, path, problems);
  if (file !== undefined && inline !== undefined) {
    problems.push(`${path}: set ${inlineKey} or ${fileKey}, not both`);
    return undefined;
  }
  // As in the toolkit, a relative path is relative to the web config file.
  if (file !== undefined) return { file: isAbsolute(file) ? file : resolve(dir, file) };
  return inline === undefined ? undefined : { inline };
}

function tlsVersion(tls: Record<string, unknown>, key: string, fallback: TlsVersionName, problems: Problems) {
  const value = optionalString(tls, key, 'tls_server_config', problems) ?? fallback;
  const names = Object.keys(TLS_VERSIONS) as TlsVersionName[];
  return pick(value, names, `tls_server_config.${key}`, problems);
}

function ciphersOf(names: readonly string[], problems: Problems): string | undefined {
  const openssl: string[] = [];
  for (const name of names) {
    const mapped = TLS12_CIPHERS[name];
    if (mapped !== undefined) openssl.push(mapped);
    else if (!TLS13_CIPHERS.includes(name)) {
      problems.push(`tls_server_config.cipher_suites: unknown cipher suite ${describeValue(name)}`);
    }
  }
  // Node turns TLS 1.3 off when the list names no TLS 1.3 suite, so the defaults are always added back.
  return openssl.length === 0 ? undefined : `${TLS13_DEFAULT}:${openssl.join(':')}`;
}

function curvesOf(names: readonly string[], problems: Problems): string | undefined {
  const groups: string[] = [];
  for (const name of names) {
    const group = CURVES[name];
    if (group === undefined) {
      const known = Object.keys(CURVES).join(', ');
      problems.push(`tls_server_config.curve_preferences: unknown curve ${describeValue(name)} (known: ${known})`);
    } else groups.push(group);
  }
  return groups.length === 0 ? undefined : groups.join(':');
}

const TLS_KEYS = [
  'cert',
  'key',
  'client_ca',
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'client_allowed_sans',
  'min_version',
  'max_version',
  'cipher_suites',
  'prefer_server_cipher_suites',
  'curve_preferences',
];

function parseTls(value: unknown, dir: string, problems: Problems): TlsServerConfig | undefined {
  const tls = section(value, 'tls_server_config', TLS_KEYS, problems);
  if (tls === undefined || Object.keys(tls).length === 0) return undefined;
  const before = problems.length;
  const cert = pemSource(tls, 'cert', 'cert_file', dir, problems);
  const key = pemSource(tls, 'key', 'key_file', dir, problems);
  const clientCa = pemSource(tls, 'client_ca', 'client_ca_file', dir, problems);
  const sourcesOk = problems.length === before;
  if (cert === undefined && sourcesOk) problems.push('tls_server_config.cert_file: is required');
  if (key === undefined && sourcesOk) problems.push('tls_server_config.key_file: is required');
  const authName = optionalString(tls, 'client_auth_type', 'tls_server_config', problems) ?? 'NoClientCert';
  // The toolkit still takes the old name RequireClientCert for RequireAnyClientCert.
  const clientAuthType = pick<ClientAuthType>(
    authName === 'RequireClientCert' ? 'RequireAnyClientCert' : authName,
    CLIENT_AUTH_TYPES,
    'tls_server_config.client_auth_type',
    problems,
  );
  if (clientAuthType === 'NoClientCert' && clientCa !== undefined) {
    problems.push('tls_server_config.client_ca_file: is set but client_auth_type is NoClientCert');
  }
  const verifies = clientAuthType === 'VerifyClientCertIfGiven' || clientAuthType === 'RequireAndVerifyClientCert';
  if (verifies && clientCa === undefined) {
    problems.push(
      `tls_server_config.client_ca_file: is required with client_auth_type ${clientAuthType} ` +
        '(the CA that signs the client certificates)',
    );
  }
  const clientAllowedSans = optionalList(tls, 'client_allowed_sans', 'tls_server_config', problems);
  const requiresCert = clientAuthType === 'RequireAnyClientCert' || clientAuthType === 'RequireAndVerifyClientCert';
  if (clientAllowedSans !== undefined && clientAuthType !== undefined && !requiresCert) {
    problems.push(
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or ' +
        `RequireAndVerifyClientCert (got ${clientAuthType})`,
    );
  }
  const minName = tlsVersion(tls, 'min_version', 'TLS12', problems);
  const maxName = tlsVersion(tls, 'max_version', 'TLS13', problems);
  if (minName !== undefined && maxName !== undefined && minName > maxName) {
    problems.push(`tls_server_config.min_version: ${minName} is above max_version ${maxName}`);
  }
  const ciphers = ciphersOf(optionalList(tls, 'cipher_suites', 'tls_server_config', problems) ?? [], problems);
  const ecdhCurve = curvesOf(optionalList(tls, 'curve_preferences', 'tls_server_config', problems) ?? [], problems);
  const prefer = tls['prefer_server_cipher_suites'] ?? true;
  if (typeof prefer !== 'boolean') {
    problems.push(
      `tls_server_config.prefer_server_cipher_suites: must be true or false (got ${describeValue(prefer)})`,
    );
  }
  if (problems.length > before || cert === undefined || key === undefined || clientAuthType === undefined) {
    return undefined;
  }
  if (minName === undefined || maxName === undefined) return undefined;
  return {
    cert,
    key,
    ...(clientCa === undefined ? {} : { clientCa }),
    clientAuthType,
    ...(clientAllowedSans === undefined ? {} : { clientAllowedSans }),
    minVersion: TLS_VERSIONS[minName],
    maxVersion: TLS_VERSIONS[maxName],
    ...(ciphers === undefined ? {} : { ciphers }),
    honorCipherOrder: prefer === true,
    ...(ecdhCurve === undefined ? {} : { ecdhCurve }),
  };
}

function parseHeaders(value: unknown, problems: Problems): Record<string, string> {
  const path = 'http_server_config.headers';
  const headers: Record<string, string> = {};
  if (value === undefined || value === null) return headers;
  if (!isMapping(value)) {
    problems.push(`${path}: must be a mapping of header names to values (got ${describeKind(value)})`);
    return headers;
  }
  for (const [name, text] of Object.entries(value)) {
    const allowed = Object.hasOwn(CONFIGURABLE_HEADERS, name) ? CONFIGURABLE_HEADERS[name] : undefined;
    if (allowed === undefined) {
      const names = Object.keys(CONFIGURABLE_HEADERS).join(', ');
      problems.push(`${path}.${name}: this header cannot be set (only ${names})`);
    } else if (typeof text !== 'string') {
      problems.push(`${path}.${name}: must be a string (got ${describeValue(text)})`);
    } else if (/[\r\n\0]/.test(text)) {
      problems.push(`${path}.${name}: must not contain line breaks`);
    } else if (text !== '' && allowed.length > 0 && !allowed.includes(text)) {
      problems.push(`${path}.${name}: must be one of ${allowed.join(', ')} (got ${describeValue(text)})`);
    } else {
      headers[name] = text;
    }
  }
  return headers;
}

function parseHttpServer(value: unknown, problems: Problems): Record<string, string> {
  const http = section(value, 'http_server_config', ['http2', 'headers'], problems);
  if (http === undefined) return {};
  const http2 = http['http2'];
  if (http2 === true) {
    problems.push('http_server_config.http2: HTTP/2 is not supported; dis-exporter serves HTTP/1.1 (set false)');
  } else if (http2 !== undefined && http2 !== false && http2 !== null) {
    problems.push(`http_server_config.http2: must be true or false (got ${describeValue(http2)})`);
  }
  return parseHeaders(http['headers'], problems);
}

function parseUsers(value: unknown, problems: Problems): Map<string, string> {
  const users = new Map<string, string>();
  if (value === undefined || value === null) return users;
  if (!isMapping(value)) {
    problems.push(`basic_auth_users: must be a mapping of user names to bcrypt hashes (got ${describeKind(value)})`);
    return users;
  }
  for (const [user, hash] of Object.entries(value)) {
    // Never the hash itself in a message: it can be attacked offline. Nor a name that may be a hash or a password:
    // `{ prometheus:change-me }` and `{ $2b$10$... }` are keys without values.
    const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
    if (hash === null || hash === undefined) {
      problems.push('basic_auth_users: an entry without a hash, not shown as it may be a secret (write user: hash)');
    } else if (user === '') {
      problems.push('basic_auth_users: a user name must not be empty');
    } else if (user.includes(':') || user.includes('$')) {
      problems.push('basic_auth_users: a user name must not contain ":" or "$" (not shown, as it may be a secret)');
    } else if (match === null) {
      problems.push(`basic_auth_users.${user}: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)`);
    } else if (Number(match[1]) < 4 || Number(match[1]) > 31) {
      problems.push(`basic_auth_users.${user}: bcrypt cost must be from 4 to 31 (got ${Number(match[1])})`);
    } else {
      users.set(user, hash as string);
    }
  }
  return users;
}

function parseRateLimit(value: unknown, problems: Problems): WebConfig['rateLimit'] {
  const limit = section(value, 'rate_limit', ['interval', 'burst'], problems);
  if (limit === undefined) return undefined;
  const rawInterval = limit['interval'] ?? 0;
  // Only 0 (no limit) may be written without a unit.
  const intervalMs = rawInterval === 0 ? 0 : typeof rawInterval === 'string' ? parseDuration(rawInterval) : undefined;
  if (intervalMs === undefined) {
    const problem =
      missingUnit(rawInterval) ?? `must be a duration like 100ms or 1s (got ${describeValue(rawInterval)})`;
    problems.push(`rate_limit.interval: ${problem}`);
    return undefined;
  }
  if (intervalMs === 0) return undefined;
  const burst = limit['burst'];
  if (typeof burst !== 'number' || !Number.isSafeInteger(burst) || burst < 1) {
    problems.push(`rate_limit.burst: must be a whole number of at least 1 (got ${describeValue(burst)})`);
    return undefined;
  }
  return { intervalMs, burst };
}

/**
 * Pure: the contents of a web config file (exporter-toolkit format) → a WebConfig, or one `key.path: problem`
 * line per problem. Relative file names are resolved against `dir`, the folder of the web config file.
 */
export function parseWebConfig(raw: unknown, dir: string): { config: WebConfig } | { problems: string[] } {
  if (raw === undefined || raw === null) return { config: { headers: {}, basicAuthUsers: new Map() } };
  const problems: Problems = [];
  if (!isMapping(raw)) return { problems: [`must contain a mapping of settings (got ${describeKind(raw)})`] };
  section(raw, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'], problems);
  const tls = parseTls(raw['tls_server_config'], dir, problems);
  const headers = parseHttpServer(raw['http_server_config'], problems);
  const basicAuthUsers = parseUsers(raw['basic_auth_users'], problems);
  const rateLimit = parseRateLimit(raw['rate_limit'], problems);
  if (problems.length > 0) return { problems };
  return {
    config: {
      ...(tls === undefined ? {} : { tls }),
      headers,
      basicAuthUsers,
      ...(rateLimit === undefined ? {} : { rateLimit }),
    },
  };
}
