import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/**
 * A pino logger at `level` whose JSON lines are parsed and kept in `lines`, oldest first; without pid, host name
 * and time, so that whole lines compare. `texts` keeps them as written (JSON.parse hides a key written twice).
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
  return { logger: pino({ level, base: undefined, timestamp: false }, stream), lines, texts };
}
