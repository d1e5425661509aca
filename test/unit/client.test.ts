import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import type express from 'express';
import { DisError, DisHttpError } from '../../src/dis/errors.js';
import { PID, NOW, BODY, SYSTEM_ERROR, withCaptureServer, client } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';
import { ManualClock, until } from '../helpers/manual-clock.js';

describe('DIS client', () => {
  it('signs every request (host:port, x-project-id, security token) so the gateway algorithm verifies it', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.json(BODY));
      const { c, events } = client(server);
      const task = await c.getDumpTask('my-stream', 'my_task');
      expect(task.partitions[0]?.lastTransferOffset).to.equal(5);
      await c.getDumpTask('my-stream', 'my_task');
      const [first, second] = server.requests;
      expect(first?.path).to.equal(`/v2/${PID}/streams/my-stream/transfer-tasks/my_task`);
      expect(first?.verified).to.equal('ok');
      expect(first?.headers['x-sdk-date']).to.equal('20240101T000000Z');
      expect(first?.headers['x-project-id']).to.equal(PID);
      expect(first?.headers['x-security-token']).to.equal('temp-token');
      expect(first?.headers['user-agent']).to.equal('dis-exporter/test');
      expect(first?.headers.authorization).to.match(
        /^SDK-HMAC-SHA256 Access=AK-id, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=[0-9a-f]{64}$/,
      );
      // keep-alive: the second request reuses the first one's socket
      expect(second?.port).to.equal(first?.port);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['show_transfer_task', '200'],
        ['show_transfer_task', '200'],
      ]);
    });
  });

  it('percent-encodes stream and task names in the path', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.json(BODY));
      const { c } = client(server);
      await c.getDumpTask('a b', 'c/d');
      expect(server.requests[0]?.path).to.equal(`/v2/${PID}/streams/a%20b/transfer-tasks/c%2Fd`);
    });
  });

  const failures: ReadonlyArray<[string, (res: express.Response) => void, string, string]> = [
    [
      'a DIS not-found',
      (res) =>
        res.status(400).json({ errorCode: 'DIS.4354', message: 'The transfer task does not exist. [my_task][r1]' }),
      'not_found',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: HTTP 400 DIS.4354 (The transfer task does not exist. [my_task][r1]) [request id req-7]`,
    ],
    [
      'a gateway auth error',
      (res) =>
        res.status(401).json({ error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication', request_id: 'b1' }),
      'auth',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: HTTP 401 APIGW.0301 (Incorrect IAM authentication) [request id req-7]`,
    ],
    [
      'an invalid project id',
      (res) => res.status(400).json({ errorCode: 'DIS.4117', message: 'Invalid Project Id.' }),
      'client_error',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: HTTP 400 DIS.4117 (Invalid Project Id.) [request id req-7]`,
    ],
    [
      'a 410 Gone',
      (res) => res.status(410).type('text').send('Gone'),
      'not_found',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: HTTP 410 [request id req-7]`,
    ],
    [
      'an HTML 502',
      (res) => res.status(502).type('html').send('<html>Bad Gateway</html>'),
      'server_error',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: HTTP 502 [request id req-7]`,
    ],
    [
      'a 200 that is not JSON',
      (res) => res.type('html').send('<html>login</html>'),
      'bad_response',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: body is not JSON: 18 chars starting with "<html>login</html>"`,
    ],
    [
      'a 200 of the wrong shape',
      (res) => res.json({ ...BODY, partitions: {} }),
      'bad_response',
      `GET /v2/${PID}/streams/my-stream/transfer-tasks/my_task: partitions: must be an array (got object)`,
    ],
  ];
  for (const [name, answer, reason, message] of failures) {
    it(`turns ${name} into a typed error with reason ${reason}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => answer(res.set('X-Request-Id', 'req-7')));
        const { c } = client(server);
        const error = await c.getDumpTask('my-stream', 'my_task').then(
          () => expect.fail('should have failed'),
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(DisError);
        expect((error as DisError).reason).to.equal(reason);
        expect((error as Error).message).to.equal(message);
        expect((error as Error).message).not.to.include('SK-secret');
        if (error instanceof DisHttpError) expect(error.requestId).to.equal('req-7');
      });
    });
  }

  it('does not retry a 4xx, and retries 429 with back-off on the injected clock', async () => {
    let calls = 0;
    await withCaptureServer(async (server) => {
      server.answer((res) => {
        calls++;
        if (calls === 1) res.status(429).json({ error_code: 'APIGW.0308', error_msg: 'throttled' });
        else res.json(BODY);
      });
      const clock = new ManualClock(NOW);
      const { c, events } = client(server, { retries: 3, clock, random: () => 0.5 });
      const pending = c.getDumpTask('my-stream', 'my_task');
      for (let i = 0; i < 500 && clock.sleeping === 0; i++) await new Promise((r) => setTimeout(r, 2));
      expect(clock.nextWake).to.equal(NOW + 125);
      await clock.advance(125);
      await pending;
      expect(events.map((e) => e.code)).to.deep.equal(['429', '200']);
    });
    await withCaptureServer(async (notFound) => {
      notFound.answer((res) => res.status(400).json({ errorCode: 'DIS.4301', message: 'x' }));
      const second = client(notFound, { retries: 3 });
      await second.c.getDumpTask('s', 't').catch(() => undefined);
      expect(second.events.map((e) => e.code)).to.deep.equal(['400']);
    });
  });
});

describe('DIS client reconfigure (a reload)', () => {
  it('applies a new timeout and retry count to the calls that start after it', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        if (!req.originalUrl.endsWith('/hang')) res.status(503).json(SYSTEM_ERROR);
      });
      const { c, events } = client(server, { retries: 0, timeoutMs: 60_000, random: () => 0 });
      expect((await failureOf(c.getDumpTask('s', 't'))).reason).to.equal('server_error');
      expect(events).to.have.length(1);
      c.reconfigure({ timeoutMs: 50, retries: 2, maxSockets: 2 });
      expect((await failureOf(c.getDumpTask('s', 't'))).reason).to.equal('server_error');
      expect(events.map((e) => e.code)).to.deep.equal(['503', '503', '503', '503']);
      const hanging = await failureOf(c.getDumpTask('s', 'hang'));
      expect(hanging.message).to.equal(`GET /v2/${PID}/streams/s/transfer-tasks/hang: no response within 50 ms`);
    });
  });

  it('applies a new maxSockets to the requests sent after it', async () => {
    const waiting: express.Response[] = [];
    await withCaptureServer(async (server) => {
      server.answer((res) => waiting.push(res));
      const { c } = client(server, { maxSockets: 1 });
      const answerAll = () => waiting.splice(0).forEach((res) => res.json(BODY));
      const one = [c.getDumpTask('s', 'a'), c.getDumpTask('s', 'b')];
      await until(() => waiting.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.requests).to.have.length(1);
      answerAll();
      await until(() => waiting.length === 1);
      answerAll();
      await Promise.all(one);
      c.reconfigure({ timeoutMs: 1000, retries: 0, maxSockets: 2 });
      const two = [c.getDumpTask('s', 'c'), c.getDumpTask('s', 'd')];
      await until(() => waiting.length === 2);
      answerAll();
      await Promise.all(two);
      expect(server.requests.map((s) => s.path.slice(s.path.lastIndexOf('/')))).to.deep.equal(['/a', '/b', '/c', '/d']);
    });
  });
});

describe('DIS client and the caller’s AbortSignal', () => {
  it('leaves no listener on a long-lived signal after its requests, and still aborts a request in flight', async () => {
    let hold = false;
    await withCaptureServer(async (server) => {
      server.answer((res) => {
        if (!hold) res.json(BODY);
      });
      const { c } = client(server);
      const controller = new AbortController();
      for (let i = 0; i < 25; i++) await c.getDumpTask('my-stream', 'my_task', controller.signal);
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
      hold = true;
      const pending = c.getDumpTask('my-stream', 'my_task', controller.signal);
      await new Promise((r) => setTimeout(r, 50));
      controller.abort(new Error('poller stopped'));
      const error = await pending.then(
        () => expect.fail('should have been aborted'),
        (e: unknown) => e,
      );
      expect((error as Error).message).to.equal('poller stopped');
    });
  });
});
