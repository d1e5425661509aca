import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createDisClient, type ApiRequestEvent, type DisClient } from '../../src/dis/client.js';
import { DisError, DisHttpError } from '../../src/dis/errors.js';
import { verifySignature } from '../../src/dis/signer.js';
import { ManualClock } from '../helpers/manual-clock.js';

const PID = '0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2024, 0, 1);
const BODY = {
  stream_name: 'my-stream',
  task_name: 'my_task',
  task_id: 'id1',
  state: 'RUNNING',
  destination_type: 'OBS',
  obs_destination_description: { obs_bucket_path: 'bucket', deliver_time_interval: 60 },
  partitions: [{ partitionId: 'shardId-0000000000', discard: 0, state: 'RUNNING', last_transfer_offset: 5 }],
};

type Seen = { path: string; headers: Record<string, string | string[] | undefined>; port: number; verified: string };

/** A bare HTTP server that records what the client sends and answers as told. */
async function captureServer(answer: (res: express.Response) => void) {
  const seen: Seen[] = [];
  const app = express();
  app.use((req, res) => {
    const url = new URL(req.originalUrl, `http://${req.headers.host}`);
    const check = verifySignature({ method: req.method, url, headers: req.headers }, () => 'SK-secret', NOW);
    seen.push({
      path: req.originalUrl,
      headers: req.headers,
      port: req.socket.remotePort ?? 0,
      verified: check.ok ? 'ok' : check.code,
    });
    answer(res);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function client(url: string, extra: Partial<Parameters<typeof createDisClient>[0]> = {}) {
  const events: ApiRequestEvent[] = [];
  const c: DisClient = createDisClient({
    endpoint: url,
    projectId: PID,
    credentials: () => ({ accessKey: 'AK-id', secretKey: 'SK-secret', securityToken: 'temp-token' }),
    timeoutMs: 1000,
    retries: 0,
    maxSockets: 2,
    clock: new ManualClock(NOW),
    userAgent: 'dis-exporter/test',
    onRequest: (event) => events.push(event),
    ...extra,
  });
  return { c, events };
}

describe('DIS client', () => {
  it('signs every request (host:port, x-project-id, security token) so the gateway algorithm verifies it', async () => {
    const server = await captureServer((res) => res.json(BODY));
    const { c, events } = client(server.url);
    try {
      const task = await c.getDumpTask('my-stream', 'my_task');
      expect(task.partitions[0]?.lastTransferOffset).to.equal(5);
      await c.getDumpTask('my-stream', 'my_task');
      const [first, second] = server.seen;
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
    } finally {
      c.close();
      await server.close();
    }
  });

  it('percent-encodes stream and task names in the path', async () => {
    const server = await captureServer((res) => res.json(BODY));
    const { c } = client(server.url);
    try {
      await c.getDumpTask('a b', 'c/d');
      expect(server.seen[0]?.path).to.equal(`/v2/${PID}/streams/a%20b/transfer-tasks/c%2Fd`);
    } finally {
      c.close();
      await server.close();
    }
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
      const server = await captureServer((res) => answer(res.set('X-Request-Id', 'req-7')));
      const { c } = client(server.url);
      try {
        const error = await c.getDumpTask('my-stream', 'my_task').then(
          () => expect.fail('should have failed'),
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(DisError);
        expect((error as DisError).reason).to.equal(reason);
        expect((error as Error).message).to.equal(message);
        expect((error as Error).message).not.to.include('SK-secret');
        if (error instanceof DisHttpError) expect(error.requestId).to.equal('req-7');
      } finally {
        c.close();
        await server.close();
      }
    });
  }

  it('does not retry a 4xx, and retries 429 with back-off on the injected clock', async () => {
    let calls = 0;
    const server = await captureServer((res) => {
      calls++;
      if (calls === 1) res.status(429).json({ error_code: 'APIGW.0308', error_msg: 'throttled' });
      else res.json(BODY);
    });
    const clock = new ManualClock(NOW);
    const { c, events } = client(server.url, { retries: 3, clock, random: () => 0.5 });
    try {
      const pending = c.getDumpTask('my-stream', 'my_task');
      for (let i = 0; i < 500 && clock.sleeping === 0; i++) await new Promise((r) => setTimeout(r, 2));
      expect(clock.nextWake).to.equal(NOW + 125);
      await clock.advance(125);
      await pending;
      expect(events.map((e) => e.code)).to.deep.equal(['429', '200']);
    } finally {
      c.close();
      await server.close();
    }
    const notFound = await captureServer((res) => res.status(400).json({ errorCode: 'DIS.4301', message: 'x' }));
    const second = client(notFound.url, { retries: 3 });
    try {
      await second.c.getDumpTask('s', 't').catch(() => undefined);
      expect(second.events.map((e) => e.code)).to.deep.equal(['400']);
    } finally {
      second.c.close();
      await notFound.close();
    }
  });
});
