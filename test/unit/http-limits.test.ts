import { expect } from 'chai';
import baseGot from 'got';
import { listen, type RunningServer } from '../../src/http/server.js';
import { testHttpApp } from '../helpers/http-app.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

describe('server.maxRequests', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close(0);
    server = undefined;
  });

  it('answers 503 beyond the limit at once, frees the slot when one is done, and takes a new limit at once', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let renders = 0;
    let limit = 2;
    const metrics = async function* (): AsyncGenerator<string> {
      renders += 1;
      await gate;
      yield 'm 1\n';
    };
    // Counts the requests that reach the app; the limit is applied in the same turn of the event loop.
    let arrived = 0;
    let onArrived: () => void = () => undefined;
    const app = testHttpApp({
      metrics,
      maxRequests: () => limit,
      web: {
        headers: (_req, _res, next) => {
          arrived += 1;
          onArrived();
          next();
        },
        guard: (_req, _res, next) => next(),
      },
    });
    server = await listen(app, { host: '127.0.0.1', port: 0 });
    const url = `${server.url}/metrics`;
    const arrivedAt = (count: number) =>
      new Promise<void>((resolve) => (onArrived = () => arrived === count && setImmediate(resolve)));
    const bothIn = arrivedAt(2);
    const first = got(url);
    const second = got(url);
    await bothIn;
    const third = await got(url);
    expect([third.statusCode, third.body]).to.deep.equal([
      503,
      'too many concurrent requests (server.maxRequests is 2)\n',
    ]);
    // Other paths are not counted.
    expect((await got(`${server.url}/-/healthy`)).statusCode).to.equal(200);
    // A reload raises the limit: one more gets through, the next is refused under the new number.
    limit = 3;
    const raisedIn = arrivedAt(5);
    const raised = got(url);
    await raisedIn;
    const beyond = await got(url);
    expect([beyond.statusCode, beyond.body]).to.deep.equal([
      503,
      'too many concurrent requests (server.maxRequests is 3)\n',
    ]);
    release();
    expect([(await first).body, (await second).body, (await raised).body]).to.deep.equal(['m 1\n', 'm 1\n', 'm 1\n']);
    // The scrapes that overlapped shared one render; one that comes after them renders anew.
    expect(renders).to.equal(1);
    const fourth = got(url);
    for (let i = 0; i < 100 && renders < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(renders).to.equal(2);
    expect([(await fourth).statusCode, (await fourth).body]).to.deep.equal([200, 'm 1\n']);
    // And slow clients cannot hold a socket for long.
    const { headersTimeout, requestTimeout, keepAliveTimeout, timeout } = server.server;
    expect({ headersTimeout, requestTimeout, keepAliveTimeout, timeout }).to.deep.equal({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      timeout: 120_000,
    });
  });
});
