import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { errnoCode } from '../config/config-error.js';
import type { PemSource, TlsServerConfig } from './web-config.js';

/** The certificate, key and client CAs as read, ready for `server.setSecureContext()`. */
export type TlsMaterial = Readonly<{
  options: SecureContextOptions;
  /** SHA-256 fingerprint of the served certificate (for logs). */
  fingerprint: string;
  /** When it expires, as OpenSSL prints it. */
  validTo: string;
  /** filesSignature() of the files, taken before they were read. */
  signature: string;
}>;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Reads one PEM source; a problem names the key and the file, never the contents. */
function readPem(source: PemSource, key: string, problems: string[]): string | undefined {
  if ('inline' in source) return source.inline;
  try {
    return readFileSync(source.file, 'utf8');
  } catch (error) {
    problems.push(`tls_server_config.${key}: cannot read ${JSON.stringify(source.file)}: ${errnoCode(error)}`);
    return undefined;
  }
}

function where(source: PemSource, fileKey: string, inlineKey: string): string {
  return 'file' in source ? `${fileKey}: ${JSON.stringify(source.file)}` : `${inlineKey}:`;
}

function certificates(pem: string): X509Certificate[] {
  const parsed: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      // A block that does not parse is reported by the caller when none does.
    }
  }
  return parsed;
}

/**
 * Reads and checks the certificate, key and client CA of a `tls_server_config`: each file readable, the
 * certificate and the key PEM, the key the certificate's, the client CA at least one certificate. Problems are
 * `tls_server_config.<key>: ...` lines; none ever quotes a key.
 */
export function readTlsMaterial(tls: TlsServerConfig): { material: TlsMaterial } | { problems: string[] } {
  const problems: string[] = [];
  const signature = filesSignature(tlsFiles(tls));
  const certPem = readPem(tls.cert, 'cert_file', problems);
  const keyPem = readPem(tls.key, 'key_file', problems);
  const caPem = tls.clientCa === undefined ? undefined : readPem(tls.clientCa, 'client_ca_file', problems);
  if (problems.length > 0) return { problems };

  const chain = certificates(certPem ?? '');
  const [leaf] = chain;
  if (leaf === undefined)
    problems.push(`tls_server_config.${where(tls.cert, 'cert_file', 'cert')} holds no PEM certificate`);
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(keyPem ?? '');
  } catch {
    problems.push(
      `tls_server_config.${where(tls.key, 'key_file', 'key')} holds no PEM private key (or it is encrypted)`,
    );
  }
  if (leaf !== undefined && privateKey !== undefined && !leaf.checkPrivateKey(privateKey)) {
    problems.push(
      `tls_server_config.${where(tls.key, 'key_file', 'key')} is not the key of the certificate in cert_file`,
    );
  }
  if (tls.clientCa !== undefined && certificates(caPem ?? '').length === 0) {
    problems.push(`tls_server_config.${where(tls.clientCa, 'client_ca_file', 'client_ca')} holds no PEM certificate`);
  }
  if (problems.length > 0 || leaf === undefined) return { problems };

  const options: SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    ...(caPem === undefined ? {} : { ca: caPem }),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    honorCipherOrder: tls.honorCipherOrder,
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
    ...(tls.ecdhCurve === undefined ? {} : { ecdhCurve: tls.ecdhCurve }),
  };
  try {
    // What the server will do with them; catches what the checks above cannot (a key too weak for OpenSSL...).
    createSecureContext(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error:[0-9A-F]+:/, '') : String(error);
    return { problems: [`tls_server_config: OpenSSL rejects the certificate, key or settings: ${reason}`] };
  }
  return { material: { options, fingerprint: leaf.fingerprint256, validTo: leaf.validTo, signature } };
}

/** The files behind a `tls_server_config`, for change detection. */
export function tlsFiles(tls: TlsServerConfig): string[] {
  return [tls.cert, tls.key, ...(tls.clientCa === undefined ? [] : [tls.clientCa])].flatMap((source) =>
    'file' in source ? [source.file] : [],
  );
}

/**
 * What `stat` says of the files (following symbolic links, as Kubernetes swaps a Secret's `..data` link): when
 * it changes, the files are read again. A file that cannot be stat'ed counts as a change, once.
 */
export function filesSignature(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const stat = statSync(file);
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
      } catch (error) {
        return errnoCode(error);
      }
    })
    .join('|');
}
