import { readFileSync } from 'node:fs';
import { ConfigError, errnoCode } from './config-error.js';
import type { Config, Credentials } from './types.js';

type Source = Readonly<{ key: string; value: string; fileKey: string; file: string }>;

function resolve(source: Source, problems: string[]): string {
  if (source.file === '') {
    const value = source.value.trim();
    if (value === '') problems.push(`${source.key}: is required (or ${source.fileKey})`);
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

/** Reads the AK/SK to sign with: key files win over inline values; throws ConfigError naming each missing one. */
export function resolveCredentials(auth: Config['auth']): Credentials {
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
  return securityToken === '' ? { accessKey, secretKey } : { accessKey, secretKey, securityToken };
}
