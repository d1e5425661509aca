import { ConfigError } from './config-error.js';
import { FILE_SIZE_LIMITS, FileReadError, readRegularFile, readRegularFileSync } from './read-regular-file.js';
import type { AkSkCredentials, Config, Credentials, IamAuthConfig, IamPasswordCredentials } from './types.js';

/** What reading a key or password file gave: its contents, or why it could not be read. */
type FileRead = Readonly<{ text: string } | { reason: string }>;

/** The key and password files read, by path. */
type FileReads = ReadonlyMap<string, FileRead>;

type Source = Readonly<{ key: string; value: string; fileKey: string; file: string; requiredFor?: string }>;

function resolve(source: Source, reads: FileReads, problems: string[]): string {
  if (source.file === '') {
    const value = source.value.trim();
    const why = source.requiredFor === undefined ? '' : ` for ${source.requiredFor}`;
    if (value === '') problems.push(`${source.key}: is required${why} (or ${source.fileKey})`);
    return value;
  }
  const read = reads.get(source.file) ?? { reason: 'not read' };
  if ('reason' in read) {
    problems.push(`${source.fileKey}: cannot read "${source.file}": ${read.reason}`);
    return '';
  }
  const contents = read.text.trim();
  if (contents === '') problems.push(`${source.fileKey}: cannot read "${source.file}": file is empty`);
  return contents;
}

function failedRead(error: unknown): FileRead {
  if (error instanceof FileReadError) return { reason: error.reason };
  throw error;
}

const IAM = 'IAM authentication';

/** The AK/SK settings, in schema order; with IAM in use, none of them may be set. */
const ACCESS_KEY_SETTINGS = ['accessKey', 'secretKey', 'securityToken', 'accessKeyFile', 'secretKeyFile'] as const;

/** Whether `auth.iam` is in use: any of its keys is set. */
export function usesIam(iam: IamAuthConfig): boolean {
  return Object.values(iam).some((value) => value.trim() !== '');
}

function resolveIam(auth: Config['auth'], reads: FileReads): IamPasswordCredentials {
  const { iam } = auth;
  const problems: string[] = [];
  const required = (key: 'endpoint' | 'domain' | 'username'): string => {
    const value = iam[key].trim();
    if (value === '') problems.push(`auth.iam.${key}: is required for ${IAM}`);
    return value;
  };
  const endpoint = required('endpoint');
  const domain = required('domain');
  const username = required('username');
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
  const accessKeySettings = ACCESS_KEY_SETTINGS.filter((key) => auth[key].trim() !== '').map((key) => `auth.${key}`);
  if (accessKeySettings.length > 0) {
    problems.push(
      `auth.iam: cannot be used together with ${accessKeySettings.join(', ')}; ` +
        'authenticate either with an IAM user (auth.iam) or with an AK/SK, not both',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'iam', endpoint, domain, username, password };
}

function resolveAccessKeys(auth: Config['auth'], reads: FileReads): AkSkCredentials {
  const problems: string[] = [];
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
  if (problems.length > 0) throw new ConfigError(problems);
  const securityToken = auth.securityToken.trim();
  return securityToken === ''
    ? { kind: 'aksk', accessKey, secretKey }
    : { kind: 'aksk', accessKey, secretKey, securityToken };
}

/** The files the credentials are read from: the IAM password file, or the AK and SK files; only those set. */
function credentialFiles(auth: Config['auth']): string[] {
  const files = usesIam(auth.iam) ? [auth.iam.passwordFile] : [auth.accessKeyFile, auth.secretKeyFile];
  return [...new Set(files.filter((file) => file !== ''))];
}

function credentialsFrom(auth: Config['auth'], reads: FileReads): Credentials {
  return usesIam(auth.iam) ? resolveIam(auth, reads) : resolveAccessKeys(auth, reads);
}

/**
 * Reads the credentials requests authenticate with: an IAM user's password when any `auth.iam` key is set, else
 * the AK/SK. Files (regular files of at most FILE_SIZE_LIMITS.secret) win over inline values and are read again on
 * every call. Throws a ConfigError naming each missing or unreadable setting, and both kinds when both are
 * configured.
 */
export function resolveCredentials(auth: Config['auth']): Credentials {
  const reads = new Map<string, FileRead>();
  for (const file of credentialFiles(auth)) {
    try {
      reads.set(file, { text: readRegularFileSync(file, FILE_SIZE_LIMITS.secret) });
    } catch (error) {
      reads.set(file, failedRead(error));
    }
  }
  return credentialsFrom(auth, reads);
}

/** resolveCredentials without blocking the event loop on the reads (a reload): the same checks and errors. */
export async function resolveCredentialsAsync(auth: Config['auth']): Promise<Credentials> {
  const files = credentialFiles(auth);
  const texts = await Promise.all(
    files.map((file) => readRegularFile(file, FILE_SIZE_LIMITS.secret).then((text) => ({ text }), failedRead)),
  );
  return credentialsFrom(auth, new Map(files.map((file, index) => [file, texts[index]!])));
}
