import { getEventListeners } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import express from 'express';
import type { Credentials } from '../../src/config/types.js';
import { createDisClient, type ApiRequestEvent, type DisClient } from '../../src/dis/client.js';
import { DisClockSkewError } from '../../src/dis/clock-skew.js';
import { DisCooldownError, type CooldownInfo } from '../../src/dis/cooldown.js';
import { DisError, DisHttpError, DisResponseError } from '../../src/dis/errors.js';
import { MAX_PAGES } from '../../src/dis/paging.js';
import { verifySignature } from '../../src/dis/signer.js';
import { failureOf } from '../helpers/errors.js';
import { deepNesting, emptyObjects, errorBodyAround } from '../helpers/json-bombs.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { recordRequest, withServer, type RecordedRequest, type TestServer } from '../helpers/with-server.js';

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

/** A request as the capture server saw it, with the result of checking its signature (the secret SK-secret, at NOW). */
type Seen = RecordedRequest & { verified: string };

function recordSigned(request: IncomingMessage): Seen {
  const recorded = recordRequest(request);
  const url = new URL(recorded.path, `http://${request.headers.host}`);
  const check = verifySignature({ method: recorded.method, url, headers: request.headers }, () => 'SK-secret', NOW);
  return { ...recorded, verified: check.ok ? 'ok' : check.code };
}

/** How the capture server answers a request. */
type Answer = (res: express.Response, req: express.Request) => void;

/** A bare HTTP server that records what the client sends and answers as told. */
type CaptureServer = TestServer<Seen> & {
  /** Answers every request from now on with `answer`. */
  answer(answer: Answer): void;
};

/** Runs `run` with a capture server, and always closes it (and the clients made for it) afterwards. */
function withCaptureServer<T>(run: (server: CaptureServer) => Promise<T>): Promise<T> {
  return withServer(
    (server) => {
      let answer: Answer = () => expect.fail('the test set no answer');
      server.app.use((req, res) => {
        // The client's clock reads NOW: a Date from the real clock would put it years off, which blames the clock for a 401.
        res.set('Date', new Date(NOW).toUTCString());
        answer(res, req);
      });
      return run(Object.assign(server, { answer: (next: Answer) => void (answer = next) }));
    },
    { record: recordSigned },
  );
}

/** IAM password credentials of user "monitor" in domain "acme", whose IAM is at `endpoint`. */
function iamUser(endpoint: string): () => Credentials {
  return () => ({ kind: 'iam', endpoint, domain: 'acme', username: 'monitor', password: 'Monitor-Password-1' });
}

/** A client of the capture server, closed with it, and the request events it reported. */
function client(server: CaptureServer, extra: Partial<Parameters<typeof createDisClient>[0]> = {}) {
  const events: ApiRequestEvent[] = [];
  const c = createDisClient({
    endpoint: server.url,
    projectId: PID,
    credentials: () => ({ kind: 'aksk', accessKey: 'AK-id', secretKey: 'SK-secret', securityToken: 'temp-token' }),
    timeoutMs: 1000,
    retries: 0,
    maxSockets: 2,
    clock: new ManualClock(NOW),
    userAgent: 'dis-exporter/test',
    onRequest: (event) => events.push(event),
    ...extra,
  });
  server.defer(() => c.close());
  return { c, events };
}

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

