import { expect } from 'chai';
import type express from 'express';
import type { DisClient } from '../../src/dis/client.js';
import { DisHttpError, DisResponseError } from '../../src/dis/errors.js';
import { MAX_PAGES } from '../../src/dis/paging.js';
import { PID, NOW, BODY, withCaptureServer, client } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';

/** The stream names, or the partition ids, of a page as the server would list them. */
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(10, '0')}`);

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
