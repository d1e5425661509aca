import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { SERVER_TIMEOUTS, listen, type RunningServer } from '../../src/http/server.js';
import { WebSecurity } from '../../src/web/web-security.js';
import { testHttpApp } from '../helpers/http-app.js';

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
/** Short timeouts, so that the tests run fast; the production values only differ in size. */
const TIMEOUTS = {
  ...SERVER_TIMEOUTS,
  headersTimeoutMs: 500,
  requestTimeoutMs: 1000,
  connectionsCheckingIntervalMs: 100,
  sendTimeoutMs: 1000,
};
/** Far more than any of TIMEOUTS, far less than Node's default connectionsCheckingInterval (30 s). */
const CUT_WITHIN_MS = 5000;

type Ending = Readonly<{ received: string; afterMs: number } | { received: string; open: true }>;

/** What a client received until the server closed the connection, or that it was still open after `waitMs`. */
function ending(socket: Socket, waitMs: number): Promise<Ending> {
  const startedMs = performance.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ received, open: true }), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ received, afterMs: performance.now() - startedMs });
    });
  });
}

describe('slow clients (server timeouts)', function () {
  this.timeout(20_000);
  let server: RunningServer | undefined;
  let web: WebSecurity | undefined;
  let dir: string;
  const sockets: Socket[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-slow-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await server?.close(0);
    await web?.close();
    server = undefined;
    web = undefined;
  });

  async function serve(metrics: () => AsyncIterable<string> = async function* () {}, tls = false): Promise<URL> {
    const logger = pino({ level: 'silent' });
    if (tls) {
      const file = join(dir, 'tls.yml');
      writeFileSync(
        file,
        `tls_server_config:\n  cert_file: ${join(TLS, 'server.pem')}\n  key_file: ${join(TLS, 'server-key.pem')}\n`,
      );
      web = WebSecurity.load(file, { clock: systemClock, logger });
    }
    const app = testHttpApp({
      metrics,
    });
    const security = web;
    server = await listen(app, {
      host: '127.0.0.1',
      port: 0,
      timeouts: TIMEOUTS,
      ...(security === undefined
        ? {}
        : { createServer: (listener, options) => security.createServer(listener, options) }),
    });
    return new URL(server.url);
  }

  function open(url: URL): Promise<Socket> {
    const port = Number(url.port);
    return new Promise((resolve, reject) => {
      const socket =
        url.protocol === 'https:'
          ? connectTls({ host: url.hostname, port, ca: readFileSync(join(TLS, 'ca.pem')) }, () => resolve(socket))
          : connectTcp({ host: url.hostname, port }, () => resolve(socket));
      socket.once('error', reject);
      sockets.push(socket);
    });
  }

  for (const tls of [false, true]) {
    it(`${tls ? 'HTTPS' : 'HTTP'}: headers that do not arrive in time get 408 and the connection closed`, async () => {
      const socket = await open(await serve(undefined, tls));
      socket.write('GET /metrics HTTP/1.1\r\nHost: exporter\r\n');
      const end = await ending(socket, CUT_WITHIN_MS);
      expect('open' in end, 'still open').to.equal(false);
      expect(end.received).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  }

  it('a response the client does not read in time is cut off, mid-body', async () => {
    // 64 MB of text: far more than socket buffers hold.
    const line = `${'x'.repeat(1023)}\n`;
    const url = await serve(async function* () {
      for (let i = 0; i < 64; i++) yield line.repeat(1024);
    });
    const socket = await open(url);
    socket.pause();
    socket.write('GET /metrics HTTP/1.1\r\nHost: exporter\r\nAccept-Encoding: identity\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, TIMEOUTS.sendTimeoutMs + 500));
    socket.resume();
    const end = await ending(socket, CUT_WITHIN_MS);
    expect('open' in end, 'still open').to.equal(false);
    expect(end.received).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(end.received.length).to.be.lessThan(64 * 1024 * 1024);
    expect(end.received.endsWith('\r\n0\r\n\r\n')).to.equal(false);
  });

  it('production values: headers 10 s (checked every second), request 30 s, a response sent within 60 s', () => {
    expect(SERVER_TIMEOUTS).to.deep.equal({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      connectionsCheckingIntervalMs: 1_000,
      sendTimeoutMs: 60_000,
      keepAliveTimeoutMs: 65_000,
      socketIdleTimeoutMs: 120_000,
    });
  });
});
