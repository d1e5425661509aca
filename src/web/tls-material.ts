import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { errnoCode } from '../config/config-error.js';
import { FILE_SIZE_LIMITS, FileReadError, readRegularFile, readRegularFileSync } from '../config/read-regular-file.js';
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

/** A PEM source as read: its text (undefined for an absent source), or a problem naming the key and the file. */
type PemRead = Readonly<{ pem: string | undefined } | { problem: string }>;

function readFailure(source: { file: string }, key: string, error: unknown): PemRead {
  if (!(error instanceof FileReadError)) throw error;
  return { problem: `tls_server_config.${key}: cannot read ${JSON.stringify(source.file)}: ${error.reason}` };
}

function readPem(source: PemSource | undefined, key: string): PemRead {
  if (source === undefined || 'inline' in source) return { pem: source?.inline };
  try {
    return { pem: readRegularFileSync(source.file, FILE_SIZE_LIMITS.pem) };
  } catch (error) {
    return readFailure(source, key, error);
  }
}

async function readPemAsync(source: PemSource | undefined, key: string): Promise<PemRead> {
  if (source === undefined || 'inline' in source) return { pem: source?.inline };
  try {
    return { pem: await readRegularFile(source.file, FILE_SIZE_LIMITS.pem) };
  } catch (error) {
    return readFailure(source, key, error);
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

/** Where the certificate, the key and the client CA of a `tls_server_config` are read from, in this order. */
const PEM_KEYS = ['cert_file', 'key_file', 'client_ca_file'] as const;

function sourcesOf(tls: TlsServerConfig): (PemSource | undefined)[] {
  return [tls.cert, tls.key, tls.clientCa];
}

/**
 * Reads and checks the certificate, key and client CA of a `tls_server_config`: each file a readable regular file
 * of at most FILE_SIZE_LIMITS.pem, the certificate and the key PEM, the key the certificate's, the client CA at
 * least one certificate. Problems are `tls_server_config.<key>: ...` lines; none ever quotes a key.
 */
export function readTlsMaterial(tls: TlsServerConfig): { material: TlsMaterial } | { problems: string[] } {
  const signature = filesSignature(tlsFiles(tls));
  const reads = sourcesOf(tls).map((source, index) => readPem(source, PEM_KEYS[index]!));
  return checkMaterial(tls, reads, signature);
}

/** readTlsMaterial without blocking the event loop on the reads (a reload): the same checks and problems. */
export async function readTlsMaterialAsync(
  tls: TlsServerConfig,
): Promise<{ material: TlsMaterial } | { problems: string[] }> {
  const signature = await filesSignatureAsync(tlsFiles(tls));
  const reads = await Promise.all(sourcesOf(tls).map((source, index) => readPemAsync(source, PEM_KEYS[index]!)));
  return checkMaterial(tls, reads, signature);
}

/** Pure: the checks of readTlsMaterial on what was read (certificate, key, client CA). */
function checkMaterial(
  tls: TlsServerConfig,
  reads: readonly PemRead[],
  signature: string,
): { material: TlsMaterial } | { problems: string[] } {
  const problems = reads.flatMap((read) => ('problem' in read ? [read.problem] : []));
  if (problems.length > 0) return { problems };
  const [certPem, keyPem, caPem] = reads.map((read) => ('pem' in read ? read.pem : undefined));
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

function statSignature(stat: Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

/**
 * What `stat` says of the files (following symbolic links, as Kubernetes swaps a Secret's `..data` link): when
 * it changes, the files are read again. A file that cannot be stat'ed counts as a change, once.
 */
export function filesSignature(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        return statSignature(statSync(file));
      } catch (error) {
        return errnoCode(error);
      }
    })
    .join('|');
}

/** filesSignature without blocking the event loop. */
async function filesSignatureAsync(files: readonly string[]): Promise<string> {
  const signatures = await Promise.all(files.map((file) => stat(file).then(statSignature, errnoCode)));
  return signatures.join('|');
}
