import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { DisHttpError, DisResponseError } from '../../src/dis/errors.js';
import { BODY, TASK_PATH, SYSTEM_ERROR, BAD_AUTH, withCaptureServer, iamUser, client } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';
import { deepNesting, emptyObjects, errorBodyAround } from '../helpers/json-bombs.js';

describe('DIS client body size cap', () => {
  const MiB = 1024 * 1024;

  it('fails a 20 MB body with bad_response once past 8 MiB, without downloading the rest', async function () {
    this.timeout(10_000);
    let written = 0;
    let finished = false;
    let closed: () => void = () => {};
    const serverClosed = new Promise<void>((resolve) => (closed = resolve));
    await withCaptureServer(async (server) => {
      server.answer((res) => {
        res.status(200).type('json');
        res.on('finish', () => (finished = true));
        res.on('close', () => closed());
        const chunk = Buffer.alloc(MiB, 0x20);
        const writeMore = (): void => {
          while (written < 20 * MiB && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', writeMore);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        writeMore();
      });
      const { c, events } = client(server, { retries: 3 });
      const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(error).to.be.instanceOf(DisResponseError);
      expect([error.reason, error.message]).to.deep.equal([
        'bad_response',
        `GET ${TASK_PATH}: response body larger than 8388608 bytes`,
      ]);
      expect(events.map((e) => e.code)).to.deep.equal(['200']);
      await serverClosed;
      expect(finished).to.equal(false);
      expect(written).to.be.below(20 * MiB);
    });
  });

  it('fails at once on a Content-Length over the cap, before any of the body arrives', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(20 * MiB) });
        res.flushHeaders(); // and never a byte of body: a client that waited for it would time out
      });
      const { c } = client(server);
      const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect([error.reason, error.message]).to.deep.equal([
        'bad_response',
        `GET ${TASK_PATH}: response body larger than 8388608 bytes`,
      ]);
    });
  });

  it('counts the decompressed bytes: a small gzip of 20 MB fails too', async () => {
    const zipped = gzipSync(Buffer.alloc(20 * MiB, 0x20));
    expect(zipped.length).to.be.below(MiB);
    await withCaptureServer(async (server) => {
      server.answer((res) =>
        res.status(200).set({ 'content-type': 'application/json', 'content-encoding': 'gzip' }).send(zipped),
      );
      const { c } = client(server);
      const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(error.message).to.equal(`GET ${TASK_PATH}: response body larger than 8388608 bytes`);
    });
  });

  it('accepts a body of exactly maxBodyBytes and refuses one byte more, error bodies included', async () => {
    const text = JSON.stringify(BODY);
    const size = Buffer.byteLength(text);
    await withCaptureServer(async (server) => {
      server.answer((res) => res.type('json').send(text));
      const exact = client(server, { maxBodyBytes: size });
      const under = client(server, { maxBodyBytes: size - 1 });
      await withCaptureServer(async (errorServer) => {
        errorServer.answer((res) => res.status(500).json(SYSTEM_ERROR));
        const tiny = client(errorServer, { maxBodyBytes: 10, retries: 3 });
        expect((await exact.c.getDumpTask('my-stream', 'my_task')).taskId).to.equal('id1');
        const error = await failureOf(under.c.getDumpTask('my-stream', 'my_task'));
        expect(error.message).to.equal(`GET ${TASK_PATH}: response body larger than ${size - 1} bytes`);
        const unreadable = await failureOf(tiny.c.getDumpTask('my-stream', 'my_task'));
        expect([unreadable.reason, unreadable.message]).to.deep.equal([
          'bad_response',
          `GET ${TASK_PATH}: response body larger than 10 bytes`,
        ]);
        expect(errorServer.requests).to.have.length(1);
      });
    });
  });
});

describe('DIS client JSON limits (nesting depth, number of values)', () => {
  const bombs: ReadonlyArray<[string, string, string]> = [
    ['4 million nested arrays', deepNesting(), 'body nests deeper than 64 levels'],
    ['2.8 million empty objects', emptyObjects(), 'body has more than 100000 values'],
  ];
  for (const [name, text, problem] of bombs) {
    it(`fails a 200 of ${name} with bad_response before parsing it`, async function () {
      this.timeout(10_000);
      await withCaptureServer(async (server) => {
        server.answer((res) => res.type('json').send(text));
        const { c, events } = client(server, { retries: 3 });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisResponseError);
        expect([error.reason, error.message]).to.deep.equal(['bad_response', `GET ${TASK_PATH}: ${problem}`]);
        expect(events.map((e) => e.code)).to.deep.equal(['200']);
      });
    });
  }

  // Each body names a code beside its bomb; over the limits the body reads as none, and the status alone decides.
  const errorBombs: ReadonlyArray<[string, number, string, string]> = [
    ['a 500 with DIS.5000 and empty objects', 500, errorBodyAround(SYSTEM_ERROR, emptyObjects), 'server_error'],
    [
      'a 400 with DIS.4354 (not_found) and nested arrays',
      400,
      errorBodyAround({ errorCode: 'DIS.4354', message: 'The transfer task does not exist.' }, deepNesting),
      'client_error',
    ],
    ['a 401 with APIGW.0301 and nested arrays', 401, errorBodyAround(BAD_AUTH, deepNesting), 'auth'],
  ];
  for (const [name, status, text, reason] of errorBombs) {
    it(`reads the body of ${name} as none: reason ${reason}`, async function () {
      this.timeout(10_000);
      await withCaptureServer(async (server) => {
        server.answer((res) => res.status(status).set('X-Request-Id', 'req-8').type('json').send(text));
        const { c } = client(server);
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisHttpError);
        expect([error.reason, error.message]).to.deep.equal([
          reason,
          `GET ${TASK_PATH}: HTTP ${status} [request id req-8]`,
        ]);
      });
    });
  }

  const iamBombs: ReadonlyArray<[string, number, string, string, string]> = [
    [
      'a 201 token response of nested arrays',
      201,
      deepNesting(),
      'bad_response',
      'body nests deeper than 64 levels; check auth.iam.endpoint, which must be an IAM endpoint like https://iam.cn-north-4.myhuaweicloud.com',
    ],
    [
      'a Keystone-style 401 with empty objects',
      401,
      errorBodyAround({ error: { code: 401, message: 'The username or password is wrong.' } }, emptyObjects),
      'auth',
      'HTTP 401; IAM rejected user "monitor" of domain "acme": check auth.iam.domain, auth.iam.username and auth.iam.password (or auth.iam.passwordFile)',
    ],
  ];
  for (const [name, status, text, reason, problem] of iamBombs) {
    it(`fails the IAM token request on ${name}: reason ${reason}, no DIS request sent`, async function () {
      this.timeout(10_000);
      await withCaptureServer(async (server) => {
        server.answer((res) => res.status(status).set('X-Subject-Token', 'token-1').type('json').send(text));
        const { c, events } = client(server, { credentials: iamUser(server.url) });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect([error.code, error.reason, error.message]).to.deep.equal([
          'ERR_IAM_TOKEN',
          reason,
          `no IAM token: POST ${server.url}/v3/auth/tokens: ${problem}`,
        ]);
        expect(events.map((e) => `${e.operation} ${e.code}`)).to.deep.equal([`iam_token ${status}`]);
      });
    });
  }
});
