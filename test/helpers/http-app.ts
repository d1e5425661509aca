import type { Express } from 'express';
import { pino } from 'pino';
import { createHttpApp, type HttpAppOptions } from '../../src/http/server.js';
import { SnapshotStore } from '../../src/poll/store.js';

/** The HTTP app alone, without a poller: `metrics` gives the /metrics body; the rest are quiet defaults. */
export function testHttpApp(options: Pick<HttpAppOptions, 'metrics'> & Partial<HttpAppOptions>): Express {
  return createHttpApp({
    store: new SnapshotStore(),
    isAlive: () => true,
    version: '0.0.0-test',
    projects: () => [{ projectId: 'p', region: 'cn-north-4', targets: [] }],
    health: () => ({ staleAfterMs: 300_000 }),
    describeConfig: () => 'server: {}\n',
    logger: pino({ level: 'silent' }),
    reload: async () => ({ ok: true }),
    ...options,
  });
}
