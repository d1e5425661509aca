import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';

/** A logger that keeps its lines as parsed objects, without pid, host name and time, so whole lines compare. */
export function logCapture(level: Level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, base: undefined, timestamp: false }, destination), lines };
}