/** The stream names, or the partition ids, of a page as the server would list them. */
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(10, '0')}`);

/** What a test client call rejected with. */
describe('DIS client listings', () => {
  it('lists streams over every page, cursor RFC 3986-encoded, each page signed and counted', async () => {
    const pages: Record<string, object> = {
      '': { total_number: 4, stream_names: ['alpha', 'a b'], has_more_streams: true },
      // No stream_names: the names come from stream_info_list.
      'a b': { total_number: 4, stream_info_list: [{ stream_name: "c!(d)*'" }], has_more_streams: true },
      "c!(d)*'": { total_number: 4, stream_names: ['zeta'], has_more_streams: false },
    };
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const url = new URL(req.originalUrl, 'http://x');
        res.json(pages[url.searchParams.get('start_stream_name') ?? ''] ?? { stream_names: [] });
      });
      const { c, events } = client(server);
      expect(await c.listStreams()).to.deep.equal(['alpha', 'a b', "c!(d)*'", 'zeta']);
      expect(server.requests.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams?limit=100`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a%20b`,
        `/v2/${PID}/streams?limit=100&start_stream_name=c%21%28d%29%2A%27`,
      ]);
      expect(server.requests.map((s) => s.verified)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['list_streams', '200'],
        ['list_streams', '200'],
        ['list_streams', '200'],
      ]);
    });
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
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const url = new URL(req.originalUrl, 'http://x');
        res.json(pages[url.searchParams.get('start_partitionId') ?? ''] ?? {});
      });
      const { c, events } = client(server);
      const stream = await c.getStream('my-stream');
      expect(stream).to.deep.equal({
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
      expect(server.requests.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams/my-stream?limit_partitions=1000`,
        `/v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=shardId-0000000001`,
        `/v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=shardId-0000000003`,
      ]);
      expect(server.requests.map((s) => s.verified)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['show_stream', '200'],
        ['show_stream', '200'],
        ['show_stream', '200'],
      ]);
    });
  });

  it('lists the dump tasks of a stream in one signed request', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) =>
        res.json({
          tasks: [
            { task_name: 'to-obs', state: 'RUNNING', destination_type: 'OBS' },
            { task_name: 'to-dws', state: 'PAUSED', destination_type: 'DWS' },
          ],
          total_number: 2,
        }),
      );
      const { c, events } = client(server);
      expect(await c.listDumpTasks('my stream')).to.deep.equal([
        { taskName: 'to-obs', state: 'RUNNING' },
        { taskName: 'to-dws', state: 'PAUSED' },
      ]);
      expect(server.requests.map((s) => [s.path, s.verified])).to.deep.equal([
        [`/v2/${PID}/streams/my%20stream/transfer-tasks`, 'ok'],
      ]);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([['list_transfer_tasks', '200']]);
    });
  });

  it('keeps the details of the asked stream when its pages echo another stream_name, with one field issue', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const first = !req.originalUrl.includes('start_partitionId');
        res.json({
          stream_name: 'other-stream',
          partitions: [{ partition_id: first ? 'shardId-0000000000' : 'shardId-0000000001' }],
          has_more_partitions: first,
        });
      });
      const { c } = client(server);
      expect(await c.getStream('my-stream')).to.deep.equal({
        partitions: [{ partitionId: 'shardId-0000000000' }, { partitionId: 'shardId-0000000001' }],
        fieldIssues: [
          {
            field: 'stream_name',
            problem: 'is "other-stream" where "my-stream" was asked for; the series keep "my-stream"',
          },
        ],
      });
      expect(server.requests).to.have.length(2);
    });
  });

  it('normalises numeric partition ids but pages with the id exactly as DIS sent it', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const start = new URL(req.originalUrl, 'http://x').searchParams.get('start_partitionId');
        res.json(
          start === null
            ? {
                stream_name: 'my-stream',
                partitions: [{ partition_id: 0 }, { partition_id: '1' }],
                has_more_partitions: true,
              }
            : { stream_name: 'my-stream', partitions: [{ partition_id: 2 }] },
        );
      });
      const { c } = client(server);
      expect(await c.getStream('my-stream')).to.deep.equal({
        partitions: [
          { partitionId: 'shardId-0000000000' },
          { partitionId: 'shardId-0000000001' },
          { partitionId: 'shardId-0000000002' },
        ],
      });
      expect(server.requests.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams/my-stream?limit_partitions=1000`,
        `/v2/${PID}/streams/my-stream?limit_partitions=1000&start_partitionId=1`,
      ]);
    });
  });

  it('judges dump task timestamps by its clock and names echoes that differ from what it asked for', async () => {
    const body = {
      ...BODY,
      create_time: NOW - 86_400_000,
      last_transfer_timestamp: NOW + 2 * 86_400_000,
      partitions: [{ partitionId: 'shardId-0000000000', last_transfer_timestamp: NOW + 86_400_000 }],
    };
    await withCaptureServer(async (server) => {
      server.answer((res) => res.json(body));
      const { c } = client(server);
      expect(await c.getDumpTask('s', 't')).to.deep.equal({
        taskId: 'id1',
        state: 'RUNNING',
        destinationType: 'OBS',
        destination: 'bucket',
        createTimeMs: NOW - 86_400_000,
        deliverIntervalSeconds: 60,
        partitions: [{ partitionId: 'shardId-0000000000', lastTransferTimestampMs: NOW + 86_400_000 }],
        fieldIssues: [
          { field: 'stream_name', problem: 'is "my-stream" where "s" was asked for; the series keep "s"' },
          { field: 'task_name', problem: 'is "my_task" where "t" was asked for; the series keep "t"' },
          {
            field: 'last_transfer_timestamp',
            problem: `is more than a day ahead of this host's clock (got ${NOW + 2 * 86_400_000})`,
          },
        ],
      });
    });
  });

  it('retries one page without losing its cursor', async () => {
    let calls = 0;
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        calls++;
        if (calls === 2) {
          res.status(503).json({ errorCode: 'DIS.5000', message: 'System error.' });
        } else if (req.originalUrl.includes('start_stream_name')) {
          res.json({ stream_names: ['b'], has_more_streams: false });
        } else {
          res.json({ stream_names: ['a'], has_more_streams: true });
        }
      });
      const { c, events } = client(server, { retries: 1, random: () => 0 });
      expect(await c.listStreams()).to.deep.equal(['a', 'b']);
      expect(server.requests.map((s) => s.path)).to.deep.equal([
        `/v2/${PID}/streams?limit=100`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a`,
        `/v2/${PID}/streams?limit=100&start_stream_name=a`,
      ]);
      expect(events.map((e) => e.code)).to.deep.equal(['200', '503', '200']);
    });
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
      name: 'a stream list that repeats a 300-character name (quoted to its first 40)',
      call: (c) => c.listStreams(),
      answer: (res) => res.json({ stream_names: ['x'.repeat(300), 'b'], has_more_streams: true }),
      requests: 2,
      message: `GET /v2/${PID}/streams?limit=100&start_stream_name=b: has_more_streams: was true on page 1 but page 2 repeats "${'x'.repeat(40)}…" from page 1`,
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
      await withCaptureServer(async (server) => {
        server.answer(answer);
        const { c, events } = client(server, { retries: 3 });
        const error = await failureOf(call(c));
        expect(error).to.be.instanceOf(DisResponseError);
        expect(error.reason).to.equal('bad_response');
        expect(error.message).to.equal(message);
        expect(server.requests).to.have.length(requests);
        expect(events).to.have.length(requests);
      });
    });
  }

  it(`gives up on a listing that still says "more" after ${MAX_PAGES} pages`, async function () {
    this.timeout(30_000);
    let page = 0;
    await withCaptureServer(async (server) => {
      server.answer((res) => {
        page++;
        res.json({ stream_names: [`s${page}`], has_more_streams: true });
      });
      const { c, events } = client(server);
      const error = await failureOf(c.listStreams());
      expect(error.reason).to.equal('bad_response');
      expect(error.message).to.equal(
        `GET /v2/${PID}/streams?limit=100&start_stream_name=s${MAX_PAGES - 1}: has_more_streams: is still true after ${MAX_PAGES} pages`,
      );
      expect(events).to.have.length(MAX_PAGES);
    });
  });

  const notFound: ReadonlyArray<[string, (c: DisClient) => Promise<unknown>, string, string]> = [
    ['getStream', (c) => c.getStream('gone'), `/v2/${PID}/streams/gone?limit_partitions=1000`, 'show_stream'],
    ['listDumpTasks', (c) => c.listDumpTasks('gone'), `/v2/${PID}/streams/gone/transfer-tasks`, 'list_transfer_tasks'],
  ];
  for (const [method, call, path, operation] of notFound) {
    it(`turns 400 DIS.4301 on ${method} into reason not_found, without a retry`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) =>
          res.status(400).json({ errorCode: 'DIS.4301', message: 'Stream does not exist. [gone][r1]' }),
        );
        const { c, events } = client(server, { retries: 3 });
        const error = await failureOf(call(c));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error.reason).to.equal('not_found');
        expect(error.message).to.equal(`GET ${path}: HTTP 400 DIS.4301 (Stream does not exist. [gone][r1])`);
        expect(server.requests.map((s) => s.path)).to.deep.equal([path]);
        expect(events.map((e) => [e.operation, e.code])).to.deep.equal([[operation, '400']]);
      });
    });
  }
});

const TASK_PATH = `/v2/${PID}/streams/my-stream/transfer-tasks/my_task`;
const THROTTLED = { error_code: 'APIGW.0308', error_msg: 'throttled' };
const SYSTEM_ERROR = { errorCode: 'DIS.5000', message: 'System error.' };
const BAD_AUTH = { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' };
const BLACKLISTED = { errorCode: 'DIS.4309', message: 'Too many request failures. [r1]' };

/** Waits (in real time, for HTTP round trips) until `condition` holds; fails after about two seconds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).to.equal(true);
}

/** A server whose n-th request (from 0) gets `answers[n]`, and the last one after that. */
function sequence(...answers: ReadonlyArray<(res: express.Response) => void>) {
  let n = 0;
  return (res: express.Response) => answers[Math.min(n++, answers.length - 1)]?.(res);
}

const ok = (res: express.Response) => res.json(BODY);

describe('DIS client retries: Retry-After and the per-call deadline', () => {
  const waits: ReadonlyArray<[string, (res: express.Response) => void, number, string]> = [
    ['delta-seconds on a 429', (res) => res.status(429).set('Retry-After', '3').json(THROTTLED), 3000, '429'],
    [
      'an HTTP-date on a 503, against the injected clock',
      (res) => res.status(503).set('Retry-After', 'Mon, 01 Jan 2024 00:00:07 GMT').json(SYSTEM_ERROR),
      7000,
      '503',
    ],
    ['0 on a 429: again at once', (res) => res.status(429).set('Retry-After', '0').json(THROTTLED), 0, '429'],
  ];
  for (const [name, answer, waitMs, status] of waits) {
    it(`waits exactly as long as Retry-After says: ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c, events } = client(server, { retries: 3, clock, random: () => expect.fail('no jitter') });
        const pending = c.getDumpTask('my-stream', 'my_task');
        if (waitMs > 0) {
          await until(() => clock.sleeping === 1);
          expect(clock.nextWake).to.equal(NOW + waitMs);
          await clock.advance(waitMs - 1);
          expect(server.requests).to.have.length(1);
          await clock.advance(1);
        }
        await pending;
        expect(events.map((e) => e.code)).to.deep.equal([status, '200']);
        expect(server.requests).to.have.length(2);
      });
    });
  }

  const backOffs: ReadonlyArray<[string, (res: express.Response) => void]> = [
    ['on a 500 (Retry-After counts on 429 and 503 only)', (res) => res.status(500).set('Retry-After', '30').json({})],
    ['on a 400 DIS.4305', (res) => res.status(400).set('Retry-After', '30').json({ errorCode: 'DIS.4305' })],
    ['for a Retry-After that is no number or date', (res) => res.status(429).set('Retry-After', 'soon').json({})],
    ['for a fractional Retry-After', (res) => res.status(503).set('Retry-After', '1.5').json({})],
  ];
  for (const [name, answer] of backOffs) {
    it(`backs off with jitter ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c } = client(server, { retries: 1, clock, random: () => 0.5 });
        const pending = c.getDumpTask('my-stream', 'my_task');
        await until(() => clock.sleeping === 1);
        expect(clock.nextWake).to.equal(NOW + 125);
        await clock.advance(125);
        await pending;
        expect(server.requests).to.have.length(2);
      });
    });
  }

  const giveUps: ReadonlyArray<{
    name: string;
    answer: (res: express.Response) => void;
    extra?: Partial<Parameters<typeof createDisClient>[0]>;
    deadlineMs?: number;
    message: string;
  }> = [
    {
      name: 'a Retry-After over the 60 s default cap',
      answer: (res) => res.status(429).set('Retry-After', '61').json(THROTTLED),
      message: `GET ${TASK_PATH}: HTTP 429 APIGW.0308 (throttled)`,
    },
    {
      name: 'a Retry-After over maxRetryAfterMs',
      answer: (res) => res.status(503).set('Retry-After', '11').json(SYSTEM_ERROR),
      extra: { maxRetryAfterMs: 10_000 },
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
    {
      name: 'a Retry-After that ends at the deadline',
      answer: (res) => res.status(429).set('Retry-After', '5').json(THROTTLED),
      deadlineMs: NOW + 5000,
      message: `GET ${TASK_PATH}: HTTP 429 APIGW.0308 (throttled)`,
    },
    {
      name: 'a back-off that ends at the deadline',
      answer: (res) => res.status(503).json(SYSTEM_ERROR),
      deadlineMs: NOW + 125,
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
    {
      name: 'a deadline already past',
      answer: (res) => res.status(503).json(SYSTEM_ERROR),
      deadlineMs: NOW - 1,
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
  ];
  for (const { name, answer, extra, deadlineMs, message } of giveUps) {
    it(`fails at once, without waiting, on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c, events } = client(server, { retries: 3, clock, random: () => 0.5, ...extra });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task', undefined, { deadlineMs }));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error.message).to.equal(message);
        expect(clock.sleeping).to.equal(0);
        expect(server.requests).to.have.length(1);
        expect(events).to.have.length(1);
      });
    });
  }

  const inTime: ReadonlyArray<[string, (res: express.Response) => void, number, number]> = [
    [
      'a Retry-After that ends 1 ms before the deadline',
      (res) => res.status(429).set('Retry-After', '5').json(THROTTLED),
      5001,
      5000,
    ],
    ['a back-off that ends 1 ms before the deadline', (res) => res.status(503).json(SYSTEM_ERROR), 126, 125],
  ];
  for (const [name, answer, budgetMs, waitMs] of inTime) {
    it(`retries ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c } = client(server, { retries: 3, clock, random: () => 0.5 });
        const pending = c.getDumpTask('my-stream', 'my_task', undefined, { deadlineMs: NOW + budgetMs });
        await until(() => clock.sleeping === 1);
        expect(clock.nextWake).to.equal(NOW + waitMs);
        await clock.advance(waitMs);
        await pending;
        expect(server.requests).to.have.length(2);
      });
    });
  }

  it('applies the deadline to every page of a listing', async () => {
    await withCaptureServer(async (server) => {
      server.answer(
        sequence(
          (res) => res.json({ stream_names: ['a'], has_more_streams: true }),
          (res) => res.status(503).json(SYSTEM_ERROR),
          (res) => res.json({ stream_names: ['b'], has_more_streams: false }),
        ),
      );
      const clock = new ManualClock(NOW);
      const { c } = client(server, { retries: 3, clock, random: () => 0.5 });
      const error = await failureOf(c.listStreams(undefined, { deadlineMs: NOW + 100 }));
      expect(error.message).to.equal(
        `GET /v2/${PID}/streams?limit=100&start_stream_name=a: HTTP 503 DIS.5000 (System error.)`,
      );
      expect(server.requests).to.have.length(2);
    });
  });

  const never: ReadonlyArray<[string, number, object, string]> = [
    ['401 APIGW.0301', 401, BAD_AUTH, 'auth'],
    ['403 DIS.4116', 403, { errorCode: 'DIS.4116', message: 'Invalid RBAC.' }, 'auth'],
    ['400 DIS.4309', 400, BLACKLISTED, 'auth'],
    ['401 APIGW.0303', 401, { error_code: 'APIGW.0303', error_msg: 'Signature expired' }, 'auth'],
    ['400 DIS.4354', 400, { errorCode: 'DIS.4354', message: 'The transfer task does not exist.' }, 'not_found'],
  ];
  for (const [name, status, body, reason] of never) {
    it(`never retries ${name} (reason ${reason}), even with a Retry-After`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => res.status(status).set('Retry-After', '1').json(body));
        const { c } = client(server, { retries: 3, random: () => 0 });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error.reason).to.equal(reason);
        expect(server.requests).to.have.length(1);
      });
    });
  }
});

const BLOCKED_4309 =
  'DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id';

describe('DIS client cool-down', () => {
  it('stops every request for 10 minutes after DIS.4309, fails calls with ERR_DIS_COOLDOWN, and says so once', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.status(400).json(BLACKLISTED));
      const clock = new ManualClock(NOW);
      const infos: CooldownInfo[] = [];
      const { c, events } = client(server, { clock, onCooldown: (info) => infos.push(info) });
      const first = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(first).to.be.instanceOf(DisHttpError);
      expect(first.message).to.equal(`GET ${TASK_PATH}: HTTP 400 DIS.4309 (Too many request failures. [r1])`);
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      expect(infos.map((i) => [i.untilMs, i.error.message, i.error.code])).to.deep.equal([
        [NOW + 600_000, BLOCKED_4309, 'ERR_DIS_COOLDOWN'],
      ]);

      for (const call of [() => c.listStreams(), () => c.getStream('s'), () => c.listDumpTasks('s')]) {
        const blocked = await failureOf(call());
        expect(blocked).to.be.instanceOf(DisCooldownError);
        expect([blocked.code, blocked.reason, blocked.message]).to.deep.equal([
          'ERR_DIS_COOLDOWN',
          'auth',
          BLOCKED_4309,
        ]);
        expect(blocked.cause).to.equal(first);
        expect((blocked as DisCooldownError).untilMs).to.equal(NOW + 600_000);
      }
      await clock.advance(599_999);
      expect((await failureOf(c.getDumpTask('my-stream', 'my_task'))).code).to.equal('ERR_DIS_COOLDOWN');
      expect(server.requests).to.have.length(1);
      expect(events).to.have.length(1);
      expect(infos).to.have.length(1);

      await clock.advance(1);
      expect(c.cooldownUntilMs()).to.equal(undefined);
      expect((await failureOf(c.getDumpTask('my-stream', 'my_task'))).code).to.equal('ERR_DIS_HTTP');
      expect(server.requests).to.have.length(2);
      expect(infos.map((i) => i.untilMs)).to.deep.equal([NOW + 600_000, NOW + 1_200_000]);
    });
  });

  it('cools down after 3 auth failures in a row across calls; a success in between starts the count again', async () => {
    const unauthorized = (res: express.Response) => res.status(401).json(BAD_AUTH);
    await withCaptureServer(async (server) => {
      server.answer(sequence(unauthorized, unauthorized, ok, unauthorized, unauthorized, unauthorized, ok));
      const clock = new ManualClock(NOW);
      const infos: CooldownInfo[] = [];
      const { c } = client(server, { clock, onCooldown: (info) => infos.push(info) });
      const results: string[] = [];
      const calls = [
        () => c.listStreams(),
        () => c.getStream('s'),
        () => c.getDumpTask('my-stream', 'my_task'),
        () => c.listDumpTasks('s'),
        () => c.listStreams(),
        () => c.getDumpTask('my-stream', 'my_task'),
        () => c.getDumpTask('my-stream', 'my_task'),
      ];
      for (const call of calls) {
        results.push(
          await call().then(
            () => 'ok',
            (e: DisError) => e.code,
          ),
        );
      }
      expect(results).to.deep.equal([
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ok',
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ERR_DIS_COOLDOWN',
      ]);
      expect(server.requests).to.have.length(6);
      expect(infos.map((i) => i.error.message)).to.deep.equal([
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id',
      ]);
    });
  });

  const streaks: ReadonlyArray<{
    name: string;
    answer: (res: express.Response) => void;
    extra: Partial<Parameters<typeof createDisClient>[0]>;
    calls: number;
    message: string;
  }> = [
    {
      name: 'a bare 401 with authFailuresBeforeCooldown 1 and cooldownMs 30 s',
      answer: (res) => res.status(401).send('Unauthorized'),
      extra: { authFailuresBeforeCooldown: 1, cooldownMs: 30_000 },
      calls: 1,
      message:
        'authentication failed (HTTP 401); no requests until 2024-01-01T00:00:30.000Z; check the AK/SK and project id',
    },
    {
      name: 'APIGW.0303 twice: the fix is the clock',
      answer: (res) => res.status(401).json({ error_code: 'APIGW.0303', error_msg: 'Signature expired' }),
      extra: { authFailuresBeforeCooldown: 2 },
      calls: 2,
      message:
        'authentication failed 2 times in a row (APIGW.0303); no requests until 2024-01-01T00:10:00.000Z; sync the host clock with NTP',
    },
    {
      name: 'APIGW.0301 from a host 20 minutes ahead: the fix is the clock',
      answer: (res) => res.set('Date', 'Sun, 31 Dec 2023 23:40:00 GMT').status(401).json(BAD_AUTH),
      extra: {},
      calls: 3,
      message:
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; sync the host clock with NTP',
    },
    {
      name: 'APIGW.0301 on a 400',
      answer: (res) => res.status(400).json(BAD_AUTH),
      extra: {},
      calls: 3,
      message:
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id',
    },
  ];
  for (const { name, answer, extra, calls, message } of streaks) {
    it(`cools down on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(answer);
        const infos: CooldownInfo[] = [];
        const { c } = client(server, { ...extra, onCooldown: (info) => infos.push(info) });
        for (let i = 0; i < calls; i++) expect((await failureOf(c.listStreams())).code).to.equal('ERR_DIS_HTTP');
        const blocked = await failureOf(c.listStreams());
        expect([blocked.code, blocked.message]).to.deep.equal(['ERR_DIS_COOLDOWN', message]);
        expect(infos.map((i) => i.error.message)).to.deep.equal([message]);
        expect(server.requests).to.have.length(calls);
      });
    });
  }

  it('never cools down with cooldownMs 0, nor counts auth failures with authFailuresBeforeCooldown 0', async () => {
    await withCaptureServer(async (server) => {
      server.answer(
        sequence(
          (res) => res.status(400).json(BLACKLISTED),
          (res) => res.status(400).json(BLACKLISTED),
          (res) => res.status(401).json(BAD_AUTH),
        ),
      );
      const first = client(server, { cooldownMs: 0 });
      const second = client(server, { authFailuresBeforeCooldown: 0 });
      for (let i = 0; i < 2; i++) await failureOf(first.c.listStreams());
      expect(first.c.cooldownUntilMs()).to.equal(undefined);
      for (let i = 0; i < 5; i++) expect((await failureOf(second.c.listStreams())).code).to.equal('ERR_DIS_HTTP');
      expect(second.c.cooldownUntilMs()).to.equal(undefined);
      expect(server.requests).to.have.length(7);
    });
  });

  it('does not send a retry that was waiting when another call started a cool-down', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) =>
        req.originalUrl.endsWith('/a') ? res.status(503).json(SYSTEM_ERROR) : res.status(400).json(BLACKLISTED),
      );
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, retries: 3, random: () => 0.5 });
      const retrying = failureOf(c.getDumpTask('s', 'a'));
      await until(() => clock.sleeping === 1);
      await failureOf(c.getDumpTask('s', 'b'));
      await clock.advance(125);
      const error = await retrying;
      expect(error).to.be.instanceOf(DisCooldownError);
      expect(server.requests.map((s) => s.path.slice(s.path.lastIndexOf('/')))).to.deep.equal(['/a', '/b']);
    });
  });

  it('ends an auth cool-down once the credentials getter returns other credentials (a reload), not a DIS.4309 one', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        if (req.originalUrl.endsWith('/blocked')) res.status(400).json(BLACKLISTED);
        else if (String(req.headers.authorization).includes('Access=AK-new,')) res.json(BODY);
        else res.status(401).json(BAD_AUTH);
      });
      const clock = new ManualClock(NOW);
      let credentials: Credentials = { kind: 'aksk', accessKey: 'AK-old', secretKey: 'SK-secret' };
      const { c } = client(server, { clock, authFailuresBeforeCooldown: 2, credentials: () => credentials });
      for (let i = 0; i < 2; i++) expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_HTTP');
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      // the same credentials in a new object are not new credentials
      credentials = { kind: 'aksk', accessKey: 'AK-old', secretKey: 'SK-secret' };
      expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_COOLDOWN');
      credentials = { kind: 'aksk', accessKey: 'AK-new', secretKey: 'SK-secret' };
      expect((await c.getDumpTask('s', 't')).taskId).to.equal('id1');
      expect(c.cooldownUntilMs()).to.equal(undefined);
      expect(server.requests).to.have.length(3);

      expect((await failureOf(c.getDumpTask('s', 'blocked'))).code).to.equal('ERR_DIS_HTTP');
      credentials = { kind: 'aksk', accessKey: 'AK-newer', secretKey: 'SK-secret' };
      expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_COOLDOWN');
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      expect(server.requests).to.have.length(4);
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

