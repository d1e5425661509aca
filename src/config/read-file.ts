import { extname } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseStrictJson } from './parse-json.js';
import { MAX_NESTING_DEPTH, lineAndColumn, type ParseResult } from './parse-result.js';
import { parseStrictYaml } from './parse-yaml.js';
import { FILE_SIZE_LIMITS, FileReadError, readRegularFile, readRegularFileSync } from './read-regular-file.js';

/** How a config file is written: JSON for a `.json` file, YAML otherwise; the web config file is always YAML. */
export type ConfigLanguage = 'JSON' | 'YAML';

/** The language of a config file by its extension: `.json` is JSON, anything else YAML. */
export function languageOf(file: string): ConfigLanguage {
  return extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
}

/**
 * Pure: the parsed contents of a config file's text. A `.json` file is parsed as strict JSON (not as YAML, which
 * would take single quotes, `\x41` and raw tabs); errors are `<file>:<line>:<col>: invalid JSON|YAML: <fixed text>`
 * and never quote the file.
 */
export function parseConfigText(file: string, text: string, language: ConfigLanguage): unknown {
  const parsed: ParseResult =
    language === 'JSON' ? parseStrictJson(text, MAX_NESTING_DEPTH) : parseStrictYaml(text, MAX_NESTING_DEPTH);
  if ('value' in parsed) return parsed.value;
  const { offset, message } = parsed.error;
  const { line, col } = lineAndColumn(text, offset ?? 0);
  const where = offset === undefined ? file : `${file}:${line}:${col}`;
  throw new ConfigError([`${where}: invalid ${language}: ${message}`]);
}

function unreadable(file: string, error: unknown): never {
  if (error instanceof FileReadError) throw new ConfigError([`${file}: cannot read: ${error.reason}`]);
  throw error;
}

/**
 * The parsed contents of a config file (a regular file of at most FILE_SIZE_LIMITS.config), read at start-up;
 * throws ConfigError naming the file, with line and column for a syntax error.
 */
export function readConfigFile(file: string, language: ConfigLanguage = languageOf(file)): unknown {
  let text: string;
  try {
    text = readRegularFileSync(file, FILE_SIZE_LIMITS.config);
  } catch (error) {
    return unreadable(file, error);
  }
  return parseConfigText(file, text, language);
}

/** readConfigFile without blocking the event loop on the read (a reload). */
export async function readConfigFileAsync(file: string, language: ConfigLanguage = languageOf(file)): Promise<unknown> {
  let text: string;
  try {
    text = await readRegularFile(file, FILE_SIZE_LIMITS.config);
  } catch (error) {
    return unreadable(file, error);
  }
  return parseConfigText(file, text, language);
}
