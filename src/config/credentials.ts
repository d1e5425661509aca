import { ConfigError } from './config-error.js';
import { FILE_SIZE_LIMITS, FileReadError, readRegularFile, readRegularFileSync } from './read-regular-file.js';
import type {
  AkSkCredentials,
  AuthConfig,
  Credentials,
  IamAuthConfig,
  IamPasswordCredentials,
  MetadataCredentials,
  OidcAuthConfig,
  OidcCredentials,
  RenewedMethod,
} from './types.js';

/** What reading a credential file gave: its contents, or why it could not be read. */
type FileRead = Readonly<{ text: string } | { reason: string }>;

/** The credential files read, by path. */
type FileReads = ReadonlyMap<string, FileRead>;

/** A file to read and the most bytes it may hold. */
type FileToRead = Readonly<{ file: string; maxBytes: number }>;

type Source = Readonly<{ key: string; value: string; fileKey: string; file: string; requiredFor?: string }>;

function resolve(source: Source, reads: FileReads, problems: string[]): string {
  if (source.file === '') {
    const value = source.value.trim();
    const why = source.requiredFor === undefined ? '' : ` for ${source.requiredFor}`;
    if (value === '') problems.push(`${source.key}: is required${why} (or ${source.fileKey})`);
    return value;
  }
  return readContents(source.fileKey, source.file, reads, problems);
}

/** A file's trimmed contents, or "" with a problem naming `fileKey` when it could not be read or is empty. */
function readContents(fileKey: string, file: string, reads: FileReads, problems: string[]): string {
  const read = reads.get(file) ?? { reason: 'not read' };
  const contents = 'text' in read ? read.text.trim() : '';
  const reason = 'reason' in read ? read.reason : contents === '' ? 'file is empty' : undefined;
  if (reason !== undefined) problems.push(`${fileKey}: cannot read "${file}": ${reason}`);
  return contents;
}

function failedRead(error: unknown): FileRead {
  if (error instanceof FileReadError) return { reason: error.reason };
  throw error;
}

const IAM = 'IAM authentication';
const OIDC = 'workload identity (OIDC)';

/** The AK/SK settings, in schema order. */
export const ACCESS_KEY_SETTINGS = [
  'accessKey',
  'secretKey',
  'securityToken',
  'accessKeyFile',
  'secretKeyFile',
  'securityTokenFile',
] as const;

/** The ways to authenticate, in the order a conflict names them. */
type Method = 'aksk' | 'iam' | 'oidc' | 'metadata';

/** Whether `auth.iam` is in use: any of its keys is set. */
export function usesIam(iam: IamAuthConfig): boolean {
  return Object.values(iam).some((value) => value.trim() !== '');
}

/** Whether `auth.oidc` is in use: any of its keys is set. */
function usesOidc(oidc: OidcAuthConfig): boolean {
  return Object.values(oidc).some((value) => value.trim() !== '');
}

/** The AK/SK settings that are set, as `auth.x` paths. */
function accessKeySettings(auth: AuthConfig): string[] {
  return ACCESS_KEY_SETTINGS.filter((key) => auth[key].trim() !== '').map((key) => `auth.${key}`);
}

/** Pure: every way to authenticate that the section sets, in the order of Method. */
function methodsIn(auth: AuthConfig): Method[] {
  const methods: Method[] = [];
  if (accessKeySettings(auth).length > 0) methods.push('aksk');
  if (usesIam(auth.iam)) methods.push('iam');
  if (usesOidc(auth.oidc)) methods.push('oidc');
  if (auth.metadata.enabled) methods.push('metadata');
  return methods;
}

/** The method the section uses: AK/SK when none is set (its keys are then reported missing). */
function methodOf(auth: AuthConfig): Method {
  return methodsIn(auth)[0] ?? 'aksk';
}

/** How a conflict names each way to authenticate, with the settings that turned it on. */
function describeMethod(method: Method, auth: AuthConfig): string {
  switch (method) {
    case 'aksk':
      return `an AK/SK (${accessKeySettings(auth).join(', ')})`;
    case 'iam':
      return 'an IAM user (auth.iam)';
    case 'oidc':
      return 'workload identity (auth.oidc)';
    case 'metadata':
      return 'agency keys from the metadata service (auth.metadata.enabled)';
  }
}

/** The problem of a section that sets two or more ways to authenticate, naming each; undefined for one or none. */
function conflictOf(auth: AuthConfig): string | undefined {
  const methods = methodsIn(auth);
  if (methods.length < 2) return undefined;
  const named = methods.map((method) => describeMethod(method, auth));
  const list = `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]!}`;
  return `auth: set one way to authenticate, not ${methods.length}: ${list}`;
}

function required(section: string, what: string, values: Readonly<Record<string, string>>, problems: string[]) {
  return (key: string): string => {
    const value = (values[key] ?? '').trim();
    if (value === '') problems.push(`${section}.${key}: is required for ${what}`);
    return value;
  };
}

function resolveIam(auth: AuthConfig, reads: FileReads, problems: string[]): IamPasswordCredentials {
  const { iam } = auth;
  const take = required('auth.iam', IAM, iam, problems);
  const endpoint = take('endpoint');
  const domain = take('domain');
  const username = take('username');
  const password = resolve(
    {
      key: 'auth.iam.password',
      value: iam.password,
      fileKey: 'auth.iam.passwordFile',
      file: iam.passwordFile,
      requiredFor: IAM,
    },
    reads,
    problems,
  );
  return { kind: 'iam', endpoint, domain, username, password };
}

