import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A JSON pino logger whose lines are kept, parsed, in `lines`. */
export function logCapture(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
