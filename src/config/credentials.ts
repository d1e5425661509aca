import { readFileSync } from 'node:fs';
import { ConfigError, errnoCode } from './config-error.js';
import type { AkSkCredentials, Config, Credentials, IamAuthConfig, IamPasswordCredentials } from './types.js';

type Source = Readonly<{ key: string; value: string; fileKey: string; file: string; requiredFor?: string }>;

function resolve(source: Source, problems: string[]): string {
  if (source.file === '') {
    const value = source.value.trim();
    const why = source.requiredFor === undefined ? '' : ` for ${source.requiredFor}`;
    if (value === '') problems.push(`${source.key}: is required${why} (or ${source.fileKey})`);
    return value;
  }
  let contents: string;
  try {
    contents = readFileSync(source.file, 'utf8').trim();
  } catch (error) {
    problems.push(`${source.fileKey}: cannot read "${source.file}": ${errnoCode(error)}`);
    return '';
  }
  if (contents === '') problems.push(`${source.fileKey}: cannot read "${source.file}": file is empty`);
  return contents;
}

const IAM = 'IAM authentication';

/** The AK/SK settings, in schema order; with IAM in use, none of them may be set. */
const ACCESS_KEY_SETTINGS = ['accessKey', 'secretKey', 'securityToken', 'accessKeyFile', 'secretKeyFile'] as const;

/** Whether `auth.iam` is in use: any of its keys is set. */
export function usesIam(iam: IamAuthConfig): boolean {
  return Object.values(iam).some((value) => value.trim() !== '');
}

function resolveIam(auth: Config['auth']): IamPasswordCredentials {
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

function resolveAccessKeys(auth: Config['auth']): AkSkCredentials {
  const problems: string[] = [];
  const accessKey = resolve(
    { key: 'auth.accessKey', value: auth.accessKey, fileKey: 'auth.accessKeyFile', file: auth.accessKeyFile },
    problems,
  );
  const secretKey = resolve(
    { key: 'auth.secretKey', value: auth.secretKey, fileKey: 'auth.secretKeyFile', file: auth.secretKeyFile },
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  const securityToken = auth.securityToken.trim();
  return securityToken === ''
    ? { kind: 'aksk', accessKey, secretKey }
    : { kind: 'aksk', accessKey, secretKey, securityToken };
}

/**
 * Reads the credentials requests authenticate with: an IAM user's password when any `auth.iam` key is set, else
 * the AK/SK. Files win over inline values and are read again on every call (a reload). Throws a ConfigError naming
 * each missing or unreadable setting, and both kinds when both are configured.
 */
export function resolveCredentials(auth: Config['auth']): Credentials {
  return usesIam(auth.iam) ? resolveIam(auth) : resolveAccessKeys(auth);
}
