import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { readConfigFile, readConfigFileAsync } from '../config/read-file.js';
import { parseWebConfig } from './parse-web-config.js';
import { readTlsMaterial, readTlsMaterialAsync, type TlsMaterial } from './tls-material.js';
import type { WebConfig } from './web-config.js';

/** A web config file read and checked, with its certificate and key when it sets up TLS. */
export type LoadedWebConfig = Readonly<{ file: string; config: WebConfig; material?: TlsMaterial }>;

/** The key every web config problem is reported under, as the flag and the config key share it. */
const KEY = 'web.configFile';

function fail(file: string, problems: readonly string[]): never {
  throw new ConfigError(problems.map((problem) => `${KEY} ${file}: ${problem}`));
}

// Its lines start with the file name (and line:column) already.
function unreadable(error: unknown): never {
  if (error instanceof ConfigError) throw new ConfigError(error.problems.map((problem) => `${KEY} ${problem}`));
  throw error;
}

/** The checked settings of a web config file's contents; throws ConfigError. */
function checked(file: string, raw: unknown): WebConfig {
  const parsed = parseWebConfig(raw, dirname(resolve(file)));
  return 'problems' in parsed ? fail(file, parsed.problems) : parsed.config;
}

function loaded(
  file: string,
  config: WebConfig,
  read: { material: TlsMaterial } | { problems: string[] } | undefined,
): LoadedWebConfig {
  if (read === undefined) return { file, config };
  return 'problems' in read ? fail(file, read.problems) : { file, config, material: read.material };
}

/**
 * Reads a web config file (exporter-toolkit format, YAML whatever its extension), checks every setting, and reads
 * the certificate and key it names, at start-up. Throws ConfigError with one `web.configFile FILE: key.path: what
 * is wrong` line per problem.
 */
export function loadWebConfig(file: string): LoadedWebConfig {
  let raw: unknown;
  try {
    raw = readConfigFile(file, 'YAML');
  } catch (error) {
    return unreadable(error);
  }
  const config = checked(file, raw);
  return loaded(file, config, config.tls === undefined ? undefined : readTlsMaterial(config.tls));
}

/** loadWebConfig without blocking the event loop on the reads (a reload): the same checks and errors. */
export async function loadWebConfigAsync(file: string): Promise<LoadedWebConfig> {
  let raw: unknown;
  try {
    raw = await readConfigFileAsync(file, 'YAML');
  } catch (error) {
    return unreadable(error);
  }
  const config = checked(file, raw);
  return loaded(file, config, config.tls === undefined ? undefined : await readTlsMaterialAsync(config.tls));
}
