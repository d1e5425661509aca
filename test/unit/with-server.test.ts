import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { expect } from 'chai';
import baseGot, { type RequestError } from 'got';
import { until } from '../helpers/manual-clock.js';
import { startServer, withServer, type TestServer } from '../helpers/with-server.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const TLS = new URL('../fixtures/tls/', import.meta.url);

/** What a new connection to the server's port meets: 'connected', or the error code (ECONNREFUSED once closed). */
function connectTo(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('withServer (test helper)', () => {
  it('serves the test’s handlers on a loopback port, records each request, and closes the server after', async () => {
    let url = '';
    const body = await withServer(async (server) => {
      url = server.url;
      server.app.get('/a', (_req, res) => res.send('answered'));
      const response = await got(`${server.url}/a?b=1`, { headers: { 'x-test': 'yes' } });
      expect(server.requests).to.have.length(1);
      expect(server.requests[0]).to.deep.include({ method: 'GET', path: '/a?b=1' });
      expect(server.requests[0]?.headers['x-test']).to.equal('yes');
      expect(server.requests[0]?.port).to.be.above(0);
      return response.body;
    });
    expect(body).to.equal('answered');
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await connectTo(url)).to.equal('ECONNREFUSED');
  });

  it('closes the server, a response left hanging included, when the test body throws, and rethrows its error', async () => {
    let url = '';
    let hanging: Promise<string | undefined> = Promise.resolve(undefined);
    const failure = await withServer(async (server) => {
      url = server.url;
      server.app.use(() => {}); // never answers
      hanging = got(server.url).then(
        () => undefined,
        (error: unknown) => (error as RequestError).code,
      );
      await until(() => server.requests.length === 1);
      throw new Error('the test failed');
    }).then(
      () => expect.fail('withServer should have rethrown'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).to.equal('the test failed');
    expect(await hanging).to.equal('ECONNRESET');
    expect(await connectTo(url)).to.equal('ECONNREFUSED');
  });

  it('runs the deferred clean-ups last first while the server still listens, all of them when one throws', async () => {
    const ran: string[] = [];
    let server: TestServer | undefined;
    const failure = await withServer(async (s) => {
      server = s;
      s.defer(() => void ran.push(`first, listening ${s.server.listening}`));
      s.defer(() => {
        ran.push('second');
        throw new Error('clean-up failed');
      });
      s.defer(async () => void ran.push(`third, listening ${s.server.listening}`));
    }).then(
      () => expect.fail('withServer should have thrown the clean-up’s error'),
      (error: unknown) => error as Error,
    );
    expect(ran).to.deep.equal(['third, listening true', 'second', 'first, listening true']);
    expect(failure.message).to.equal('clean-up failed');
    expect(server?.server.listening).to.equal(false);
  });

  it('keeps what `record` returns for each request', async () => {
    await withServer(
      async (server) => {
        server.app.use((_req, res) => res.status(204).end());
        await got.post(`${server.url}/x`);
        await got(`${server.url}/y?z`);
        expect(server.requests).to.deep.equal(['POST /x', 'GET /y?z']);
      },
      { record: (request) => `${request.method} ${request.url}` },
    );
  });

  it('serves HTTPS with the given key and certificate', async () => {
    const tls = { key: readFileSync(new URL('server-key.pem', TLS)), cert: readFileSync(new URL('server.pem', TLS)) };
    await withServer(
      async (server) => {
        server.app.use((_req, res) => res.send('secure'));
        expect(server.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
        const response = await got(server.url, {
          https: { certificateAuthority: readFileSync(new URL('ca.pem', TLS)) },
        });
        expect(response.body).to.equal('secure');
      },
      { tls },
    );
  });

  it('startServer leaves the closing to the caller, for a server shared by the tests of a suite', async () => {
    const server = await startServer();
    server.app.use((_req, res) => res.send('shared'));
    expect((await got(server.url)).body).to.equal('shared');
    expect(await connectTo(server.url)).to.equal('connected');
    await server.close();
    expect(server.server.listening).to.equal(false);
    expect(await connectTo(server.url)).to.equal('ECONNREFUSED');
  });
});
