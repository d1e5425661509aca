import { createServer, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { constants as zlib, createGzip } from 'node:zlib';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../metrics/render.js';
import type { ReloadOutcome } from '../reload.js';
import type { SnapshotStore } from '../store.js';
import { limitConcurrency, rejectLargeBodies } from '../web/request-limits.js';
import { acceptsGzip, wantsOpenMetrics } from './content-negotiation.js';
import { renderLandingPage } from './landing-page.js';

/** What the HTTP endpoints read; none of it does I/O. */
export type HttpAppOptions = Readonly<{
  /** The /metrics body in the requested format, as text chunks (see renderExposition). */
  metrics: (openMetrics: boolean) => AsyncIterable<string>;
  store: SnapshotStore;
  isAlive: () => boolean;
  version: string;
  projectId: string;
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

/** The express app: /metrics, /-/healthy, /-/ready, /-/reload and the landing page. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Headers first, so that every answer has them; a large body is refused before anything else reads it.
  if (options.web !== undefined) app.use(options.web.headers);
  app.use(rejectLargeBodies());
  if (options.web !== undefined) app.use(options.web.guard);
  // Body buffers kept between scrapes: allocating megabytes per scrape would churn the heap and the RSS.
  const spare: Buffer[] = [];

  app.get('/metrics', limitConcurrency(options.maxRequests ?? (() => 0)), async (req, res) => {
    const openMetrics = wantsOpenMetrics(req.get('accept'));
    const gzip = acceptsGzip(req.get('accept-encoding'));
    const chunks = options.metrics(openMetrics)[Symbol.asyncIterator]();
    let first: IteratorResult<string, unknown>;
    try {
      first = await chunks.next();
    } catch (error) {
      options.logger.error({ error: String(error) }, 'rendering /metrics failed');
      res.status(500).type('text/plain').send('error rendering metrics\n');
      return;
    }
    res.set('Content-Type', openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
    res.vary('Accept').vary('Accept-Encoding');
    if (gzip) res.set('Content-Encoding', 'gzip');
    // The body is sent as it is rendered, so a large exposition is never held whole in memory.
    const compressor = gzip ? createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES }) : undefined;
    const destination: Writable = compressor ?? res;
    const sent = compressor === undefined ? finished(res) : pipeline(compressor, res);
    sent.catch(() => undefined);
    try {
      await writeBody(resume(first, chunks), destination, spare);
      destination.end();
      await sent;
    } catch (error) {
      // Headers are out: all that is left is to stop. Usually the scraper hung up (its timeout).
      options.logger.debug({ error: String(error) }, 'sending /metrics stopped');
      destination.destroy();
      res.destroy();
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

// Level 1 of 9: the exposition repeats itself so much that it still shrinks about 25-fold, for about half the CPU of
// the default level 6 (docs/benchmarks.md); compression runs on the libuv thread pool, off the event loop.
const GZIP_LEVEL = zlib.Z_BEST_SPEED;
const GZIP_CHUNK_BYTES = 64 * 1024;

/** Bytes of each buffer a /metrics body is encoded into, and how many of them a scrape may have (and the app keep). */
const BODY_BUFFER_BYTES = 1024 * 1024;
const BODY_BUFFERS = 8;

/**
 * Encodes the text chunks into large reused buffers and writes each to `destination` when it is full. A scrape is
 * then a few large writes (and gzip jobs on the thread pool) rather than one per chunk, and rendering goes on while
 * earlier buffers are compressed and sent, instead of waiting for a turn of an event loop that a poll cycle keeps
 * busy. At most BODY_BUFFERS buffers are in flight, whatever the size of the exposition.
 */
async function writeBody(chunks: AsyncIterable<string>, destination: Writable, spare: Buffer[]): Promise<void> {
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  let allocated = 0;
  let failure: { error: unknown } | undefined;
  let buffer: Buffer | undefined;
  let length = 0;
  const take = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated >= BODY_BUFFERS) await Promise.race(inFlight);
    if (free.length > 0) return free.pop()!;
    allocated += 1;
    return spare.pop() ?? Buffer.allocUnsafe(BODY_BUFFER_BYTES);
  };
  const flush = (): void => {
    if (buffer === undefined || length === 0) return;
    const full = buffer;
    const sent = write(destination, full.subarray(0, length)).then(
      () => {
        inFlight.delete(sent);
        free.push(full);
      },
      (error: unknown) => {
        failure ??= { error };
        throw error;
      },
    );
    sent.catch(() => undefined);
    inFlight.add(sent);
    buffer = undefined;
    length = 0;
  };
  for await (const chunk of chunks) {
    if (failure !== undefined) throw failure.error;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, so a chunk that passes this check fits.
    if (buffer !== undefined && length + 3 * chunk.length > BODY_BUFFER_BYTES) flush();
    if (3 * chunk.length > BODY_BUFFER_BYTES) {
      flush();
      await write(destination, chunk);
      continue;
    }
    buffer ??= await take();
    length += buffer.write(chunk, length);
  }
  flush();
  await Promise.all(inFlight);
  // Only buffers the destination is done with go back; after a failure the others are left to the GC.
  for (const done of [...free, ...(buffer === undefined ? [] : [buffer])]) {
    if (spare.length < BODY_BUFFERS) spare.push(done);
  }
}

/** Writes to a stream; settles when the stream is done with the data. */
function write(destination: Writable, data: Buffer | string): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    destination.write(data, (error) => (error ? reject(error) : resolve()));
  });
  // Awaited later, or not at all when an earlier write failed first.
  written.catch(() => undefined);
  return written;
}

/** The chunks of an iterator whose first result was already taken. */
async function* resume(
  first: IteratorResult<string, unknown>,
  rest: AsyncIterator<string, unknown>,
): AsyncGenerator<string, void, undefined> {
  if (first.done === true) return;
  yield first.value;
  yield* { [Symbol.asyncIterator]: () => rest };
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
