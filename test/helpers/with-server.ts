import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';

/** One request as the server received it, recorded before the handler sees it. */
export type RecordedRequest = {
  method: string;
  /** The request target as sent: the path and the query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The client's port: two requests from the same port came over one kept-alive connection. */
  port: number;
};

/** A server on a loopback port, as a test sees it. */
export type TestServer<R = RecordedRequest> = {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), without a trailing slash. */
  url: string;
  /** The express app that answers: the test adds its routes or a catch-all handler (`app.use`) before it sends. */
  app: Express;
  /** Every request so far, in the order they arrived. */
  requests: R[];
  server: Server;
  /** Runs `cleanup` before the server closes, the last one registered first (a client's close(), say). */
  defer(cleanup: () => void | Promise<void>): void;
};

/** A started server and how to stop it, for a server that lives across tests (a `before`/`after` pair). */
export type StartedServer<R = RecordedRequest> = TestServer<R> & {
  /** Runs the deferred clean-ups, then closes the server and every connection still open. */
  close(): Promise<void>;
};

/** How to serve. */
export type ServeOptions = {
  /** Serve HTTPS with this key and certificate (PEM), one for 127.0.0.1 (test/fixtures/tls/server.pem is). */
  tls?: { key: string | Buffer; cert: string | Buffer };
};

/** How to record a request, when the test wants more than RecordedRequest holds. */
export type RecordOption<R> = { record: (request: IncomingMessage) => R };

/** What the capture servers of the tests have always kept of a request. */
export function recordRequest(request: IncomingMessage): RecordedRequest {
  return {
    method: request.method ?? '',
    path: request.url ?? '',
    headers: request.headers,
    port: request.socket.remotePort ?? 0,
  };
}

/** Starts an express app on a free loopback port, recording each request; the caller adds the handlers to `app`. */
export function startServer(options?: ServeOptions): Promise<StartedServer>;
export function startServer<R>(options: ServeOptions & RecordOption<R>): Promise<StartedServer<R>>;
export async function startServer<R>(
  options: ServeOptions & Partial<RecordOption<R>> = {},
): Promise<StartedServer<R | RecordedRequest>> {
  const record = options.record ?? recordRequest;
  const requests: (R | RecordedRequest)[] = [];
  const app = express();
  const listener: RequestListener = (request, response) => {
    requests.push(record(request));
    app(request, response);
  };
  const server: Server =
    options.tls === undefined ? createHttpServer(listener) : createHttpsServer(options.tls, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const cleanups: (() => void | Promise<void>)[] = [];
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    app,
    requests,
    server,
    defer: (cleanup) => void cleanups.push(cleanup),
    async close() {
      // Every clean-up runs and the server closes even when one throws; the first error is then thrown.
      const errors: unknown[] = [];
      for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) {
        await Promise.resolve()
          .then(cleanup)
          .catch((error: unknown) => errors.push(error));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A response the test left hanging, or a kept-alive socket, must not hold the close (nor the test) up.
      server.closeAllConnections();
      await closed;
      if (errors.length > 0) throw errors[0];
    },
  };
}

/**
 * Runs `run` with a server on a free loopback port, and always closes it afterwards, whether `run` passed or
 * threw: the deferred clean-ups first, then the server and every connection still open. Like got's
 * `withServer`: the test gets the server, adds its handlers to `server.app`, and writes no try/finally.
 */
export function withServer<T>(run: (server: TestServer) => Promise<T>, options?: ServeOptions): Promise<T>;
export function withServer<T, R>(
  run: (server: TestServer<R>) => Promise<T>,
  options: ServeOptions & RecordOption<R>,
): Promise<T>;
export async function withServer<T, R>(
  run: (server: TestServer<R | RecordedRequest>) => Promise<T>,
  options: ServeOptions & Partial<RecordOption<R>> = {},
): Promise<T> {
  const server = await startServer(options);
  let result: T;
  try {
    result = await run(server);
  } catch (error) {
    // The test's own failure is the one to report, not a clean-up's that may follow from it.
    await server.close().catch(() => undefined);
    throw error;
  }
  await server.close();
  return result;
}
