import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { LEVEL_NAME_FORMATTERS } from '../../src/logger.js';

/**
 * A pino logger at `level` whose JSON lines are parsed and kept in `lines`, oldest first; levels by name as in
 * production (createLogger), without pid, host name and time, so that whole lines compare. `texts` keeps them as
 * written (JSON.parse hides a key written twice).
 */
export function logCapture(level: pino.LevelWithSilent = 'info'): {
  logger: Logger;
  lines: Record<string, unknown>[];
  texts: string[];
} {
  const lines: Record<string, unknown>[] = [];
  const texts: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      texts.push(String(chunk));
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return {
    logger: pino({ level, base: undefined, timestamp: false, formatters: LEVEL_NAME_FORMATTERS }, stream),
    lines,
    texts,
  };
}

/** Whether a captured line's level (a name) is `level` or more severe. */
export function atLeast(line: Record<string, unknown>, level: pino.Level): boolean {
  const value = pino.levels.values[String(line['level'])];
  if (value === undefined) throw new Error(`not a level name: ${JSON.stringify(line['level'])}`);
  return value >= pino.levels.values[level]!;
}
