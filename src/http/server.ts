import { createServer, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../metrics/render.js';
import type { ReloadOutcome } from '../config/reload.js';
import type { HealthSettings } from '../poll/health.js';
import type { SnapshotStore } from '../poll/store.js';
import { acceptsGzip, wantsOpenMetrics } from './content-negotiation.js';
import { renderLandingPage, type PageProject } from './landing-page.js';
import { limitConcurrency, rejectLargeBodies } from './request-limits.js';
import { sendGzipped } from './send-body.js';
import { SharedBodies } from './shared-body.js';

/** What the HTTP endpoints read; none of it does I/O. */
export type HttpAppOptions = Readonly<{
  /** The /metrics body in the requested format, as text chunks (see renderExposition). */
  metrics: (openMetrics: boolean) => AsyncIterable<string>;
  /**
   * What the /metrics body depends on besides the time (the snapshot, the renderer): scrapes share a body only while
   * every element is the same. None = the time alone.
   */
  metricsVersion?: () => readonly unknown[];
  /** The clock the metrics are computed at; the system's by default. */
  clock?: Clock;
  store: SnapshotStore;
  isAlive: () => boolean;
  version: string;
  /** The projects polled and their selectors (the configuration in effect: a reload changes them), for the landing page. */
  projects: () => readonly PageProject[];
  /** `poll.staleAfter` and `lag.stallAfter` in effect, for the landing page's verdicts (as /metrics judges). */
  health: () => HealthSettings;
  /**
   * The configuration in effect as YAML, secrets `[REDACTED]`, as `--check-config` prints it (`GET /config`); from
   * memory, a reload changes it.
   */
  describeConfig: () => string;
  logger: Logger;
  /** The web config's middleware (WebSecurity): security headers, and rate limit and basic auth. None = open. */
  web?: Readonly<{ headers: RequestHandler; guard: RequestHandler }>;
  /**
   * Concurrent /metrics requests at most (`server.maxRequests`, read per request so that a reload applies it); more
   * get 503. 0 or none = no limit.
   */
  maxRequests?: () => number;
  /** Re-reads the configuration (`POST /-/reload`). */
  reload: () => Promise<ReloadOutcome>;
}>;

/** The express app: /metrics, /-/healthy, /-/ready, /-/reload, /config and the landing page. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Headers first, so that every answer has them; a large body is refused before anything else reads it.
  if (options.web !== undefined) app.use(options.web.headers);
  app.use(rejectLargeBodies());
  if (options.web !== undefined) app.use(options.web.guard);
  const clock = options.clock ?? systemClock;
  const bodies = new SharedBodies({
    render: options.metrics,
    version: options.metricsVersion ?? (() => []),
    now: () => clock.now(),
  });

  app.get('/metrics', limitConcurrency(options.maxRequests ?? (() => 0)), async (req, res) => {
    const openMetrics = wantsOpenMetrics(req.get('accept'));
    const gzip = acceptsGzip(req.get('accept-encoding'));
    const { body, leave } = bodies.join(openMetrics, () => res.destroy());
    try {
      await body.firstText;
    } catch (error) {
      leave();
      options.logger.error({ error: String(error) }, 'rendering /metrics failed');
      res.status(500).type('text/plain').send('error rendering metrics\n');
      return;
    }
    res.set('Content-Type', openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
    res.vary('Accept').vary('Accept-Encoding');
    if (gzip) res.set('Content-Encoding', 'gzip');
    try {
      // The body is sent as it is rendered and compressed; it is never held uncompressed.
      await sendGzipped(body.gzipped(), res, !gzip);
    } catch (error) {
      // Headers are out: all that is left is to stop. Usually the scraper hung up (its timeout).
      options.logger.debug({ error: String(error) }, 'sending /metrics stopped');
      res.destroy();
    } finally {
      leave();
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

  // As Prometheus does: 200 once applied, 500 with the problems (one a line) when the new configuration is refused.
  app.all('/-/reload', async (req, res) => {
    if (req.method !== 'POST') {
      res.status(405).set('Allow', 'POST').type('text/plain').send('use POST to reload the configuration\n');
      return;
    }
    const outcome = await options.reload();
    if (outcome.ok) res.type('text/plain').send('configuration reloaded\n');
    else
      res
        .status(500)
        .type('text/plain')
        .send(outcome.problems.map((problem) => `${problem}\n`).join(''));
  });

  // Like Prometheus's /api/v1/status/config: what runs, not what the file says now (a refused reload leaves them apart).
  app.get('/config', (_req, res) => {
    res.type('application/yaml; charset=utf-8').send(options.describeConfig());
  });

  app.get('/', (_req, res) => {
    const info = {
      version: options.version,
      nowMs: clock.now(),
      projects: options.projects(),
      health: options.health(),
    };
    res.type('html').send(renderLandingPage(options.store.current(), info));
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

/** How long a client may take at each step before its connection is closed. */
export type ServerTimeouts = Readonly<{
  /** The request headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  requestTimeoutMs: number;
  /** How often the server looks for requests past those two. */
  connectionsCheckingIntervalMs: number;
  /** A response not sent in full within this after its request came is cut off (its connection closed). */
  sendTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way while a request is in progress. */
  socketIdleTimeoutMs: number;
}>;

/**
 * Timeouts that keep a slow or idle client from holding a socket, a connection slot or memory. Node checks the
 * header and request timeouts only every connectionsCheckingIntervalMs, set when the server is made: its default,
 * 30 s, would let a client that sends its headers slowly keep the socket up to 30 s longer. The send timeout is
 * longer than any scrape_timeout Prometheus allows at a one-minute scrape interval (scrape_timeout cannot exceed it),
 * so it never cuts off a scrape Prometheus still waits for, only a client that reads too slowly or not at all.
 * A kept-alive connection is closed after a quiet spell longer than a 60 s scrape interval.
 */
export const SERVER_TIMEOUTS: ServerTimeouts = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionsCheckingIntervalMs: 1_000,
  sendTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  socketIdleTimeoutMs: 120_000,
});

