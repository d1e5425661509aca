import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, renderMetrics, wantsOpenMetrics } from '../metrics/render.js';
import type { SnapshotStore } from '../store.js';
import { renderLandingPage } from './landing-page.js';

/** What the HTTP endpoints read; none of it does I/O. */
export type HttpAppOptions = Readonly<{
  registry: Registry;
  store: SnapshotStore;
  isAlive: () => boolean;
  version: string;
  projectId: string;
  logger: Logger;
}>;

/** The express app: /metrics, /-/healthy, /-/ready and the landing page. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/metrics', async (req, res) => {
    const openMetrics = wantsOpenMetrics(req.get('accept'));
    try {
      const body = await renderMetrics(options.registry, openMetrics);
      res.set('Content-Type', openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE).send(body);
    } catch (error) {
      options.logger.error({ error: String(error) }, 'rendering /metrics failed');
      res.status(500).type('text/plain').send('error rendering metrics\n');
    }
  });

  app.get('/-/healthy', (_req, res) => {
    if (options.isAlive()) res.type('text/plain').send('OK\n');
    else res.status(503).type('text/plain').send('poll loop stopped\n');
  });

  app.get('/-/ready', (_req, res) => {
    if (options.store.current().cyclesCompleted > 0) res.type('text/plain').send('Ready\n');
    else res.status(503).type('text/plain').send('first poll cycle not finished\n');
  });

  app.get('/', (_req, res) => {
    res
      .type('html')
      .send(renderLandingPage(options.store.current(), { version: options.version, projectId: options.projectId }));
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });

  return app;
}

/** A listening server and how to stop it. */
export type RunningServer = Readonly<{
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish, and drops what is left after `graceMs`. */
  close(graceMs: number): Promise<void>;
}>;

/** Listens on host:port (port 0 picks a free one); rejects when the port is taken. */
export function listen(app: Express, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}`,
        close: (graceMs) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
