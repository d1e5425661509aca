import type { ProxySettings } from './types.js';

/** What checking a proxy URL found: the URL, or what is wrong with it (never quoting it: it may hold a password). */
export type ProxyCheck = Readonly<{ url: string } | { problem: string }>;

const EXAMPLE = 'http://proxy.example.com:3128';

/**
 * Pure: checks a proxy URL, `http://` or `https://` with an optional `user:password@`, a host and a port, nothing
 * after them. `defaultScheme` is put in front of a value without one (the environment's `proxy:3128`, as curl reads
 * it); `dis.proxy` passes none and must name its scheme.
 */
export function checkProxyUrl(value: string, defaultScheme?: 'http'): ProxyCheck {
  const text = value.trim();
  const withScheme = defaultScheme !== undefined && !text.includes('://') ? `${defaultScheme}://${text}` : text;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { problem: `must be an http:// or https:// URL like ${EXAMPLE}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // The scheme alone is safe to show: it ends before any credentials.
    return { problem: `must use http:// or https:// (got ${JSON.stringify(url.protocol.slice(0, -1))})` };
  }
  if (url.hostname === '') return { problem: `must name a host, like ${EXAMPLE}` };
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return { problem: `must be only a scheme, an optional user:password@, a host and a port, like ${EXAMPLE}` };
  }
  return { url: url.href };
}

/** The variables read, lowercase first as curl and most tools do, then uppercase; an empty one counts as unset. */
function variable(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const lower = env[name.toLowerCase()]?.trim();
  if (lower !== undefined && lower !== '') return lower;
  return env[name.toUpperCase()]?.trim() ?? '';
}

/** What resolving the proxy settings found: the settings, or one problem per bad variable. */
export type ProxyResolution = Readonly<{ settings: ProxySettings } | { problems: readonly string[] }>;

/**
 * Pure: the proxy of DIS and IAM requests. `dis.proxy` (checked by the schema) serves both kinds of URL; without it,
 * `HTTPS_PROXY` serves https:// URLs and `HTTP_PROXY` http:// ones. `NO_PROXY` applies either way
 * (docs/configuration.md ("Proxies")).
 */
export function resolveProxySettings(
  disProxy: string,
  env: Readonly<Record<string, string | undefined>>,
): ProxyResolution {
  const noProxy = variable(env, 'NO_PROXY');
  if (disProxy !== '') {
    const checked = checkProxyUrl(disProxy);
    // The schema has reported a bad dis.proxy already.
    const proxy = 'url' in checked ? checked.url : '';
    return { settings: { httpsProxy: proxy, httpProxy: proxy, noProxy } };
  }
  const problems: string[] = [];
  const fromEnv = (name: string): string => {
    const value = variable(env, name);
    if (value === '') return '';
    const checked = checkProxyUrl(value, 'http');
    if ('url' in checked) return checked.url;
    problems.push(`${name}: ${checked.problem} (from the environment; or set dis.proxy)`);
    return '';
  };
  const settings = { httpsProxy: fromEnv('HTTPS_PROXY'), httpProxy: fromEnv('HTTP_PROXY'), noProxy };
  return problems.length > 0 ? { problems } : { settings };
}

/** Pure: the URL with its password, if it has one, replaced by `[REDACTED]`, for --check-config and logs. */
export function redactProxyUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value === '' ? '' : '[REDACTED]';
  }
  if (url.password !== '') url.password = 'REDACTED';
  return url.href.replace(':REDACTED@', ':[REDACTED]@');
}
