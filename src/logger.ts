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

/** Creates the root logger: JSON by default, human-readable with `pretty`; the destination is injectable. */
export function createLogger(config: Pick<Config, 'log'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.log.level,
    base: { name: 'dis-exporter' },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
  };
  if (config.log.format === 'pretty') {
    return pino(options, pretty({ destination: destination ?? 1, sync: true }));
  }
  return destination === undefined ? pino(options) : pino(options, destination);
}
