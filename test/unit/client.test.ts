import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createDisClient, MAX_PAGES, type ApiRequestEvent, type DisClient } from '../../src/dis/client.js';
import { DisError, DisHttpError, DisResponseError } from '../../src/dis/errors.js';
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
async function captureServer(answer: (res: express.Response, req: express.Request) => void) {
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
    answer(res, req);
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

/** The stream names, or the partition ids, of a page as the server would list them. */
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(10, '0')}`);

/** What a test client call rejected with. */
async function failureOf(pending: Promise<unknown>): Promise<DisError> {
  const error = await pending.then(
    () => expect.fail('should have failed'),
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(DisError);
  return error as DisError;
}

describe('DIS client listings', () => {
  it('lists streams over every page, cursor RFC 3986-encoded, each page signed and counted', async () => {
    const pages: Record<string, object> = {
      '': { total_number: 4, stream_names: ['alpha', 'a b'], has_more_streams: true },
      // No stream_names: the names come from stream_info_list.
      'a b': { total_number: 4, stream_info_list: [{ stream_name: "c!(d)*'" }], has_more_streams: true },
      "c!(d)*'": { total_number: 4, stream_names: ['zeta'], has_more_streams: false },
    };
    const server = await captureServer((res, req) => {
      const url = new URL(req.originalUrl, 'http://x');
      res.json(pages[url.searchParams.get('start_stream_name') ?? ''] ?? { stream_names: [] });
    });
    const { c, events } = client(server.url);
    try {
      expect(await c.listStreams()).to.deep.equal(['alpha', 'a b', "c!(d)*'", 'zeta']);
      expect(server.seen.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams?limit=100`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a%20b`,
        `/v2/${PID}/streams?limit=100&start_stream_name=c%21%28d%29%2A%27`,
      ]);
      expect(server.seen.map((s) => s.verified)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['list_streams', '200'],
        ['list_streams', '200'],
        ['list_streams', '200'],
      ]);
    } finally {
      c.close();
      await server.close();
    }
  });

  it('reads the stream details over every page, start_partitionId = the last id of the previous page', async () => {
    const partition = (id: string, n: number) => ({
      status: 'ACTIVE',
      partition_id: id,
      hash_range: '[0 : 9223372036854775807]',
      sequence_number_range: `[${n * 10} : ${n * 10 + 5}]`,
    });
    const pages: Record<string, object> = {
      '': {
        stream_name: 'my-stream',
        partitions: range('shardId-', 0, 1).map((id, i) => partition(id, i)),
        has_more_partitions: true,
      },
      'shardId-0000000001': {
        stream_name: 'my-stream',
        partitions: range('shardId-', 2, 3).map((id, i) => partition(id, i + 2)),
        has_more_partitions: true,
      },
      // has_more_partitions missing: the last page.
      'shardId-0000000003': {
        stream_name: 'my-stream',
        partitions: [{ status: 'EXPIRED', partition_id: 'shardId-0000000004', sequence_number_range: null }],
      },
    };
    const server = await captureServer((res, req) => {
      const url = new URL(req.originalUrl, 'http://x');
      res.json(pages[url.searchParams.get('start_partitionId') ?? ''] ?? {});
    });
    const { c, events } = client(server.url);
    try {
      const stream = await c.getStream('my-stream');
      expect(stream).to.deep.equal({
        streamName: 'my-stream',
        partitions: [
          { partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 0, endOffset: 5 },
          { partitionId: 'shardId-0000000001', status: 'ACTIVE', startOffset: 10, endOffset: 15 },
          { partitionId: 'shardId-0000000002', status: 'ACTIVE', startOffset: 20, endOffset: 25 },
          { partitionId: 'shardId-0000000003', status: 'ACTIVE', startOffset: 30, endOffset: 35 },
          { partitionId: 'shardId-0000000004', status: 'EXPIRED' },
        ],
      });
      expect(Object.isFrozen(stream)).to.equal(true);
      expect(Object.isFrozen(stream.partitions)).to.equal(true);
      expect(server.seen.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams/my-stream?limit_partitions=1000`,
        `/v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=shardId-0000000001`,
        `/v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=shardId-0000000003`,
      ]);
      expect(server.seen.map((s) => s.verified)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['show_stream', '200'],
        ['show_stream', '200'],
        ['show_stream', '200'],
      ]);
    } finally {
      c.close();
      await server.close();
    }
  });

  it('lists the dump tasks of a stream in one signed request', async () => {
    const server = await captureServer((res) =>
      res.json({
        tasks: [
          { task_name: 'to-obs', state: 'RUNNING', destination_type: 'OBS' },
          { task_name: 'to-dws', state: 'PAUSED', destination_type: 'DWS' },
        ],
        total_number: 2,
      }),
    );
    const { c, events } = client(server.url);
    try {
      expect(await c.listDumpTasks('my stream')).to.deep.equal([
        { taskName: 'to-obs', state: 'RUNNING' },
        { taskName: 'to-dws', state: 'PAUSED' },
      ]);
      expect(server.seen.map((s) => [s.path, s.verified])).to.deep.equal([
        [`/v2/${PID}/streams/my%20stream/transfer-tasks`, 'ok'],
      ]);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([['list_transfer_tasks', '200']]);
    } finally {
      c.close();
      await server.close();
    }
  });

  it('retries one page without losing its cursor', async () => {
    let calls = 0;
    const server = await captureServer((res, req) => {
      calls++;
      if (calls === 2) {
        res.status(503).json({ errorCode: 'DIS.5000', message: 'System error.' });
      } else if (req.originalUrl.includes('start_stream_name')) {
        res.json({ stream_names: ['b'], has_more_streams: false });
      } else {
        res.json({ stream_names: ['a'], has_more_streams: true });
      }
    });
    const { c, events } = client(server.url, { retries: 1, random: () => 0 });
    try {
      expect(await c.listStreams()).to.deep.equal(['a', 'b']);
      expect(server.seen.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams?limit=100`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a`,
      ]);
      expect(events.map((e) => e.code)).to.deep.equal(['200', '503', '200']);
    } finally {
      c.close();
      await server.close();
    }
  });

  const broken: ReadonlyArray<{
    name: string;
    call: (c: DisClient) => Promise<unknown>;
    answer: (res: express.Response, req: express.Request) => void;
    requests: number;
    message: string;
  }> = [
    {
      name: 'a stream list that ignores the cursor',
      call: (c) => c.listStreams(),
      answer: (res) => res.json({ stream_names: ['a', 'b'], has_more_streams: true }),
      requests: 2,
      message: `GET /v2/${PID}/streams?limit=100&start_stream_name=b: has_more_streams: was true on page 1 but page 2 repeats "a" from page 1`,
    },
    {
      name: 'a stream list that goes back to an earlier page',
      call: (c) => c.listStreams(),
      answer: (res, req) => {
        const start = new URL(req.originalUrl, 'http://x').searchParams.get('start_stream_name');
        res.json({ stream_names: start === 'a' ? ['b'] : ['a'], has_more_streams: true });
      },
      requests: 3,
      message: `GET /v2/${PID}/streams?limit=100&start_stream_name=b: has_more_streams: was true on page 2 but page 3 repeats "a" from page 1`,
    },
    {
      name: 'an empty stream page that says there is more',
      call: (c) => c.listStreams(),
      answer: (res) => res.json({ total_number: 3, stream_names: [], has_more_streams: true }),
      requests: 1,
      message: `GET /v2/${PID}/streams?limit=100: has_more_streams: is true but page 1 lists no streams`,
    },
    {
      name: 'a partition page that repeats its cursor',
      call: (c) => c.getStream('my-stream'),
      answer: (res, req) => {
        const start = new URL(req.originalUrl, 'http://x').searchParams.get('start_partitionId');
        const ids = start === null ? ['shardId-0000000000', 'shardId-0000000001'] : [start];
        res.json({
          stream_name: 'my-stream',
          partitions: ids.map((id) => ({ partition_id: id })),
          has_more_partitions: true,
        });
      },
      requests: 2,
      message: `GET /v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=shardId-0000000001: has_more_partitions: was true on page 1 but page 2 repeats "shardId-0000000001" from page 1`,
    },
    {
      name: 'an empty partition page that says there is more',
      call: (c) => c.getStream('my-stream'),
      answer: (res, req) => {
        const more = !req.originalUrl.includes('start_partitionId');
        res.json({
          stream_name: 'my-stream',
          partitions: more ? [{ partition_id: 'p0' }] : [],
          has_more_partitions: true,
        });
      },
      requests: 2,
      message: `GET /v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=p0: has_more_partitions: is true but page 2 lists no partitions`,
    },
    {
      name: 'a partition page of another stream',
      call: (c) => c.getStream('my-stream'),
      answer: (res, req) => {
        const first = !req.originalUrl.includes('start_partitionId');
        res.json({
          stream_name: first ? 'my-stream' : 'other-stream',
          partitions: [{ partition_id: first ? 'p0' : 'p1' }],
          has_more_partitions: first,
        });
      },
      requests: 2,
      message: `GET /v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=p0: stream_name: is "other-stream" on page 2 but "my-stream" on page 1`,
    },
    {
      name: 'a later partition page of the wrong shape',
      call: (c) => c.getStream('my-stream'),
      answer: (res, req) => {
        const first = !req.originalUrl.includes('start_partitionId');
        res.json(
          first
            ? { stream_name: 'my-stream', partitions: [{ partition_id: 'p0' }], has_more_partitions: true }
            : { stream_name: 'my-stream', partitions: {} },
        );
      },
      requests: 2,
      message: `GET /v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=p0: partitions: must be an array (got object)`,
    },
    {
      name: 'a task list of the wrong shape',
      call: (c) => c.listDumpTasks('my-stream'),
      answer: (res) => res.json({ tasks: [{ state: 'RUNNING' }] }),
      requests: 1,
      message: `GET /v2/${PID}/streams/my-stream/transfer-tasks: tasks[0].task_name: is required`,
    },
  ];
  for (const { name, call, answer, requests, message } of broken) {
    it(`stops at ${name} with a bad_response`, async () => {
      const server = await captureServer(answer);
      const { c, events } = client(server.url, { retries: 3 });
      try {
        const error = await failureOf(call(c));
        expect(error).to.be.instanceOf(DisResponseError);
        expect(error.reason).to.equal('bad_response');
        expect(error.message).to.equal(message);
        expect(server.seen).to.have.length(requests);
        expect(events).to.have.length(requests);
      } finally {
        c.close();
        await server.close();
      }
    });
  }

  it(`gives up on a listing that still says "more" after ${MAX_PAGES} pages`, async function () {
    this.timeout(30_000);
    let page = 0;
    const server = await captureServer((res) => {
      page++;
      res.json({ stream_names: [`s${page}`], has_more_streams: true });
    });
    const { c, events } = client(server.url);
    try {
      const error = await failureOf(c.listStreams());
      expect(error.reason).to.equal('bad_response');
      expect(error.message).to.equal(
        `GET /v2/${PID}/streams?limit=100&start_stream_name=s${MAX_PAGES - 1}: has_more_streams: is still true after ${MAX_PAGES} pages`,
      );
      expect(events).to.have.length(MAX_PAGES);
    } finally {
      c.close();
      await server.close();
    }
  });

  const notFound: ReadonlyArray<[string, (c: DisClient) => Promise<unknown>, string, string]> = [
    ['getStream', (c) => c.getStream('gone'), `/v2/${PID}/streams/gone?limit_partitions=1000`, 'show_stream'],
    ['listDumpTasks', (c) => c.listDumpTasks('gone'), `/v2/${PID}/streams/gone/transfer-tasks`, 'list_transfer_tasks'],
  ];
  for (const [method, call, path, operation] of notFound) {
    it(`turns 400 DIS.4301 on ${method} into reason not_found, without a retry`, async () => {
      const server = await captureServer((res) =>
        res.status(400).json({ errorCode: 'DIS.4301', message: 'Stream does not exist. [gone][r1]' }),
      );
      const { c, events } = client(server.url, { retries: 3 });
      try {
        const error = await failureOf(call(c));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error.reason).to.equal('not_found');
        expect(error.message).to.equal(`GET ${path}: HTTP 400 DIS.4301 (Stream does not exist. [gone][r1])`);
        expect(server.seen.map((s) => s.path)).to.deep.equal([path]);
        expect(events.map((e) => [e.operation, e.code])).to.deep.equal([[operation, '400']]);
      } finally {
        c.close();
        await server.close();
      }
    });
  }
});