function resolveOidc(auth: AuthConfig, reads: FileReads, problems: string[]): OidcCredentials {
  const take = required('auth.oidc', OIDC, auth.oidc, problems);
  const endpoint = take('endpoint');
  const idpId = take('idpId');
  const idTokenFile = take('idTokenFile');
  // Read now only to catch a wrong path early; every exchange reads the file again.
  if (idTokenFile !== '') readContents('auth.oidc.idTokenFile', idTokenFile, reads, problems);
  return { kind: 'oidc', endpoint, idpId, idTokenFile };
}

function resolveMetadata(auth: AuthConfig): MetadataCredentials {
  return { kind: 'metadata', endpoint: auth.metadata.endpoint };
}

function resolveAccessKeys(auth: AuthConfig, reads: FileReads, problems: string[]): AkSkCredentials {
  const accessKey = resolve(
    { key: 'auth.accessKey', value: auth.accessKey, fileKey: 'auth.accessKeyFile', file: auth.accessKeyFile },
    reads,
    problems,
  );
  const secretKey = resolve(
    { key: 'auth.secretKey', value: auth.secretKey, fileKey: 'auth.secretKeyFile', file: auth.secretKeyFile },
    reads,
    problems,
  );
  const securityToken =
    auth.securityTokenFile === ''
      ? auth.securityToken.trim()
      : resolve(
          {
            key: 'auth.securityToken',
            value: auth.securityToken,
            fileKey: 'auth.securityTokenFile',
            file: auth.securityTokenFile,
          },
          reads,
          problems,
        );
  return securityToken === ''
    ? { kind: 'aksk', accessKey, secretKey }
    : { kind: 'aksk', accessKey, secretKey, securityToken };
}

/** The files the credentials are read from, with their caps: only those the method in use names. */
function credentialFiles(auth: AuthConfig): FileToRead[] {
  if (conflictOf(auth) !== undefined) return [];
  const secret = (file: string): FileToRead => ({ file, maxBytes: FILE_SIZE_LIMITS.secret });
  const files: FileToRead[] = [];
  switch (methodOf(auth)) {
    case 'iam':
      files.push(secret(auth.iam.passwordFile));
      break;
    case 'oidc':
      files.push({ file: auth.oidc.idTokenFile.trim(), maxBytes: FILE_SIZE_LIMITS.token });
      break;
    case 'aksk':
      files.push(secret(auth.accessKeyFile), secret(auth.secretKeyFile));
      files.push({ file: auth.securityTokenFile, maxBytes: FILE_SIZE_LIMITS.token });
      break;
    case 'metadata':
      break;
  }
  const seen = new Set<string>();
  return files.filter(({ file }) => file !== '' && !seen.has(file) && seen.add(file));
}

function credentialsFrom(auth: AuthConfig, reads: FileReads): Credentials {
  const conflict = conflictOf(auth);
  if (conflict !== undefined) throw new ConfigError([conflict]);
  const problems: string[] = [];
  let credentials: Credentials;
  switch (methodOf(auth)) {
    case 'iam':
      credentials = resolveIam(auth, reads, problems);
      break;
    case 'oidc':
      credentials = resolveOidc(auth, reads, problems);
      break;
    case 'metadata':
      credentials = resolveMetadata(auth);
      break;
    case 'aksk':
      credentials = resolveAccessKeys(auth, reads, problems);
      break;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return credentials;
}

/**
 * Reads the credentials requests authenticate with, from one `auth` section (the top-level one, or a project's):
 * an AK/SK (with its security token when temporary), an IAM user's password (`auth.iam`), a workload identity's
 * token file (`auth.oidc`), or the metadata service (`auth.metadata.enabled`). Files (regular files of at most
 * FILE_SIZE_LIMITS) win over inline values and are read again on every call. Throws a ConfigError naming each
 * missing or unreadable setting, or, when two or more ways to authenticate are set, naming each of them.
 */
export function resolveCredentials(auth: AuthConfig): Credentials {
  const reads = new Map<string, FileRead>();
  for (const { file, maxBytes } of credentialFiles(auth)) {
    try {
      reads.set(file, { text: readRegularFileSync(file, maxBytes) });
    } catch (error) {
      reads.set(file, failedRead(error));
    }
  }
  return credentialsFrom(auth, reads);
}

/** resolveCredentials without blocking the event loop on the reads (a reload): the same checks and errors. */
export async function resolveCredentialsAsync(auth: AuthConfig): Promise<Credentials> {
  const files = credentialFiles(auth);
  const texts = await Promise.all(
    files.map(({ file, maxBytes }) => readRegularFile(file, maxBytes).then((text) => ({ text }), failedRead)),
  );
  return credentialsFrom(auth, new Map(files.map(({ file }, index) => [file, texts[index]!])));
}

/** Pure: the method of credentials that are renewed while the exporter runs; undefined for a static AK/SK. */
export function renewedMethodOf(credentials: Credentials): RenewedMethod | undefined {
  return credentials.kind === 'aksk' ? undefined : credentials.kind;
}
