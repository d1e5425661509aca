import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config/types.js';

/** Paths pino blanks out wherever they appear: credentials, signatures and tokens. */
export const REDACTED_PATHS = [
  'accessKey',
  'secretKey',
  'securityToken',
  'password',
  'token',
  'authorization',
  '*.accessKey',
  '*.secretKey',
  '*.securityToken',
  '*.password',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-security-token"]',
  'headers["x-auth-token"]',
  '*.headers.authorization',
  '*.headers["x-security-token"]',
  '*.headers["x-auth-token"]',
];

/**
 * How a JSON line writes its level: `"level":"info"`, the name, rather than pino's number, so that a log pipeline
 * filters on it without knowing pino's scale (docs/operations.md ("Logs")).
 */
export const LEVEL_NAME_FORMATTERS = { level: (label: string) => ({ level: label }) };

/**
 * Creates the root logger: JSON lines by default (the level's name, `time` as ISO 8601 UTC), human-readable with
 * `pretty`; the destination is injectable. Components log through `child({ component })` of this logger, never of
 * another child that has one: pino would write the key twice.
 */
export function createLogger(config: Pick<Config, 'log'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.log.level,
    base: { name: 'dis-exporter' },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
  };
  if (config.log.format === 'pretty') {
    return pino(options, pretty({ destination: destination ?? 1, sync: true }));
  }
  const json = { ...options, formatters: LEVEL_NAME_FORMATTERS, timestamp: pino.stdTimeFunctions.isoTime };
  return destination === undefined ? pino(json) : pino(json, destination);
}
