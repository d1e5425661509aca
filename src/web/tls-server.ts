import type { RequestListener, ServerOptions } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import { isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { filesSignature, readTlsMaterial, tlsFiles, type TlsMaterial } from './tls-material.js';
import type { TlsServerConfig } from './web-config.js';

/** How often at most a new connection makes the server stat the certificate files. */
export const CERTIFICATE_CHECK_MS = 1000;

/** A client must finish the TLS handshake within this (Node's default, 120 s, lets slow clients pin sockets). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** An HTTPS server whose certificate follows its files, and whose TLS settings a web config reload can replace. */
export type TlsServer = Readonly<{
  server: HttpsServer;
  /** Serves new connections with these settings and material (a reloaded web config). */
  replace(tls: TlsServerConfig, material: TlsMaterial): void;
}>;

/** Where `requestCert` and `rejectUnauthorized` live: tls.Server reads them for every new connection. */
type ClientCertPolicy = { requestCert: boolean; rejectUnauthorized: boolean };

/** The SANs of a certificate as Node prints them (`DNS:a, IP Address:1.2.3.4, email:"x, y"`), values unquoted. */
export function subjectAltNames(text: string | undefined): string[] {
  const names: string[] = [];
  for (const match of (text ?? '').matchAll(/(?:^|, )[A-Za-z ]+:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[1] ?? '';
    names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return names.map(canonicalAddress);
}

// Node prints an IPv6 SAN in full (0:0:0:0:0:0:0:1) while a config says ::1: both are compared in URL form.
function canonicalAddress(name: string): string {
  return isIPv6(name) ? new URL(`http://[${name}]`).hostname.slice(1, -1) : name;
}

/** Why a client's certificate is refused under `tls`, or undefined when the connection may go on. */
export function clientCertificateProblem(socket: TLSSocket, tls: TlsServerConfig): string | undefined {
  if (tls.clientAuthType === 'NoClientCert' || tls.clientAuthType === 'RequestClientCert') return undefined;
  const certificate = socket.getPeerCertificate();
  const given = Object.keys(certificate).length > 0;
  if (!given) {
    return tls.clientAuthType === 'VerifyClientCertIfGiven' ? undefined : 'no client certificate';
  }
  if (tls.clientAuthType !== 'RequireAnyClientCert' && !socket.authorized) {
    return `client certificate not verified: ${String(socket.authorizationError)}`;
  }
  if (tls.clientAllowedSans !== undefined) {
    const allowed = new Set(tls.clientAllowedSans.map(canonicalAddress));
    if (!subjectAltNames(certificate.subjectaltname).some((name) => allowed.has(name))) {
      return 'client certificate has none of tls_server_config.client_allowed_sans';
    }
  }
  return undefined;
}

function policyOf(tls: TlsServerConfig): ClientCertPolicy {
  return {
    requestCert: tls.clientAuthType !== 'NoClientCert',
    // The other policies are checked by clientCertificateProblem once the handshake is done.
    rejectUnauthorized: tls.clientAuthType === 'RequireAndVerifyClientCert',
  };
}

/**
 * An HTTPS server for `app`. On a new connection, at most once per CERTIFICATE_CHECK_MS, it stats the certificate,
 * key and client CA files; when they changed it reads them, and a good set replaces the served one
 * (`setSecureContext`) for that connection on. A bad set (a half-written pair, a key of another certificate) is
 * logged once and the previous one kept until the files change again. `httpOptions` are the HTTP server's (timeouts).
 */
export function createTlsServer(
  app: RequestListener,
  initial: Readonly<{ tls: TlsServerConfig; material: TlsMaterial }>,
  deps: Readonly<{ clock: Clock; logger: Logger }>,
  httpOptions: ServerOptions = {},
): TlsServer {
  let tls = initial.tls;
  const server = createServer(
    { ...httpOptions, ...initial.material.options, ...policyOf(tls), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
    app,
  );
  const policy = server as unknown as ClientCertPolicy;
  let files = tlsFiles(tls);
  let signature = initial.material.signature;
  let checkedAt = deps.clock.now();

  const apply = (next: TlsServerConfig, material: TlsMaterial): void => {
    server.setSecureContext(material.options);
    Object.assign(policy, policyOf(next));
    tls = next;
  };

  server.prependListener('connection', () => {
    const now = deps.clock.now();
    if (Math.abs(now - checkedAt) < CERTIFICATE_CHECK_MS) return;
    checkedAt = now;
    const current = filesSignature(files);
    if (current === signature) return;
    signature = current;
    const read = readTlsMaterial(tls);
    if ('problems' in read) {
      deps.logger.error({ problems: read.problems }, 'new TLS certificate files rejected; serving the previous ones');
      return;
    }
    apply(tls, read.material);
    deps.logger.info(
      { fingerprint: read.material.fingerprint, validTo: read.material.validTo },
      'TLS certificate reloaded',
    );
  });

  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const problem = clientCertificateProblem(socket, tls);
    if (problem === undefined) return;
    deps.logger.debug({ remoteAddress: socket.remoteAddress, problem }, 'TLS client refused');
    socket.destroy();
  });

  return {
    server,
    replace(next, material) {
      apply(next, material);
      files = tlsFiles(next);
      signature = material.signature;
      checkedAt = deps.clock.now();
    },
  };
}