/** Makes the HTTP(S) server for a request listener, with the given server options. */
export type ServerFactory = (listener: RequestListener, options: ServerOptions) => Server;

/** Where and how to listen. */
export type ListenOptions = Readonly<{
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Plain HTTP by default; WebSecurity.createServer gives HTTPS when the web config sets up TLS. */
  createServer?: ServerFactory;
  timeouts?: ServerTimeouts;
  /** Where cut-off responses are logged (debug); none by default. */
  logger?: Logger;
}>;

/** Listens with the timeouts of SERVER_TIMEOUTS (or those given); rejects when the port is taken. */
export function listen(app: Express, options: ListenOptions): Promise<RunningServer> {
  const timeouts = options.timeouts ?? SERVER_TIMEOUTS;
  const make = options.createServer ?? ((listener, serverOptions) => createServer(serverOptions, listener));
  return new Promise((resolve, reject) => {
    const server = make(app, {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    });
    server.setTimeout(timeouts.socketIdleTimeoutMs);
    server.on('request', (_request, response: ServerResponse) =>
      cutOffAfter(response, timeouts.sendTimeoutMs, options.logger),
    );
    server.listen(options.port, options.host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const scheme = server instanceof HttpsServer ? 'https' : 'http';
      resolve({
        server,
        url: `${scheme}://${shownHost}:${address.port}`,
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

/** Destroys a response (and its connection) that has not been handed to the system in full within `timeoutMs`. */
function cutOffAfter(response: ServerResponse, timeoutMs: number, logger: Logger | undefined): void {
  const timer = setTimeout(() => {
    logger?.debug({ timeoutMs, path: response.req.url?.split('?')[0] }, 'response not sent in time; connection closed');
    response.destroy();
  }, timeoutMs);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  response.once('finish', stop).once('close', stop);
}