describe('DIS client on APIGW.0303 (clock skew)', () => {
  const cases: ReadonlyArray<[string, string | undefined, string, number | undefined]> = [
    [
      'a host 20 minutes ahead',
      'Sun, 31 Dec 2023 23:40:00 GMT',
      'the host clock is 1200 s ahead of the DIS Date header, off by more than 15 minutes',
      1200,
    ],
    [
      'a host 16 minutes behind',
      'Mon, 01 Jan 2024 00:16:00 GMT',
      'the host clock is 960 s behind the DIS Date header, off by more than 15 minutes',
      -960,
    ],
    [
      'a host only 5 s behind',
      'Mon, 01 Jan 2024 00:00:05 GMT',
      'the host clock is 5 s behind the DIS Date header, yet DIS says it is off by more than 15 minutes',
      -5,
    ],
    ['no Date header', undefined, 'the host clock is off by more than 15 minutes', undefined],
  ];
  for (const [name, date, clockText, skew] of cases) {
    it(`says the host clock is off and to run NTP: ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => {
          if (date === undefined) {
            res.removeHeader('Date');
            res.sendDate = false;
          } else {
            res.set('Date', date);
          }
          res
            .status(401)
            .set('X-Request-Id', 'req-9')
            .json({ error_code: 'APIGW.0303', error_msg: 'Signature expired' });
        });
        const skews: number[] = [];
        const { c } = client(server, { onClockSkew: (s) => skews.push(s) });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisClockSkewError);
        expect(error).to.be.instanceOf(DisHttpError);
        expect([error.code, error.reason]).to.deep.equal(['ERR_DIS_HTTP', 'auth']);
        expect(error.message).to.equal(
          `GET ${TASK_PATH}: HTTP 401 APIGW.0303 (Signature expired) [request id req-9]; ${clockText}; sync it with NTP`,
        );
        expect((error as DisClockSkewError).skewSeconds).to.equal(skew);
        expect(skews).to.deep.equal(skew === undefined ? [] : [skew]);
      });
    });
  }
});

describe('DIS client on other auth failures (clock skew from the Date header or the message)', () => {
  const EXPIRED = 'Incorrect IAM authentication information: calc ak sk signature fail:signature expired';
  const VERIFY_FAILED = 'Incorrect IAM authentication information: verify aksk signature fail';
  const AHEAD_20_MIN = 'Sun, 31 Dec 2023 23:40:00 GMT';
  const cases: ReadonlyArray<{
    name: string;
    status: number;
    /** The JSON body; none: a text body. */
    body?: object;
    /** None: no Date header. */
    date?: string;
    /** What the message says before the clock. */
    head: string;
    /** What it adds about the clock; none: the clock is not blamed. */
    clock?: string;
    skew?: number;
  }> = [
    {
      name: 'a 401 APIGW.0301 "signature expired" from a host 20 minutes ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: AHEAD_20_MIN,
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is 1200 s ahead of the DIS Date header, off by more than 15 minutes',
      skew: 1200,
    },
    {
      name: 'a 401 APIGW.0301 "verify aksk signature fail" from a host 20 minutes behind',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: VERIFY_FAILED },
      date: 'Mon, 01 Jan 2024 00:20:00 GMT',
      head: `HTTP 401 APIGW.0301 (${VERIFY_FAILED})`,
      clock: 'the host clock is 1200 s behind the DIS Date header, off by more than 15 minutes',
      skew: -1200,
    },
    {
      name: 'a bare 401 from a host 5 min 1 s behind',
      status: 401,
      date: 'Mon, 01 Jan 2024 00:05:01 GMT',
      head: 'HTTP 401',
      clock: 'the host clock is 301 s behind the DIS Date header',
      skew: -301,
    },
    {
      name: 'a 401 APIGW.0301 "signature expired" from a host 10 minutes ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: 'Sun, 31 Dec 2023 23:50:00 GMT',
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is 600 s ahead of the DIS Date header, yet DIS says it is off by more than 15 minutes',
      skew: 600,
    },
    {
      name: 'APIGW.0301 "signature expired" on a 400 without a Date header',
      status: 400,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      head: `HTTP 400 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is off by more than 15 minutes',
    },
    {
      name: 'a 401 APIGW.0301 from a host exactly 5 minutes ahead',
      status: 401,
      body: BAD_AUTH,
      date: 'Sun, 31 Dec 2023 23:55:00 GMT',
      head: `HTTP 401 APIGW.0301 (${BAD_AUTH.error_msg})`,
    },
    {
      // A temporary AK/SK past its expiry gets "signature expired" too; a Date header close to the host clears the clock.
      name: 'a 401 APIGW.0301 "signature expired" from a host 30 s ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: 'Sun, 31 Dec 2023 23:59:30 GMT',
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
    },
    {
      name: 'a 403 DIS.4116 from a host 20 minutes ahead (the signature passed)',
      status: 403,
      body: { errorCode: 'DIS.4116', message: 'Invalid RBAC.' },
      date: AHEAD_20_MIN,
      head: 'HTTP 403 DIS.4116 (Invalid RBAC.)',
    },
  ];
  for (const { name, status, body, date, head, clock, skew } of cases) {
    it(`${clock === undefined ? 'leaves' : 'blames'} the host clock on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => {
          if (date === undefined) {
            res.removeHeader('Date');
            res.sendDate = false;
          } else {
            res.set('Date', date);
          }
          res.status(status).set('X-Request-Id', 'req-9');
          if (body === undefined) res.type('text').send('Unauthorized');
          else res.json(body);
        });
        const skews: number[] = [];
        const { c } = client(server, { onClockSkew: (s) => skews.push(s) });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error instanceof DisClockSkewError).to.equal(clock !== undefined);
        expect(error.reason).to.equal('auth');
        const message = `GET ${TASK_PATH}: ${head} [request id req-9]`;
        expect(error.message).to.equal(clock === undefined ? message : `${message}; ${clock}; sync it with NTP`);
        expect(skews).to.deep.equal(skew === undefined ? [] : [skew]);
      });
    });
  }

  it('leaves the clock out of a 401 to a request that carried an IAM token, whatever the Date header', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        if (req.method === 'POST') {
          const token = { issued_at: '2024-01-01T00:00:00.000000Z', expires_at: '2024-01-02T00:00:00.000000Z' };
          res.status(201).set('X-Subject-Token', 'token-1').json({ token });
        } else {
          res.set('Date', AHEAD_20_MIN).status(401).set('X-Request-Id', 'req-9').json(BAD_AUTH);
        }
      });
      const skews: number[] = [];
      const { c } = client(server, { credentials: iamUser(server.url), onClockSkew: (s) => skews.push(s) });
      const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(error).not.to.be.instanceOf(DisClockSkewError);
      expect(error.message).to.equal(
        `GET ${TASK_PATH}: HTTP 401 APIGW.0301 (Incorrect IAM authentication information) [request id req-9]`,
      );
      expect(skews).to.deep.equal([]);
    });
  });
});

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

describe('DIS client rate limit', () => {
  it('spaces the requests of concurrent calls to maxRequestsPerSecond on the injected clock', async () => {
    await withCaptureServer(async (server) => {
      server.answer(ok);
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 2, rateLimitBurst: 1 });
      const calls = [1, 2, 3].map(() => c.getDumpTask('my-stream', 'my_task'));
      await until(() => server.requests.length === 1 && clock.sleeping === 2);
      expect(clock.nextWake).to.equal(NOW + 500);
      await clock.advance(499);
      expect(server.requests).to.have.length(1);
      await clock.advance(1);
      await until(() => server.requests.length === 2);
      await clock.advance(500);
      await Promise.all(calls);
      expect(server.requests).to.have.length(3);
    });
  });

  it('takes a token for every retry too', async () => {
    await withCaptureServer(async (server) => {
      server.answer(sequence((res) => res.status(503).json(SYSTEM_ERROR), ok));
      const clock = new ManualClock(NOW);
      const { c, events } = client(server, {
        clock,
        retries: 1,
        random: () => 0,
        maxRequestsPerSecond: 4,
        rateLimitBurst: 1,
      });
      const pending = c.getDumpTask('my-stream', 'my_task');
      // a back-off of 0 ms, then 250 ms for the next token
      await until(() => clock.sleeping === 1);
      expect(clock.nextWake).to.equal(NOW + 250);
      await clock.advance(250);
      await pending;
      expect(events.map((e) => e.code)).to.deep.equal(['503', '200']);
    });
  });

  it('sends nothing for a call that got its token after another call started a cool-down', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.status(400).json(BLACKLISTED));
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 2, rateLimitBurst: 1 });
      const first = failureOf(c.listStreams());
      const waiting = failureOf(c.getStream('s'));
      await until(() => clock.sleeping === 1);
      expect((await first).code).to.equal('ERR_DIS_HTTP');
      await clock.advance(500);
      expect((await waiting).code).to.equal('ERR_DIS_COOLDOWN');
      expect(server.requests).to.have.length(1);
    });
  });

  it('gives up waiting for a token when the signal aborts, sending nothing', async () => {
    await withCaptureServer(async (server) => {
      server.answer(ok);
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 1, rateLimitBurst: 1 });
      await c.getDumpTask('my-stream', 'my_task');
      const controller = new AbortController();
      const pending = c.getDumpTask('my-stream', 'my_task', controller.signal).then(
        () => expect.fail('should have failed'),
        (e: unknown) => e as Error,
      );
      await until(() => clock.sleeping === 1);
      controller.abort(new Error('cycle over'));
      expect((await pending).message).to.equal('cycle over');
      expect(server.requests).to.have.length(1);
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
