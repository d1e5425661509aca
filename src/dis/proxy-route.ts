import { BlockList, isIP } from 'node:net';
import type { ProxySettings } from '../config/types.js';

/** One NO_PROXY entry: every host, a domain (and its subdomains), an IP address, or a CIDR block; maybe one port. */
type Exemption =
  | Readonly<{ kind: 'all' }>
  | Readonly<{ kind: 'domain'; suffix: string; alsoExact: boolean; port: string }>
  | Readonly<{ kind: 'ip'; address: BlockList; port: string }>
  | Readonly<{ kind: 'cidr'; block: BlockList }>;

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** `host:port` or `[v6]:port` split; a bare host keeps port "". */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort === null ? { host: entry, port: '' } : { host: withPort[1]!, port: withPort[2]! };
}

function parseCidr(entry: string): BlockList | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (match === null) return undefined;
  const family = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const block = new BlockList();
  block.addSubnet(match[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return block;
}

/**
 * Pure: the entries of a NO_PROXY value, read as Go's net/http (golang.org/x/net/http/httpproxy) reads them, which is
 * what kubectl and most cluster tooling follow: comma-separated, case-insensitive; `*` alone exempts every host;
 * `10.0.0.0/8` a CIDR block; an IP address that address; `example.com` the domain and its subdomains;
 * `.example.com` and `*.example.com` only its subdomains; `:port` after a host or IP restricts it to that port.
 * Unlike Go, loopback hosts are not exempt by themselves (the tests reach the simulator through a loopback proxy).
 */
export function parseNoProxy(value: string): Exemption[] {
  const exemptions: Exemption[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return [{ kind: 'all' }];
    const block = parseCidr(entry);
    if (block !== undefined) {
      exemptions.push({ kind: 'cidr', block });
      continue;
    }
    const { host, port } = splitHostPort(entry);
    if (host === '') continue;
    const family = isIP(host);
    if (family !== 0) {
      // A BlockList compares addresses, not spellings: ::1 and 0:0::1 are one address.
      const address = new BlockList();
      address.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
      exemptions.push({ kind: 'ip', address, port });
      continue;
    }
    const name = host.startsWith('*.') ? host.slice(1) : host;
    exemptions.push({
      kind: 'domain',
      suffix: name.startsWith('.') ? name : `.${name}`,
      alsoExact: !name.startsWith('.'),
      port,
    });
  }
  return exemptions;
}

function holds(block: BlockList, host: string): boolean {
  const family = isIP(host);
  return family !== 0 && block.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

function exempts(exemption: Exemption, host: string, port: string): boolean {
  switch (exemption.kind) {
    case 'all':
      return true;
    case 'cidr':
      return holds(exemption.block, host);
    case 'ip':
      return holds(exemption.address, host) && (exemption.port === '' || exemption.port === port);
    case 'domain': {
      const matches = host.endsWith(exemption.suffix) || (exemption.alsoExact && host === exemption.suffix.slice(1));
      return matches && (exemption.port === '' || exemption.port === port);
    }
  }
}

/** Pure: whether NO_PROXY sends requests to this URL straight to it. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? '') : url.port;
  return parseNoProxy(noProxy).some((exemption) => exempts(exemption, host, port));
}

/** Pure: the proxy a request to `url` goes through (HTTPS_PROXY's for https://, HTTP_PROXY's for http://), or none. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (proxy === '' || bypassesProxy(url, settings.noProxy)) return undefined;
  return proxy;
}
