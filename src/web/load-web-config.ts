import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { readConfigFile } from '../config/read-file.js';
import { parseWebConfig } from './parse-web-config.js';
import { readTlsMaterial, type TlsMaterial } from './tls-material.js';
import type { WebConfig } from './web-config.js';

/** A web config file read and checked, with its certificate and key when it sets up TLS. */
export type LoadedWebConfig = Readonly<{ file: string; config: WebConfig; material?: TlsMaterial }>;

/** The key every web config problem is reported under, as the flag and the config key share it. */
const KEY = 'web.configFile';

/**
 * Reads a web config file (exporter-toolkit format, YAML), checks every setting, and reads the certificate and key
 * it names. Throws ConfigError with one `web.configFile FILE: key.path: what is wrong` line per problem.
 */
export function loadWebConfig(file: string): LoadedWebConfig {
  let raw: unknown;
  try {
    raw = readConfigFile(file);
  } catch (error) {
    // Its lines start with the file name (and line:column) already.
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map((problem) => `${KEY} ${problem}`));
    throw error;
  }
  const parsed = parseWebConfig(raw, dirname(resolve(file)));
  const fail = (problems: readonly string[]): never => {
    throw new ConfigError(problems.map((problem) => `${KEY} ${file}: ${problem}`));
  };
  if ('problems' in parsed) return fail(parsed.problems);
  const { config } = parsed;
  if (config.tls === undefined) return { file, config };
  const read = readTlsMaterial(config.tls);
  if ('problems' in read) return fail(read.problems);
  return { file, config, material: read.material };
}
