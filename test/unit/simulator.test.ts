import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import got, { RequestError } from 'got';
import type { Clock } from '../../src/clock.js';
import { signRequest } from '../../src/dis/signer.js';
import { bundledScenarioPath, loadScenario, parseScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import type { FakeDis, Scenario, StreamSpecInput, TaskSpecInput } from '../../src/simulator/fake-dis.js';

const T0 = 1_700_000_000_000;
const PROJECT = 'aaaabbbbccccddddeeeeffff00001111';
const CREDS = { accessKey: 'TESTACCESSKEY', secretKey: 'test-secret-key' };
const BASE = `/v2/${PROJECT}`;

/** A clock the test moves by hand; `sleep` records the wait and returns at once, so latency is asserted exactly. */
class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return Promise.resolve();
  }
}

const SCENARIO_DATA = {
  projectId: PROJECT,
  credentials: [CREDS],
  epochMs: T0,
  streams: [
    {
      name: 's1',
      id: 'S1ID',
      createdMsAgo: 3_600_000,
      partitions: [
        { initialRecords: 1000, recordsPerSecond: 10 },
        { startOffset: 50, initialRecords: 500, recordsPerSecond: 2.5 },
        { initialRecords: 7, status: 'EXPIRED' },
      ],
      tasks: [
        {
          name: 'to-obs',
          id: 'OBSID',
          destinationType: 'OBS',
          createdMsAgo: 600_000,
          destination: { obs_bucket_path: 'bucket', deliver_time_interval: 60 },
          partitions: { 'shardId-0000000001': { discard: 3, discardPerSecond: 0.5, behindRecords: 20 } },
        },
        {
          name: 'to-dws',
          id: 'DWSID',
          destinationType: 'DWS',
          state: 'PAUSED',
          stateSinceMsAgo: 30_000,
          createdMsAgo: 600_000,
          destination: { dws_cluster_name: 'c1', deliver_time_interval: 60 },
        },
        {
          name: 'fresh',
          id: 'FRESHID',
          destinationType: 'DLI',
          createdMsAgo: 10_000,
          destination: { dli_database_name: 'db', dli_table_name: 't' },
        },
      ],
    },
    {
      name: 'z-stream',
      id: 'ZID',
      partitions: [{ initialRecords: 100, recordsPerSecond: 1 }],
      tasks: [
        {
          name: 'to-mrs',
          id: 'MRSID',
          destinationType: 'MRS',
          destination: { mrs_cluster_name: 'm' },
          partitions: { 'shardId-0000000000': { stalled: true } },
        },
        {
          name: 'to-ct',
          id: 'CTID',
          destinationType: 'CLOUDTABLE',
          correctSpelling: true,
          destination: { cloudtable_cluster_name: 'ct' },
        },
        {
          name: 'to-dws-ok',
          id: 'DWSOKID',
          destinationType: 'DWS',
          correctSpelling: true,
          destination: { user_password: 'given' },
        },
      ],
    },
    { name: 'a-stream', id: 'AID', partitions: [{}] },
  ],
};

type Reply = {
  status: number;
  body: unknown;
  text: string;
  requestId: string | undefined;
  headers: IncomingHttpHeaders;
};

describe('simulator (fake DIS)', () => {
  const servers: FakeDis[] = [];
  let clock: ManualClock;
  let dis: FakeDis;

  async function start(data: object = SCENARIO_DATA, extra: { credentials?: (typeof CREDS)[] } = {}): Promise<FakeDis> {
    const server = await startFakeDis({ scenario: parseScenario(data), clock, ...extra });
    servers.push(server);
    return server;
  }

  /** A signed GET dated `signedAtMs` (default: the fake's clock); `headers` replaces the default X-Project-Id. */
  async function get(
    path: string,
    options: {
      server?: FakeDis;
      credentials?: typeof CREDS;
      signedAtMs?: number;
      headers?: Record<string, string>;
      sign?: boolean;
    } = {},
  ): Promise<Reply> {
    const url = new URL(`${(options.server ?? dis).url}${path}`);
    const headers = options.headers ?? { 'X-Project-Id': PROJECT };
    const signed =
      options.sign === false
        ? {}
        : signRequest({ method: 'GET', url, headers }, options.credentials ?? CREDS, options.signedAtMs ?? clock.now());
    const response = await got(url, {
      headers: { ...headers, ...signed },
      throwHttpErrors: false,
      retry: { limit: 0 },
    });
    const requestId = response.headers['x-request-id'];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    return {
      status: response.statusCode,
      body,
      text: response.body,
      requestId: typeof requestId === 'string' ? requestId : undefined,
      headers: response.headers,
    };
  }

  function rid(n: number): string {
    return n.toString(16).padStart(32, '0');
  }

  beforeEach(async () => {
    clock = new ManualClock(T0);
    dis = await start();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  describe('list streams', () => {
    it('returns every stream, sorted by name, with the real fields', async () => {
      const reply = await get(`${BASE}/streams`);
      expect(reply.status).to.equal(200);
      const info = (id: string, name: string, createTime: number, partitionCount: number): object => ({
        stream_id: id,
        stream_name: name,
        create_time: createTime,
        retention_period: 24,
        status: 'RUNNING',
        stream_type: 'COMMON',
        data_type: 'BLOB',
        partition_count: partitionCount,
        auto_scale_enabled: false,
        tags: [],
        sys_tags: [],
      });
      expect(reply.body).to.deep.equal({
        total_number: 3,
        stream_names: ['a-stream', 's1', 'z-stream'],
        has_more_streams: false,
        stream_info_list: [
          info('AID', 'a-stream', T0 - 604_800_000, 1),
          info('S1ID', 's1', T0 - 3_600_000, 2),
          info('ZID', 'z-stream', T0 - 604_800_000, 1),
        ],
      });
      expect(reply.requestId).to.equal(rid(1));
    });

    it('pages with limit and an exclusive start_stream_name', async () => {
      const page = async (query: string): Promise<unknown> => {
        const body = (await get(`${BASE}/streams?${query}`)).body as Record<string, unknown>;
        return { names: body['stream_names'], more: body['has_more_streams'], total: body['total_number'] };
      };
      expect(await page('limit=1')).to.deep.equal({ names: ['a-stream'], more: true, total: 3 });
      expect(await page('limit=1&start_stream_name=a-stream')).to.deep.equal({ names: ['s1'], more: true, total: 3 });
      expect(await page('limit=1&start_stream_name=s1')).to.deep.equal({ names: ['z-stream'], more: false, total: 3 });
      expect(await page('limit=2&start_stream_name=b')).to.deep.equal({
        names: ['s1', 'z-stream'],
        more: false,
        total: 3,
      });
      expect(await page('start_stream_name=z-stream')).to.deep.equal({ names: [], more: false, total: 3 });
    });

    it('rejects a limit outside 1-100 with DIS.4200', async () => {
      for (const [query, n] of [
        ['limit=0', 1],
        ['limit=101', 2],
        ['limit=ten', 3],
      ] as const) {
        const reply = await get(`${BASE}/streams?${query}`);
        expect(reply.status).to.equal(400);
        expect(reply.body).to.deep.equal({
          errorCode: 'DIS.4200',
          message: `Invalid request. [limit must be an integer from 1 to 100][${rid(n)}]`,
        });
      }
    });
  });

  describe('stream details', () => {
    it('returns partitions with snake_case ids, hash ranges and "[start : end]" ranges (null when EXPIRED)', async () => {
      clock.t = T0 + 12_345;
      const reply = await get(`${BASE}/streams/s1`);
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal({
        stream_id: 'S1ID',
        stream_name: 's1',
        create_time: T0 - 3_600_000,
        last_modified_time: T0 - 3_600_000,
        retention_period: 24,
        status: 'RUNNING',
        stream_type: 'COMMON',
        data_type: 'BLOB',
        writable_partition_count: 2,
        readable_partition_count: 2,
        auto_scale_enabled: false,
        tags: [],
        sys_tags: [],
        partitions: [
          {
            partition_id: 'shardId-0000000000',
            status: 'ACTIVE',
            hash_range: '[0 : 3074457345618258601]',
            sequence_number_range: '[0 : 1123]',
          },
          {
            partition_id: 'shardId-0000000001',
            status: 'ACTIVE',
            hash_range: '[3074457345618258602 : 6148914691236517203]',
            sequence_number_range: '[50 : 530]',
          },
          {
            partition_id: 'shardId-0000000002',
            status: 'EXPIRED',
            hash_range: '[6148914691236517204 : 9223372036854775807]',
            sequence_number_range: null,
          },
        ],
        has_more_partitions: false,
      });
    });

    it('pages partitions with limit_partitions and an exclusive start_partitionId', async () => {
      const page = async (query: string): Promise<unknown> => {
        const body = (await get(`${BASE}/streams/s1?${query}`)).body as {
          partitions: { partition_id: string }[];
          has_more_partitions: boolean;
        };
        return { ids: body.partitions.map((p) => p.partition_id), more: body.has_more_partitions };
      };
      expect(await page('limit_partitions=2')).to.deep.equal({
        ids: ['shardId-0000000000', 'shardId-0000000001'],
        more: true,
      });
      expect(await page('limit_partitions=2&start_partitionId=shardId-0000000001')).to.deep.equal({
        ids: ['shardId-0000000002'],
        more: false,
      });
      expect(await page('start_partitionId=shardId-0000000000&limit_partitions=1')).to.deep.equal({
        ids: ['shardId-0000000001'],
        more: true,
      });
      expect(await page('start_partitionId=')).to.deep.equal({
        ids: ['shardId-0000000000', 'shardId-0000000001', 'shardId-0000000002'],
        more: false,
      });
      const bad = await get(`${BASE}/streams/s1?limit_partitions=1001`);
      expect(bad.status).to.equal(400);
      expect(bad.body).to.deep.equal({
        errorCode: 'DIS.4200',
        message: `Invalid request. [limit_partitions must be an integer from 1 to 1000][${rid(5)}]`,
      });
    });

    it('grows end offsets with clock time', async () => {
      const ranges = async (): Promise<unknown> =>
        (
          (await get(`${BASE}/streams/s1`)).body as { partitions: { sequence_number_range: string | null }[] }
        ).partitions.map((p) => p.sequence_number_range);
      expect(await ranges()).to.deep.equal(['[0 : 1000]', '[50 : 500]', null]);
      clock.t = T0 + 1_999;
      expect(await ranges()).to.deep.equal(['[0 : 1019]', '[50 : 504]', null]);
      clock.t = T0 + 3_600_000;
      expect(await ranges()).to.deep.equal(['[0 : 37000]', '[50 : 9500]', null]);
    });

    it('answers a missing stream with 400 DIS.4301', async () => {
      const reply = await get(`${BASE}/streams/nope`);
      expect(reply.status).to.equal(400);
      expect(reply.body).to.deep.equal({ errorCode: 'DIS.4301', message: `Stream does not exist. [nope][${rid(1)}]` });
    });
  });

  describe('paging at scale (docs/dis-api.md, "Querying Streams" and "Paging partitions")', () => {
    const pad = (n: number, width: number): string => String(n).padStart(width, '0');

    it('pages 250 streams with limit (1-100, default 10), an exclusive start_stream_name and has_more_streams', async () => {
      const names = Array.from({ length: 250 }, (_, i) => `stream-${pad(i, 3)}`);
      // Given out of order: the listing sorts by name.
      const streams = [...names].reverse().map((name) => ({ name, id: `ID${name}`, partitions: [{}] }));
      const server = await start({ projectId: PROJECT, credentials: [CREDS], epochMs: T0, streams });
      const page = async (query: string): Promise<{ names: string[]; more: boolean; total: number }> => {
        const body = (await get(`${BASE}/streams?${query}`, { server })).body as {
          total_number: number;
          stream_names: string[];
          has_more_streams: boolean;
          stream_info_list: { stream_name: string }[];
        };
        expect(body.stream_info_list.map((info) => info.stream_name)).to.deep.equal(body.stream_names);
        return { names: body.stream_names, more: body.has_more_streams, total: body.total_number };
      };
      expect(await page('')).to.deep.equal({ names: names.slice(0, 10), more: true, total: 250 });
      const seen: string[] = [];
      const mores: boolean[] = [];
      let after: string | undefined;
      for (;;) {
        const result = await page(`limit=100${after === undefined ? '' : `&start_stream_name=${after}`}`);
        seen.push(...result.names);
        mores.push(result.more);
        expect(result.total).to.equal(250);
        if (!result.more) break;
        after = result.names.at(-1);
      }
      expect(mores).to.deep.equal([true, true, false]);
      expect(seen).to.deep.equal(names);
      // A page that ends exactly at the last stream says there is no more.
      expect(await page('limit=100&start_stream_name=stream-149')).to.deep.equal({
        names: names.slice(150),
        more: false,
        total: 250,
      });
      expect(await page('limit=50&start_stream_name=stream-199')).to.deep.equal({
        names: names.slice(200),
        more: false,
        total: 250,
      });
      expect(await page('limit=1&start_stream_name=stream-248')).to.deep.equal({
        names: ['stream-249'],
        more: false,
        total: 250,
      });
      expect(await page('limit=100&start_stream_name=stream-249')).to.deep.equal({
        names: [],
        more: false,
        total: 250,
      });
      // The start need not be a stream name: listing resumes after it.
      expect(await page('limit=2&start_stream_name=stream-0995')).to.deep.equal({
        names: ['stream-100', 'stream-101'],
        more: true,
        total: 250,
      });
    });

    it('pages 2500 partitions with limit_partitions (1-1000, default 100), an exclusive start_partitionId and has_more_partitions', async () => {
      const partitions = Array.from({ length: 2500 }, (_, i) => ({ initialRecords: i, recordsPerSecond: 1 }));
      const server = await start({
        projectId: PROJECT,
        credentials: [CREDS],
        epochMs: T0,
        streams: [{ name: 'wide', partitions }],
      });
      clock.t = T0 + 10_000;
      type Part = { partition_id: string; status: string; hash_range: string; sequence_number_range: string };
      const page = async (query: string): Promise<{ parts: Part[]; more: boolean; counts: number[] }> => {
        const body = (await get(`${BASE}/streams/wide?${query}`, { server })).body as {
          partitions: Part[];
          has_more_partitions: boolean;
          writable_partition_count: number;
          readable_partition_count: number;
        };
        return {
          parts: body.partitions,
          more: body.has_more_partitions,
          counts: [body.writable_partition_count, body.readable_partition_count],
        };
      };
      const id = (i: number): string => `shardId-${pad(i, 10)}`;
      const first = await page('');
      expect([
        first.parts.length,
        first.parts[0]?.partition_id,
        first.parts.at(-1)?.partition_id,
        first.more,
      ]).to.deep.equal([100, id(0), id(99), true]);
      const ids: string[] = [];
      const shape: unknown[] = [];
      let after = '';
      for (;;) {
        const result = await page(`limit_partitions=1000&start_partitionId=${after}`);
        ids.push(...result.parts.map((p) => p.partition_id));
        shape.push([result.parts.length, result.more, result.counts]);
        if (!result.more) break;
        after = result.parts.at(-1)?.partition_id ?? '';
      }
      expect(shape).to.deep.equal([
        [1000, true, [2500, 2500]],
        [1000, true, [2500, 2500]],
        [500, false, [2500, 2500]],
      ]);
      expect(ids).to.deep.equal(Array.from({ length: 2500 }, (_, i) => id(i)));
      // Exactly 1000 left: a full page with has_more_partitions false.
      const tail = await page(`start_partitionId=${id(1499)}&limit_partitions=1000`);
      expect([tail.parts.length, tail.parts[0]?.partition_id, tail.more]).to.deep.equal([1000, id(1500), false]);
      expect(tail.parts.at(-1)).to.deep.equal({
        partition_id: id(2499),
        status: 'ACTIVE',
        hash_range: '[9219682688040033090 : 9223372036854775807]',
        sequence_number_range: '[0 : 2509]',
      });
      const one = await page(`start_partitionId=${id(0)}&limit_partitions=1`);
      expect([one.parts, one.more]).to.deep.equal([
        [
          {
            partition_id: id(1),
            status: 'ACTIVE',
            hash_range: '[3689348814741910 : 7378697629483819]',
            sequence_number_range: '[0 : 11]',
          },
        ],
        true,
      ]);
      expect((await page(`start_partitionId=${id(2499)}`)).parts).to.deep.equal([]);
      const bad = await get(`${BASE}/streams/wide?limit_partitions=0`, { server });
      expect([bad.status, (bad.body as { errorCode: string }).errorCode]).to.deep.equal([400, 'DIS.4200']);
    });
  });

  describe('list dump tasks', () => {
    it('returns task-level fields only, with last_transfer_timestamp 0 for a task that has not delivered yet', async () => {
      clock.t = T0 + 30_000;
      const reply = await get(`${BASE}/streams/s1/transfer-tasks`);
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal({
        total_number: 3,
        tasks: [
          {
            task_name: 'to-obs',
            task_id: 'OBSID',
            state: 'RUNNING',
            destination_type: 'OBS',
            create_time: T0 - 600_000,
            last_transfer_timestamp: T0,
          },
          {
            task_name: 'to-dws',
            task_id: 'DWSID',
            state: 'PAUSED',
            destination_type: 'DWS',
            create_time: T0 - 600_000,
            last_transfer_timestamp: T0 - 60_000,
          },
          {
            task_name: 'fresh',
            task_id: 'FRESHID',
            state: 'RUNNING',
            destination_type: 'DLI',
            create_time: T0 - 10_000,
            last_transfer_timestamp: 0,
          },
        ],
      });
    });

    it('answers a missing stream with 400 DIS.4301', async () => {
      const reply = await get(`${BASE}/streams/nope/transfer-tasks`);
      expect(reply.body).to.deep.equal({ errorCode: 'DIS.4301', message: `Stream does not exist. [nope][${rid(1)}]` });
    });
  });

  describe('dump task details', () => {
    it('returns the real wire shape: camelCase partitionId, discard, state, offsets and the destination description', async () => {
      clock.t = T0 + 30_000;
      const reply = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect(reply.status).to.equal(200);
      expect(reply.text.startsWith('{"stream_id":"S1ID","stream_name":"s1","task_name":"to-obs"')).to.equal(true);
      expect(reply.body).to.deep.equal({
        stream_id: 'S1ID',
        stream_name: 's1',
        task_name: 'to-obs',
        task_id: 'OBSID',
        destination_type: 'OBS',
        state: 'RUNNING',
        create_time: T0 - 600_000,
        last_transfer_timestamp: T0,
        obs_destination_description: { obs_bucket_path: 'bucket', deliver_time_interval: 60 },
        partitions: [
          {
            partitionId: 'shardId-0000000000',
            discard: 0,
            state: 'RUNNING',
            last_transfer_timestamp: T0,
            last_transfer_offset: 1000,
          },
          {
            partitionId: 'shardId-0000000001',
            discard: 18,
            state: 'RUNNING',
            last_transfer_timestamp: T0,
            last_transfer_offset: 480,
          },
          {
            partitionId: 'shardId-0000000002',
            discard: 0,
            state: 'RUNNING',
            last_transfer_timestamp: T0,
            last_transfer_offset: 7,
          },
        ],
      });
    });

    it('advances offsets, timestamps and discards at each delivery boundary', async () => {
      const progress = async (): Promise<unknown> => {
        const body = (await get(`${BASE}/streams/s1/transfer-tasks/to-obs`)).body as {
          last_transfer_timestamp: number;
          partitions: { last_transfer_offset: number; last_transfer_timestamp: number; discard: number }[];
        };
        return [
          body.last_transfer_timestamp,
          ...body.partitions.map((p) => [p.last_transfer_offset, p.last_transfer_timestamp, p.discard]),
        ];
      };
      clock.t = T0 + 59_999;
      expect(await progress()).to.deep.equal([T0, [1000, T0, 0], [480, T0, 32], [7, T0, 0]]);
      clock.t = T0 + 60_000;
      expect(await progress()).to.deep.equal([
        T0 + 60_000,
        [1600, T0 + 60_000, 0],
        [630, T0 + 60_000, 33],
        [7, T0 + 60_000, 0],
      ]);
      clock.t = T0 + 125_000;
      expect(await progress()).to.deep.equal([
        T0 + 120_000,
        [2200, T0 + 120_000, 0],
        [780, T0 + 120_000, 65],
        [7, T0 + 120_000, 0],
      ]);
    });

    it('shows a task PAUSED before time zero frozen at its last delivery before the pause', async () => {
      clock.t = T0 + 600_000;
      const reply = await get(`${BASE}/streams/s1/transfer-tasks/to-dws`);
      expect(reply.body).to.deep.equal({
        stream_id: 'S1ID',
        stream_name: 's1',
        task_name: 'to-dws',
        task_id: 'DWSID',
        destination_type: 'DWS',
        state: 'PAUSED',
        create_time: T0 - 600_000,
        last_transfer_timestamp: T0 - 60_000,
        dws_destination_descripton: {
          dws_cluster_name: 'c1',
          deliver_time_interval: 60,
          user_password: 'simulated-dws-password-must-never-leak',
        },
        partitions: [
          {
            partitionId: 'shardId-0000000000',
            discard: 0,
            state: 'PAUSED',
            last_transfer_timestamp: T0 - 60_000,
            last_transfer_offset: 400,
          },
          {
            partitionId: 'shardId-0000000001',
            discard: 0,
            state: 'PAUSED',
            last_transfer_timestamp: T0 - 60_000,
            last_transfer_offset: 350,
          },
          {
            partitionId: 'shardId-0000000002',
            discard: 0,
            state: 'PAUSED',
            last_transfer_timestamp: T0 - 60_000,
            last_transfer_offset: 7,
          },
        ],
      });
    });

    it('reports 0 offsets and timestamps before a new task first delivers, then the boundary values', async () => {
      clock.t = T0 + 49_999;
      const before = (await get(`${BASE}/streams/s1/transfer-tasks/fresh`)).body as Record<string, unknown>;
      expect(before['last_transfer_timestamp']).to.equal(0);
      expect(before['dli_destination_description']).to.deep.equal({ dli_database_name: 'db', dli_table_name: 't' });
      expect(before['partitions']).to.deep.equal([
        {
          partitionId: 'shardId-0000000000',
          discard: 0,
          state: 'RUNNING',
          last_transfer_timestamp: 0,
          last_transfer_offset: 0,
        },
        {
          partitionId: 'shardId-0000000001',
          discard: 0,
          state: 'RUNNING',
          last_transfer_timestamp: 0,
          last_transfer_offset: 0,
        },
        {
          partitionId: 'shardId-0000000002',
          discard: 0,
          state: 'RUNNING',
          last_transfer_timestamp: 0,
          last_transfer_offset: 0,
        },
      ]);
      clock.t = T0 + 50_000;
      const after = (await get(`${BASE}/streams/s1/transfer-tasks/fresh`)).body as { partitions: unknown[] };
      expect(after.partitions[0]).to.deep.equal({
        partitionId: 'shardId-0000000000',
        discard: 0,
        state: 'RUNNING',
        last_transfer_timestamp: T0 + 50_000,
        last_transfer_offset: 1500,
      });
    });

    it('keeps a stalled partition at its last delivery before time zero', async () => {
      clock.t = T0 + 300_000;
      const body = (await get(`${BASE}/streams/z-stream/transfer-tasks/to-mrs`)).body as Record<string, unknown>;
      expect(body['state']).to.equal('RUNNING');
      expect(body['last_transfer_timestamp']).to.equal(T0 - 60_000);
      expect(body['mrs_destination_description']).to.deep.equal({ mrs_cluster_name: 'm' });
      expect(body['partitions']).to.deep.equal([
        {
          partitionId: 'shardId-0000000000',
          discard: 0,
          state: 'RUNNING',
          last_transfer_timestamp: T0 - 60_000,
          last_transfer_offset: 40,
        },
      ]);
    });

    it('spells the DWS/CloudTable description key correctly when the task asks for it, keeping a given password', async () => {
      const ct = (await get(`${BASE}/streams/z-stream/transfer-tasks/to-ct`)).body as Record<string, unknown>;
      expect(ct['cloudtable_destination_description']).to.deep.equal({ cloudtable_cluster_name: 'ct' });
      expect(ct).to.not.have.property('cloudtable_destination_descripton');
      const dws = (await get(`${BASE}/streams/z-stream/transfer-tasks/to-dws-ok`)).body as Record<string, unknown>;
      expect(dws['dws_destination_description']).to.deep.equal({ user_password: 'given' });
      expect(dws).to.not.have.property('dws_destination_descripton');
    });

    it('answers a missing task with 400 DIS.4354 and a missing stream with 400 DIS.4301', async () => {
      const task = await get(`${BASE}/streams/s1/transfer-tasks/nope`);
      expect(task.status).to.equal(400);
      expect(task.body).to.deep.equal({
        errorCode: 'DIS.4354',
        message: `The transfer task does not exist. [nope][${rid(1)}]`,
      });
      const stream = await get(`${BASE}/streams/nope/transfer-tasks/to-obs`);
      expect(stream.body).to.deep.equal({ errorCode: 'DIS.4301', message: `Stream does not exist. [nope][${rid(2)}]` });
    });
  });

  describe('control', () => {
    const offsets = async (stream: string, task: string): Promise<unknown> => {
      const body = (await get(`${BASE}/streams/${stream}/transfer-tasks/${task}`)).body as {
        state: string;
        partitions: { state: string; last_transfer_offset: number; last_transfer_timestamp: number; discard: number }[];
      };
      return [
        body.state,
        ...body.partitions.map((p) => [p.state, p.last_transfer_offset, p.last_transfer_timestamp, p.discard]),
      ];
    };

    it('setTaskState ABNORMAL freezes progress and discards from that moment; RUNNING catches up at the next boundary', async () => {
      clock.t = T0 + 90_000;
      dis.control.setTaskState('s1', 'to-obs', 'ABNORMAL');
      clock.t = T0 + 300_000;
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'ABNORMAL',
        ['ABNORMAL', 1600, T0 + 60_000, 0],
        ['ABNORMAL', 630, T0 + 60_000, 48],
        ['ABNORMAL', 7, T0 + 60_000, 0],
      ]);
      clock.t = T0 + 310_000;
      dis.control.setTaskState('s1', 'to-obs', 'RUNNING');
      clock.t = T0 + 359_999;
      // Discards resume too: 90 s running before the freeze + 49.999 s after it.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 1600, T0 + 60_000, 0],
        ['RUNNING', 630, T0 + 60_000, 72],
        ['RUNNING', 7, T0 + 60_000, 0],
      ]);
      clock.t = T0 + 360_000;
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 4600, T0 + 360_000, 0],
        ['RUNNING', 1380, T0 + 360_000, 73],
        ['RUNNING', 7, T0 + 360_000, 0],
      ]);
    });

    it('setPartitionState freezes only that partition', async () => {
      clock.t = T0 + 10_000;
      dis.control.setPartitionState('s1', 'to-obs', 'shardId-0000000000', 'ABNORMAL');
      clock.t = T0 + 120_000;
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['ABNORMAL', 1000, T0, 0],
        ['RUNNING', 780, T0 + 120_000, 63],
        ['RUNNING', 7, T0 + 120_000, 0],
      ]);
    });

    it('deleteTask makes details answer 400 DIS.4354 and drops the task from the list', async () => {
      dis.control.deleteTask('s1', 'to-obs');
      const reply = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect(reply.status).to.equal(400);
      expect(reply.body).to.deep.equal({
        errorCode: 'DIS.4354',
        message: `The transfer task does not exist. [to-obs][${rid(1)}]`,
      });
      const list = (await get(`${BASE}/streams/s1/transfer-tasks`)).body as {
        total_number: number;
        tasks: { task_name: string }[];
      };
      expect(list.total_number).to.equal(2);
      expect(list.tasks.map((t) => t.task_name)).to.deep.equal(['to-dws', 'fresh']);
    });

    it('deleteStream makes every stream endpoint answer 400 DIS.4301 and drops it from the list', async () => {
      dis.control.deleteStream('s1');
      for (const [path, n] of [
        ['/streams/s1', 1],
        ['/streams/s1/transfer-tasks', 2],
        ['/streams/s1/transfer-tasks/to-obs', 3],
      ] as const) {
        const reply = await get(`${BASE}${path}`);
        expect(reply.status).to.equal(400);
        expect(reply.body).to.deep.equal({ errorCode: 'DIS.4301', message: `Stream does not exist. [s1][${rid(n)}]` });
      }
      const list = (await get(`${BASE}/streams`)).body as { total_number: number; stream_names: string[] };
      expect([list.total_number, list.stream_names]).to.deep.equal([2, ['a-stream', 'z-stream']]);
    });

    it('rejects changes to things that do not exist now, and bad numbers, changing nothing', async () => {
      const rejects = (change: () => void, message: string): void => {
        let caught: unknown;
        try {
          change();
        } catch (error) {
          caught = error;
        }
        expect((caught as Error | undefined)?.message).to.equal(message);
      };
      const p0 = 'shardId-0000000000';
      rejects(() => dis.control.setTaskState('s1', 'nope', 'RUNNING'), 'no task "nope" in stream "s1"');
      rejects(() => dis.control.deleteStream('nope'), 'no stream "nope"');
      rejects(
        () => dis.control.setPartitionState('s1', 'to-obs', 'shardId-0000000009', 'ABNORMAL'),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      rejects(() => dis.control.addTask('nope', { name: 't', destinationType: 'OBS' }), 'no stream "nope"');
      rejects(() => dis.control.rewindPartition('s1', 'nope', p0, 1), 'no task "nope" in stream "s1"');
      rejects(() => dis.control.rewindPartition('s1', 'to-obs', p0, 0), 'records: must be an integer >= 1');
      rejects(() => dis.control.rewindPartition('s1', 'to-obs', p0, 1.5), 'records: must be an integer >= 1');
      rejects(() => dis.control.setPartitionBehind('s1', 'to-obs', p0, -1), 'behindRecords: must be an integer >= 0');
      rejects(
        () => dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000009', 1),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      rejects(() => dis.control.setRecordsPerSecond('s1', p0, -1), 'recordsPerSecond: must be a number >= 0');
      rejects(() => dis.control.setRecordsPerSecond('s1', p0, Number.NaN), 'recordsPerSecond: must be a number >= 0');
      rejects(() => dis.control.setRecordsPerSecond('nope', p0, 1), 'no stream "nope"');
      rejects(
        () => dis.control.expirePartition('s1', 'shardId-0000000009'),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      dis.control.deleteTask('s1', 'to-obs');
      rejects(() => dis.control.setTaskState('s1', 'to-obs', 'RUNNING'), 'no task "to-obs" in stream "s1"');
      dis.control.deleteStream('z-stream');
      rejects(() => dis.control.expirePartition('z-stream', p0), 'no stream "z-stream"');
      clock.t = T0 + 120_000;
      const ranges = (await get(`${BASE}/streams/s1`)).body as { partitions: { sequence_number_range: unknown }[] };
      expect(ranges.partitions.map((p) => p.sequence_number_range)).to.deep.equal(['[0 : 2200]', '[50 : 800]', null]);
    });

    describe('addTask', () => {
      const list = async (): Promise<unknown> => (await get(`${BASE}/streams/s1/transfer-tasks`)).body;
      const late: TaskSpecInput = {
        name: 'late',
        id: 'LATEID',
        destinationType: 'OBS',
        destination: { obs_bucket_path: 'late-bucket', deliver_time_interval: 60 },
        partitions: { 'shardId-0000000000': { behindRecords: 100 } },
      };

      it('adds a task created now: listed from now on, 0 offsets until its first delivery one interval later', async () => {
        clock.t = T0 + 30_000;
        dis.control.addTask('s1', late);
        const summary = {
          task_name: 'late',
          task_id: 'LATEID',
          state: 'RUNNING',
          destination_type: 'OBS',
          create_time: T0 + 30_000,
          last_transfer_timestamp: 0,
        };
        const listed = (await list()) as { total_number: number; tasks: { task_name: string }[] };
        expect(listed.total_number).to.equal(4);
        expect(listed.tasks.map((t) => t.task_name)).to.deep.equal(['to-obs', 'to-dws', 'fresh', 'late']);
        expect(listed.tasks[3]).to.deep.equal(summary);
        clock.t = T0 + 89_999;
        expect(await offsets('s1', 'late')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 0, 0, 0],
          ['RUNNING', 0, 0, 0],
          ['RUNNING', 0, 0, 0],
        ]);
        clock.t = T0 + 90_000;
        const details = (await get(`${BASE}/streams/s1/transfer-tasks/late`)).body as Record<string, unknown>;
        expect(details).to.deep.equal({
          stream_id: 'S1ID',
          stream_name: 's1',
          task_name: 'late',
          task_id: 'LATEID',
          destination_type: 'OBS',
          state: 'RUNNING',
          create_time: T0 + 30_000,
          last_transfer_timestamp: T0 + 90_000,
          obs_destination_description: { obs_bucket_path: 'late-bucket', deliver_time_interval: 60 },
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              discard: 0,
              state: 'RUNNING',
              last_transfer_timestamp: T0 + 90_000,
              last_transfer_offset: 1800,
            },
            {
              partitionId: 'shardId-0000000001',
              discard: 0,
              state: 'RUNNING',
              last_transfer_timestamp: T0 + 90_000,
              last_transfer_offset: 725,
            },
            {
              partitionId: 'shardId-0000000002',
              discard: 0,
              state: 'RUNNING',
              last_transfer_timestamp: T0 + 90_000,
              last_transfer_offset: 7,
            },
          ],
        });
        // Before the moment it was added, the task does not exist.
        clock.t = T0 + 29_999;
        expect((await get(`${BASE}/streams/s1/transfer-tasks/late`)).body).to.deep.equal({
          errorCode: 'DIS.4354',
          message: `The transfer task does not exist. [late][${rid(4)}]`,
        });
        expect(((await list()) as { total_number: number }).total_number).to.equal(3);
      });

      it('takes createdMsAgo back from the moment it is added, and then works with the other controls', async () => {
        clock.t = T0 + 30_000;
        dis.control.addTask('s1', { ...late, createdMsAgo: 45_000 });
        clock.t = T0 + 45_000;
        expect(await offsets('s1', 'late')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 1350, T0 + 45_000, 0],
          ['RUNNING', 612, T0 + 45_000, 0],
          ['RUNNING', 7, T0 + 45_000, 0],
        ]);
        clock.t = T0 + 50_000;
        dis.control.setTaskState('s1', 'late', 'PAUSED');
        clock.t = T0 + 200_000;
        expect(await offsets('s1', 'late')).to.deep.equal([
          'PAUSED',
          ['PAUSED', 1350, T0 + 45_000, 0],
          ['PAUSED', 612, T0 + 45_000, 0],
          ['PAUSED', 7, T0 + 45_000, 0],
        ]);
      });

      it('starts afresh when a deleted task is added again under the same name', async () => {
        clock.t = T0 + 10_000;
        dis.control.setTaskState('s1', 'to-obs', 'PAUSED');
        dis.control.deleteTask('s1', 'to-obs');
        dis.control.addTask('s1', { name: 'to-obs', id: 'NEWOBSID', destinationType: 'OBS' });
        clock.t = T0 + 70_000;
        const listed = (await list()) as { tasks: { task_name: string; task_id: string; create_time: number }[] };
        expect(listed.tasks.map((t) => [t.task_name, t.task_id, t.create_time])).to.deep.equal([
          ['to-obs', 'NEWOBSID', T0 + 10_000],
          ['to-dws', 'DWSID', T0 - 600_000],
          ['fresh', 'FRESHID', T0 - 10_000],
        ]);
        expect(await offsets('s1', 'to-obs')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 1700, T0 + 70_000, 0],
          ['RUNNING', 675, T0 + 70_000, 0],
          ['RUNNING', 7, T0 + 70_000, 0],
        ]);
      });

      it('validates the task like a scenario entry, and enforces unique names and the 5-task quota', () => {
        expect(() =>
          dis.control.addTask('s1', {
            name: 'bad',
            partitions: { 'shardId-0000000009': {}, 'shardId-0000000000': { dumpRecordsPerSecond: -1 } },
          } as unknown as TaskSpecInput),
        ).to.throw(
          [
            'task: destinationType: is required',
            'task: partitions.shardId-0000000009: is not a partition of the stream',
            'task: partitions.shardId-0000000000.dumpRecordsPerSecond: must be a number >= 0',
          ].join('\n'),
        );
        expect(() => dis.control.addTask('s1', { name: 'fresh', destinationType: 'OBS' })).to.throw(
          'task "fresh" already exists in stream "s1"',
        );
        dis.control.addTask('s1', { name: 'four', destinationType: 'OBS' });
        dis.control.addTask('s1', { name: 'five', destinationType: 'OBS' });
        expect(() => dis.control.addTask('s1', { name: 'six', destinationType: 'OBS' })).to.throw(
          'stream "s1" already has 5 dump tasks (the DIS quota)',
        );
      });
    });

    describe('addStream', () => {
      const stream: StreamSpecInput = {
        name: 'b-stream',
        id: 'BID',
        partitions: [
          { initialRecords: 100, recordsPerSecond: 2 },
          { startOffset: 5, initialRecords: 10 },
        ],
        tasks: [{ name: 'b-task', id: 'BTID', destinationType: 'DLI', destination: { deliver_time_interval: 30 } }],
      };

      it('adds a stream whose offsets grow from initialRecords at the moment it is added, with its tasks', async () => {
        clock.t = T0 + 10_000;
        dis.control.addStream(stream);
        const listed = (await get(`${BASE}/streams`)).body as {
          total_number: number;
          stream_names: string[];
          stream_info_list: Record<string, unknown>[];
        };
        expect([listed.total_number, listed.stream_names]).to.deep.equal([
          4,
          ['a-stream', 'b-stream', 's1', 'z-stream'],
        ]);
        expect(listed.stream_info_list[1]).to.deep.equal({
          stream_id: 'BID',
          stream_name: 'b-stream',
          create_time: T0 + 10_000,
          retention_period: 24,
          status: 'RUNNING',
          stream_type: 'COMMON',
          data_type: 'BLOB',
          partition_count: 2,
          auto_scale_enabled: false,
          tags: [],
          sys_tags: [],
        });
        clock.t = T0 + 20_000;
        const details = (await get(`${BASE}/streams/b-stream`)).body as Record<string, unknown>;
        expect([details['create_time'], details['writable_partition_count'], details['partitions']]).to.deep.equal([
          T0 + 10_000,
          2,
          [
            {
              partition_id: 'shardId-0000000000',
              status: 'ACTIVE',
              hash_range: '[0 : 4611686018427387903]',
              sequence_number_range: '[0 : 120]',
            },
            {
              partition_id: 'shardId-0000000001',
              status: 'ACTIVE',
              hash_range: '[4611686018427387904 : 9223372036854775807]',
              sequence_number_range: '[5 : 10]',
            },
          ],
        ]);
        expect((await get(`${BASE}/streams/b-stream/transfer-tasks`)).body).to.deep.equal({
          total_number: 1,
          tasks: [
            {
              task_name: 'b-task',
              task_id: 'BTID',
              state: 'RUNNING',
              destination_type: 'DLI',
              create_time: T0 + 10_000,
              last_transfer_timestamp: 0,
            },
          ],
        });
        clock.t = T0 + 40_000;
        expect(await offsets('b-stream', 'b-task')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 160, T0 + 40_000, 0],
          ['RUNNING', 10, T0 + 40_000, 0],
        ]);
        clock.t = T0 + 9_999;
        expect((await get(`${BASE}/streams/b-stream`)).body).to.deep.equal({
          errorCode: 'DIS.4301',
          message: `Stream does not exist. [b-stream][${rid(5)}]`,
        });
      });

      it('replaces a deleted stream of the same name with a fresh one', async () => {
        clock.t = T0 + 1_000;
        dis.control.expirePartition('z-stream', 'shardId-0000000000');
        dis.control.deleteStream('z-stream');
        dis.control.addStream({
          name: 'z-stream',
          id: 'Z2ID',
          partitions: [{ initialRecords: 5, recordsPerSecond: 1 }],
        });
        clock.t = T0 + 3_000;
        const details = (await get(`${BASE}/streams/z-stream`)).body as {
          stream_id: string;
          partitions: { status: string; sequence_number_range: string | null }[];
        };
        expect([details.stream_id, details.partitions]).to.deep.equal([
          'Z2ID',
          [
            {
              partition_id: 'shardId-0000000000',
              status: 'ACTIVE',
              hash_range: '[0 : 9223372036854775807]',
              sequence_number_range: '[0 : 7]',
            },
          ],
        ]);
        expect((await get(`${BASE}/streams/z-stream/transfer-tasks`)).body).to.deep.equal({
          total_number: 0,
          tasks: [],
        });
      });

      it('validates the stream like a scenario entry and rejects a name in use', () => {
        expect(() =>
          dis.control.addStream({
            name: 'bad name',
            partitions: [],
            tasks: [{ name: 't' }],
          } as unknown as StreamSpecInput),
        ).to.throw(
          [
            'stream: name: must be 1-64 letters, digits, "-" or "_"',
            'stream: partitions: must have at least one partition',
            'stream: tasks[0].destinationType: is required',
          ].join('\n'),
        );
        expect(() => dis.control.addStream({ name: 's1', partitions: [{}] })).to.throw('stream "s1" already exists');
        dis.control.addStream(stream);
        expect(() => dis.control.addStream(stream)).to.throw('stream "b-stream" already exists');
      });
    });

    it('rewindPartition lowers the offset at once and from then on, never below the partition start', async () => {
      clock.t = T0 + 30_000;
      dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000000', 300);
      dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000001', 1_000);
      dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000002', 10);
      // Before: 1000, 480 (start 50) and 7 (start 0), delivered at T0.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 700, T0, 0],
        ['RUNNING', 50, T0, 18],
        ['RUNNING', 0, T0, 0],
      ]);
      clock.t = T0 + 60_000;
      // Deliveries continue from the rewound position: 1600 - 300, 630 - 430, 7 - 7.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 1300, T0 + 60_000, 0],
        ['RUNNING', 200, T0 + 60_000, 33],
        ['RUNNING', 0, T0 + 60_000, 0],
      ]);
      dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000000', 100);
      clock.t = T0 + 120_000;
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 1800, T0 + 120_000, 0],
        ['RUNNING', 350, T0 + 120_000, 63],
        ['RUNNING', 0, T0 + 120_000, 0],
      ]);
      // Other tasks on the same partitions are not touched.
      expect(await offsets('s1', 'fresh')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 2100, T0 + 110_000, 0],
        ['RUNNING', 775, T0 + 110_000, 0],
        ['RUNNING', 7, T0 + 110_000, 0],
      ]);
    });

    it('setPartitionBehind applies from the next delivery on, and the offset never goes backwards', async () => {
      const p0 = async (): Promise<unknown> => ((await offsets('s1', 'to-obs')) as unknown[])[1];
      clock.t = T0 + 30_000;
      dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 500);
      expect(await p0()).to.deep.equal(['RUNNING', 1000, T0, 0]);
      clock.t = T0 + 60_000;
      expect(await p0()).to.deep.equal(['RUNNING', 1100, T0 + 60_000, 0]);
      clock.t = T0 + 120_000;
      expect(await p0()).to.deep.equal(['RUNNING', 1700, T0 + 120_000, 0]);
      clock.t = T0 + 130_000;
      dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 2_000);
      clock.t = T0 + 180_000;
      // 2800 - 2000 = 800 is behind what was already dumped: the offset waits at 1700.
      expect(await p0()).to.deep.equal(['RUNNING', 1700, T0 + 180_000, 0]);
      clock.t = T0 + 300_000;
      expect(await p0()).to.deep.equal(['RUNNING', 2000, T0 + 300_000, 0]);
      clock.t = T0 + 310_000;
      dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 0);
      clock.t = T0 + 360_000;
      expect(await p0()).to.deep.equal(['RUNNING', 4600, T0 + 360_000, 0]);
    });

    it('expirePartition: status EXPIRED and a null range from now on, no more writes, counts updated', async () => {
      const show = async (): Promise<unknown> => {
        const body = (await get(`${BASE}/streams/s1`)).body as {
          writable_partition_count: number;
          readable_partition_count: number;
          partitions: { status: string; sequence_number_range: string | null }[];
        };
        return [
          body.writable_partition_count,
          body.readable_partition_count,
          ...body.partitions.map((p) => [p.status, p.sequence_number_range]),
        ];
      };
      clock.t = T0 + 29_999;
      expect(await show()).to.deep.equal([2, 2, ['ACTIVE', '[0 : 1299]'], ['ACTIVE', '[50 : 574]'], ['EXPIRED', null]]);
      clock.t = T0 + 30_000;
      dis.control.expirePartition('s1', 'shardId-0000000000');
      expect(await show()).to.deep.equal([1, 1, ['EXPIRED', null], ['ACTIVE', '[50 : 575]'], ['EXPIRED', null]]);
      const listed = (await get(`${BASE}/streams?limit=2&start_stream_name=a-stream`)).body as {
        stream_info_list: { partition_count: number }[];
      };
      expect(listed.stream_info_list.map((info) => info.partition_count)).to.deep.equal([1, 1]);
      // The dump still delivers, but the end offset froze at 1300; a later rate change does not revive it.
      clock.t = T0 + 60_000;
      expect(((await offsets('s1', 'to-obs')) as unknown[])[1]).to.deep.equal(['RUNNING', 1300, T0 + 60_000, 0]);
      dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 5);
      clock.t = T0 + 600_000;
      expect(((await offsets('s1', 'to-obs')) as unknown[])[1]).to.deep.equal(['RUNNING', 1300, T0 + 600_000, 0]);
      expect(await show()).to.deep.equal([1, 1, ['EXPIRED', null], ['ACTIVE', '[50 : 2000]'], ['EXPIRED', null]]);
    });

    it('setRecordsPerSecond changes growth from now on, keeping end offsets continuous; 0 makes a partition idle', async () => {
      const range = async (): Promise<unknown> =>
        ((await get(`${BASE}/streams/s1`)).body as { partitions: { sequence_number_range: string }[] }).partitions[0]
          ?.sequence_number_range;
      const p0 = async (): Promise<unknown> => ((await offsets('s1', 'to-obs')) as unknown[])[1];
      clock.t = T0 + 30_000;
      dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 0);
      expect(await range()).to.equal('[0 : 1300]');
      clock.t = T0 + 90_000;
      expect(await range()).to.equal('[0 : 1300]');
      // Fully dumped and nothing new: the offset stays put while deliveries go on.
      clock.t = T0 + 60_000;
      expect(await p0()).to.deep.equal(['RUNNING', 1300, T0 + 60_000, 0]);
      clock.t = T0 + 120_000;
      expect(await p0()).to.deep.equal(['RUNNING', 1300, T0 + 120_000, 0]);
      clock.t = T0 + 130_000;
      dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 4);
      clock.t = T0 + 145_000;
      expect(await range()).to.equal('[0 : 1360]');
      dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 0.5);
      clock.t = T0 + 146_999;
      expect(await range()).to.equal('[0 : 1360]');
      clock.t = T0 + 147_000;
      expect(await range()).to.equal('[0 : 1361]');
      clock.t = T0 + 180_000;
      expect(await p0()).to.deep.equal(['RUNNING', 1377, T0 + 180_000, 0]);
    });

    it('records every request of the four operations, and forgets them on resetRequests', async () => {
      await get(`${BASE}/streams?limit=1`);
      await get(`${BASE}/streams/s1`);
      await get(`${BASE}/streams/s1/transfer-tasks`);
      await get(`${BASE}/streams/s1/transfer-tasks/nope`);
      await get('/v3/nothing');
      expect(dis.control.requests()).to.deep.equal([
        {
          method: 'GET',
          path: `${BASE}/streams`,
          query: 'limit=1',
          operation: 'list_streams',
          status: 200,
          requestId: rid(1),
          faults: [],
        },
        {
          method: 'GET',
          path: `${BASE}/streams/s1`,
          query: '',
          operation: 'show_stream',
          status: 200,
          requestId: rid(2),
          faults: [],
        },
        {
          method: 'GET',
          path: `${BASE}/streams/s1/transfer-tasks`,
          query: '',
          operation: 'list_transfer_tasks',
          status: 200,
          requestId: rid(3),
          faults: [],
        },
        {
          method: 'GET',
          path: `${BASE}/streams/s1/transfer-tasks/nope`,
          query: '',
          operation: 'show_transfer_task',
          status: 400,
          requestId: rid(4),
          faults: [],
          errorCode: 'DIS.4354',
        },
      ]);
      dis.control.resetRequests();
      expect(dis.control.requests()).to.deep.equal([]);
    });
  });

  describe('authentication and routing', () => {
    it('answers a request without a signature with 401 APIGW.0301', async () => {
      const reply = await get(`${BASE}/streams`, { sign: false });
      expect(reply.status).to.equal(401);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: missing Authorization header',
        request_id: rid(1),
      });
      expect(reply.requestId).to.equal(rid(1));
    });

    it('answers a wrong secret key and an unknown access key with 401 APIGW.0301', async () => {
      const wrongSecret = await get(`${BASE}/streams`, {
        credentials: { accessKey: CREDS.accessKey, secretKey: 'wrong' },
      });
      expect(wrongSecret.status).to.equal(401);
      expect(wrongSecret.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: signature does not match',
        request_id: rid(1),
      });
      const unknownKey = await get(`${BASE}/streams`, {
        credentials: { accessKey: 'OTHER', secretKey: CREDS.secretKey },
      });
      expect(unknownKey.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: unknown access key',
        request_id: rid(2),
      });
      expect(dis.control.requests().map((r) => r.status)).to.deep.equal([401, 401]);
    });

    it('answers a signature dated more than 15 minutes off with 401 APIGW.0303', async () => {
      const reply = await get(`${BASE}/streams`, { signedAtMs: T0 - 15 * 60_000 - 1_000 });
      expect(reply.status).to.equal(401);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0303',
        error_msg: 'X-Sdk-Date differs from server time by more than 900 s',
        request_id: rid(1),
      });
      expect((await get(`${BASE}/streams`, { signedAtMs: T0 + 15 * 60_000 })).status).to.equal(200);
    });

    it('skips signature checks when credentials is an empty list', async () => {
      const open = await start(SCENARIO_DATA, { credentials: [] });
      expect((await get(`${BASE}/streams`, { server: open, sign: false })).status).to.equal(200);
    });

    it('answers a wrong project id in the path, or an X-Project-Id that differs from it, with 400 DIS.4117', async () => {
      const other = '99999999999999999999999999999999';
      const path = await get(`/v2/${other}/streams`, { headers: { 'X-Project-Id': other } });
      expect(path.status).to.equal(400);
      expect(path.body).to.deep.equal({ errorCode: 'DIS.4117', message: `Invalid Project Id. [${other}][${rid(1)}]` });
      const header = await get(`${BASE}/streams`, { headers: { 'X-Project-Id': other } });
      expect(header.body).to.deep.equal({
        errorCode: 'DIS.4117',
        message: `Invalid Project Id. [${PROJECT}][${rid(2)}]`,
      });
      expect((await get(`${BASE}/streams`, { headers: {} })).status).to.equal(200);
    });

    it('answers an unknown path with 404 APIGW.0101 and an X-Request-Id', async () => {
      const reply = await get(`/v2/${PROJECT}/apps`);
      expect(reply.status).to.equal(404);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0101',
        error_msg: 'The API does not exist or has not been published in the environment',
        request_id: rid(1),
      });
      expect(reply.requestId).to.equal(rid(1));
      expect(dis.control.requests()).to.deep.equal([]);
    });
  });

  describe('faults', () => {
    it('latency waits on the clock for latencyMs, then answers normally', async () => {
      dis.control.addFault({ kind: 'latency', latencyMs: 250, match: { operation: 'show_stream' } });
      expect((await get(`${BASE}/streams/s1`)).status).to.equal(200);
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(clock.sleeps).to.deep.equal([250]);
      expect(dis.control.requests().map((r) => [r.operation, r.status, r.faults])).to.deep.equal([
        ['show_stream', 200, ['latency']],
        ['list_streams', 200, []],
      ]);
    });

    it('status answers with the given body, only for matching requests and only `times` times', async () => {
      const body = { errorCode: 'DIS.4305', message: 'Too many stream requests.' };
      dis.control.addFault({
        kind: 'status',
        status: 400,
        body,
        times: 2,
        match: { operation: 'show_transfer_task', stream: 's1', task: 'to-obs' },
      });
      const first = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([first.status, first.body]).to.deep.equal([400, body]);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-dws`)).status).to.equal(200);
      expect((await get(`${BASE}/streams/s1/transfer-tasks`)).status).to.equal(200);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-obs`)).status).to.equal(400);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-obs`)).status).to.equal(200);
    });

    it('status sends a Retry-After header when the fault gives one (an integer means seconds)', async () => {
      dis.control.addFault({ kind: 'status', status: 429, retryAfter: 'Wed, 15 Nov 2023 00:00:05 GMT', times: 1 });
      const [fromYaml] = parseScenario({
        ...SCENARIO_DATA,
        faults: [{ kind: 'status', status: 503, retryAfter: 7 }],
      }).faults;
      expect(fromYaml).to.deep.equal({ kind: 'status', status: 503, retryAfter: '7' });
      dis.control.addFault({ kind: 'status', status: 503, retryAfter: '7' });
      const headerOf = async () => {
        const url = new URL(`${dis.url}${BASE}/streams`);
        const headers = { 'X-Project-Id': PROJECT };
        const response = await got(url, {
          headers: { ...headers, ...signRequest({ method: 'GET', url, headers }, CREDS, clock.now()) },
          throwHttpErrors: false,
          retry: { limit: 0 },
        });
        return [response.statusCode, response.headers['retry-after']];
      };
      expect(await headerOf()).to.deep.equal([429, 'Wed, 15 Nov 2023 00:00:05 GMT']);
      expect(await headerOf()).to.deep.equal([503, '7']);
    });

    it('rejects a retryAfter on other kinds, and one that is neither text nor a whole number of seconds', () => {
      const faults = [
        { kind: 'latency', latencyMs: 1, retryAfter: '5' },
        { kind: 'status', status: 429, retryAfter: 1.5 },
        { kind: 'status', status: 429, retryAfter: '' },
      ];
      expect(() => parseScenario({ ...SCENARIO_DATA, faults }, 'f.yaml')).to.throw(
        [
          'f.yaml: faults[0].retryAfter: only applies to kind status',
          'f.yaml: faults[1].retryAfter: must be an integer >= 0',
          'f.yaml: faults[2].retryAfter: must be a non-empty string',
        ].join('\n'),
      );
    });

    it('status gives a realistic default body: 429 APIGW.0308 and 500 DIS.5000', async () => {
      dis.control.addFault({ kind: 'status', status: 429, times: 1 });
      dis.control.addFault({ kind: 'status', status: 500, times: 1 });
      const throttled = await get(`${BASE}/streams`);
      expect([throttled.status, throttled.body]).to.deep.equal([
        429,
        {
          error_code: 'APIGW.0308',
          error_msg: 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute',
          request_id: rid(1),
        },
      ]);
      const failed = await get(`${BASE}/streams`);
      expect([failed.status, failed.body]).to.deep.equal([
        500,
        { errorCode: 'DIS.5000', message: `System error. [fault][${rid(2)}]` },
      ]);
      expect(failed.requestId).to.equal(rid(2));
    });

    it('timeout never answers, so the client times out', async () => {
      dis.control.addFault({ kind: 'timeout', times: 1 });
      const url = `${dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, clock.now());
      const error = await got(url, { headers, retry: { limit: 0 }, timeout: { request: 200 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(RequestError);
      expect((error as RequestError).code).to.equal('ETIMEDOUT');
      expect(dis.control.requests().map((r) => [r.status, r.faults])).to.deep.equal([[0, ['timeout']]]);
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
    });

    it('close() ends requests held open by a timeout fault', async () => {
      dis.control.addFault({ kind: 'timeout' });
      const url = `${dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, clock.now());
      const pending = got(url, { headers, retry: { limit: 0 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      while (dis.control.requests().length === 0) await new Promise((resolve) => setImmediate(resolve));
      await dis.close();
      expect(((await pending) as RequestError).code).to.equal('ECONNRESET');
    });

    it('reset destroys the socket: the client sees ECONNRESET', async () => {
      dis.control.addFault({ kind: 'reset', match: { operation: 'list_streams' } });
      const url = `${dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, clock.now());
      const error = await got(url, { headers, retry: { limit: 0 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as RequestError).code).to.equal('ECONNRESET');
      expect(dis.control.requests().map((r) => [r.operation, r.status, r.faults])).to.deep.equal([
        ['list_streams', 0, ['reset']],
      ]);
    });

    it('malformed answers 200 with a non-JSON body by default, or with the given wrong-shaped body', async () => {
      dis.control.addFault({ kind: 'malformed', times: 1 });
      dis.control.addFault({ kind: 'malformed', body: { partitions: 'none' }, times: 1 });
      const broken = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([broken.status, broken.text, broken.body]).to.deep.equal([200, '{"stream_name":"', undefined]);
      const wrong = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([wrong.status, wrong.text]).to.deep.equal([200, '{"partitions":"none"}']);
    });

    it('malformed and status send the given Content-Type: a proxy’s HTML page', async () => {
      const page = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
      dis.control.addFault({ kind: 'status', status: 502, body: page, contentType: 'text/html', times: 1 });
      dis.control.addFault({ kind: 'malformed', body: page, contentType: 'text/html; charset=utf-8', times: 1 });
      const gateway = await get(`${BASE}/streams`);
      expect([gateway.status, gateway.headers['content-type'], gateway.text]).to.deep.equal([502, 'text/html', page]);
      const portal = await get(`${BASE}/streams`);
      expect([portal.status, portal.headers['content-type'], portal.text]).to.deep.equal([
        200,
        'text/html; charset=utf-8',
        page,
      ]);
    });

    it('records the error code of each error body sent, DIS or gateway, object or text', async () => {
      dis.control.addFault({ kind: 'status', status: 429, times: 1 });
      dis.control.addFault({ kind: 'status', status: 400, body: '{"errorCode":"DIS.4305"}', times: 1 });
      dis.control.addFault({ kind: 'status', status: 502, body: '<html></html>', times: 1 });
      for (let i = 0; i < 3; i++) await get(`${BASE}/streams`);
      await get(`${BASE}/streams/nope`);
      expect(dis.control.requests().map((r) => [r.status, r.errorCode])).to.deep.equal([
        [429, 'APIGW.0308'],
        [400, 'DIS.4305'],
        [502, undefined],
        [400, 'DIS.4301'],
      ]);
    });

    it('oversized streams exactly `bytes` bytes without a Content-Length; the client may hang up part way', async () => {
      dis.control.addFault({ kind: 'oversized', bytes: 300_000, times: 1 });
      const whole = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([
        whole.status,
        whole.text.length,
        whole.headers['content-length'],
        whole.headers['transfer-encoding'],
      ]).to.deep.equal([200, 300_000, undefined, 'chunked']);
      expect(whole.text.startsWith('{"padding":"xxx')).to.equal(true);

      dis.control.addFault({ kind: 'oversized', bytes: 50_000_000, times: 1 });
      const url = new URL(`${dis.url}${BASE}/streams`);
      const headers = { 'X-Project-Id': PROJECT };
      const stream = got.stream(url, {
        headers: { ...headers, ...signRequest({ method: 'GET', url, headers }, CREDS, T0) },
      });
      let received = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > 100_000) break;
      }
      expect(received).to.be.below(1_000_000);
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(dis.control.requests().map((r) => [r.status, r.faults])).to.deep.equal([
        [200, ['oversized']],
        [200, ['oversized']],
        [200, []],
      ]);
    });

    it('validates bytes and contentType: bytes required for oversized, each only for its kinds', () => {
      const faults = [
        { kind: 'oversized' },
        { kind: 'oversized', bytes: 0 },
        { kind: 'status', status: 500, bytes: 10 },
        { kind: 'timeout', contentType: 'text/html' },
        { kind: 'malformed', contentType: '' },
      ];
      expect(() => parseScenario({ ...SCENARIO_DATA, faults }, 'f.yaml')).to.throw(
        [
          'f.yaml: faults[0].bytes: is required',
          'f.yaml: faults[1].bytes: must be an integer >= 1',
          'f.yaml: faults[2].bytes: only applies to kind oversized',
          'f.yaml: faults[3].contentType: only applies to kind status or malformed',
          'f.yaml: faults[4].contentType: must be a non-empty string',
        ].join('\n'),
      );
    });

    it('applies latency and then a terminal fault; clearFaults removes them all', async () => {
      dis.control.addFault({ kind: 'latency', latencyMs: 40 });
      dis.control.addFault({ kind: 'status', status: 503 });
      expect((await get(`${BASE}/streams`)).status).to.equal(503);
      expect(dis.control.requests()[0]?.faults).to.deep.equal(['latency', 'status']);
      dis.control.clearFaults();
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(clock.sleeps).to.deep.equal([40]);
    });

    it('respects fromMs/untilMs against the clock', async () => {
      dis.control.addFault({ kind: 'status', status: 500, fromMs: 10_000, untilMs: 20_000 });
      const statusAt = async (t: number): Promise<number> => {
        clock.t = t;
        return (await get(`${BASE}/streams`)).status;
      };
      expect([
        await statusAt(T0 + 9_999),
        await statusAt(T0 + 10_000),
        await statusAt(T0 + 19_999),
        await statusAt(T0 + 20_000),
      ]).to.deep.equal([200, 500, 500, 200]);
    });

    it('draws probability from a seeded PRNG: the same seed gives the same pattern', async () => {
      const pattern = async (server: FakeDis): Promise<string> => {
        let out = '';
        for (let i = 0; i < 24; i += 1) out += (await get(`${BASE}/streams`, { server })).status === 500 ? 'x' : '.';
        return out;
      };
      const data = { ...SCENARIO_DATA, seed: 7, faults: [{ kind: 'status', status: 500, probability: 0.5 }] };
      const first = await pattern(await start(data));
      const second = await pattern(await start(data));
      expect(first).to.equal(second);
      expect(first).to.match(/x/).and.to.match(/\./);
      const never = await start({ ...data, faults: [{ kind: 'status', status: 500, probability: 0 }] });
      expect(await pattern(never)).to.equal('.'.repeat(24));
    });

    it('validates faults added at runtime', () => {
      expect(() => dis.control.addFault({ kind: 'status', probability: 2 })).to.throw(
        'fault: status: is required\nfault: probability: must be a number from 0 to 1',
      );
    });
  });

  describe('scenarios', () => {
    it('reports every problem of a bad scenario, one line each', () => {
      const bad = {
        projectId: '',
        credentials: [{ accessKey: 'AK' }],
        extra: 1,
        streams: [
          { name: 'bad name!', partitions: [] },
          {
            name: 'ok',
            partitions: [{ startOffset: 10, initialRecords: 5, recordsPerSecond: -1, status: 'GONE' }],
            tasks: [
              {
                name: 't',
                destinationType: 'OBS',
                destination: { deliver_time_interval: 'soon' },
                partitions: { 'shardId-0000000009': {}, 'shardId-0000000000': { stalled: 'yes' } },
                colour: 'red',
              },
            ],
          },
          { name: 'ok', partitions: [{}] },
        ],
        faults: [
          { kind: 'status' },
          { kind: 'explode' },
          {
            kind: 'latency',
            latencyMs: 10,
            status: 500,
            probability: 2,
            fromMs: 100,
            untilMs: 50,
            match: { operation: 'delete' },
          },
        ],
      };
      expect(() => parseScenario(bad, 'bad.yaml')).to.throw(
        [
          'bad.yaml: extra: unknown key',
          'bad.yaml: projectId: must be a non-empty string',
          'bad.yaml: credentials[0].secretKey: is required',
          'bad.yaml: streams[0].name: must be 1-64 letters, digits, "-" or "_"',
          'bad.yaml: streams[0].partitions: must have at least one partition',
          'bad.yaml: streams[1].partitions[0].recordsPerSecond: must be a number >= 0',
          'bad.yaml: streams[1].partitions[0].status: must be one of CREATING, ACTIVE, DELETED, EXPIRED',
          'bad.yaml: streams[1].partitions[0].startOffset: must not exceed initialRecords',
          'bad.yaml: streams[1].tasks[0].colour: unknown key',
          'bad.yaml: streams[1].tasks[0].destination.deliver_time_interval: must be a positive integer (seconds)',
          'bad.yaml: streams[1].tasks[0].partitions.shardId-0000000009: is not a partition of the stream',
          'bad.yaml: streams[1].tasks[0].partitions.shardId-0000000000.stalled: must be true or false',
          'bad.yaml: streams[2].name: duplicate "ok"',
          'bad.yaml: faults[0].status: is required',
          'bad.yaml: faults[1].kind: must be one of latency, status, timeout, malformed, reset, oversized',
          'bad.yaml: faults[2].match.operation: must be one of list_streams, show_stream, list_transfer_tasks, show_transfer_task, iam_token, oidc_token, metadata_token, metadata_securitykey',
          'bad.yaml: faults[2].status: only applies to kind status',
          'bad.yaml: faults[2].probability: must be a number from 0 to 1',
          'bad.yaml: faults[2].untilMs: must be greater than fromMs',
        ].join('\n'),
      );
    });

    it('rejects more than 5 tasks per stream and a missing partitions list', () => {
      const tasks = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, destinationType: 'OBS' }));
      expect(() =>
        parseScenario({ projectId: 'p', streams: [{ name: 's', partitions: [{}], tasks }, { name: 't' }] }),
      ).to.throw(
        'scenario: streams[0].tasks: must have at most 5 tasks (the DIS quota)\nscenario: streams[1].partitions: is required',
      );
      expect(() => parseScenario([])).to.throw('scenario: must be an object\nscenario: projectId: is required');
    });

    it('fills defaults: partition ids by index, RUNNING tasks, ids shaped like the real ones', () => {
      const scenario: Scenario = parseScenario({
        projectId: 'p',
        streams: [{ name: 's', partitions: [{}, {}], tasks: [{ name: 't', destinationType: 'OBS' }] }],
      });
      const stream = scenario.streams[0];
      expect(
        stream?.partitions.map((p) => [p.id, p.startOffset, p.initialRecords, p.recordsPerSecond, p.status]),
      ).to.deep.equal([
        ['shardId-0000000000', 0, 0, 0, 'ACTIVE'],
        ['shardId-0000000001', 0, 0, 0, 'ACTIVE'],
      ]);
      const task = stream?.tasks[0];
      expect([task?.state, task?.deliverIntervalSeconds, task?.correctSpelling]).to.deep.equal(['RUNNING', 60, false]);
      expect(task?.id).to.match(/^[A-Za-z0-9]{19}$/);
      expect(stream?.id).to.match(/^[A-Za-z0-9]{19}$/);
      expect(scenario.epochMs).to.equal(undefined);
      expect([scenario.seed, scenario.credentials, scenario.faults]).to.deep.equal([1, [], []]);
    });

    describe('dump and partition fields', () => {
      const dumpData = (partitions: object[], overrides: object = {}): object => ({
        projectId: PROJECT,
        credentials: [CREDS],
        epochMs: T0,
        streams: [
          {
            name: 'x',
            partitions,
            tasks: [
              {
                name: 't',
                destinationType: 'OBS',
                createdMsAgo: 2_592_000_000,
                destination: { deliver_time_interval: 60 },
                partitions: overrides,
              },
            ],
          },
        ],
      });
      const view = async (server: FakeDis): Promise<unknown[]> => {
        const stream = (await get(`${BASE}/streams/x`, { server })).body as {
          partitions: { status: string; sequence_number_range: string | null }[];
        };
        const task = (await get(`${BASE}/streams/x/transfer-tasks/t`, { server })).body as {
          partitions: { last_transfer_offset: number; last_transfer_timestamp: number }[];
        };
        return stream.partitions.map((p, i) => [
          p.status,
          p.sequence_number_range,
          task.partitions[i]?.last_transfer_offset,
          (task.partitions[i]?.last_transfer_timestamp ?? 0) - T0,
        ]);
      };

      it('dumpRecordsPerSecond caps each delivery after time zero, so a faster stream pulls further ahead', async () => {
        const server = await start(
          dumpData(
            [
              { initialRecords: 1000, recordsPerSecond: 10 },
              { initialRecords: 1000, recordsPerSecond: 2 },
            ],
            {
              'shardId-0000000000': { dumpRecordsPerSecond: 4 },
              'shardId-0000000001': { dumpRecordsPerSecond: 4 },
            },
          ),
        );
        // Lag in records (end - offset): 0, 360, 720 on the fast partition; 0 on the slow one, which the cap allows.
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 1000]', 1000, 0],
          ['ACTIVE', '[0 : 1000]', 1000, 0],
        ]);
        clock.t = T0 + 60_000;
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 1600]', 1240, 60_000],
          ['ACTIVE', '[0 : 1120]', 1120, 60_000],
        ]);
        clock.t = T0 + 120_000;
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 2200]', 1480, 120_000],
          ['ACTIVE', '[0 : 1240]', 1240, 120_000],
        ]);
        // Once the stream stops growing, the dump catches up 240 records per delivery.
        clock.t = T0 + 150_000;
        server.control.setRecordsPerSecond('x', 'shardId-0000000000', 0);
        const fast = async (t: number): Promise<unknown> => {
          clock.t = T0 + t;
          return (await view(server))[0];
        };
        expect(await fast(180_000)).to.deep.equal(['ACTIVE', '[0 : 2500]', 1720, 180_000]);
        expect(await fast(360_000)).to.deep.equal(['ACTIVE', '[0 : 2500]', 2440, 360_000]);
        expect(await fast(420_000)).to.deep.equal(['ACTIVE', '[0 : 2500]', 2500, 420_000]);
        expect(await fast(480_000)).to.deep.equal(['ACTIVE', '[0 : 2500]', 2500, 480_000]);
      });

      it('expiresMsAgo expires a partition at that time (negative: after time zero): null range, frozen end', async () => {
        const server = await start(
          dumpData([
            { initialRecords: 1000, recordsPerSecond: 10, expiresMsAgo: -30_000 },
            { initialRecords: 1000, recordsPerSecond: 10, status: 'DELETED', expiresMsAgo: 60_000 },
            { initialRecords: 1000, recordsPerSecond: 10, status: 'DELETED' },
          ]),
        );
        const counts = async (): Promise<unknown> => {
          const body = (await get(`${BASE}/streams/x`, { server })).body as Record<string, unknown>;
          const listed = (await get(`${BASE}/streams`, { server })).body as {
            stream_info_list: { partition_count: number }[];
          };
          return [
            body['writable_partition_count'],
            body['readable_partition_count'],
            listed.stream_info_list[0]?.partition_count,
          ];
        };
        // initialRecords is the end offset at time zero, also for one that expired (and froze) a minute before.
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 1000]', 1000, 0],
          ['EXPIRED', null, 1000, 0],
          ['DELETED', '[0 : 1000]', 1000, 0],
        ]);
        expect(await counts()).to.deep.equal([1, 2, 1]);
        clock.t = T0 + 29_999;
        expect((await view(server))[0]).to.deep.equal(['ACTIVE', '[0 : 1299]', 1000, 0]);
        clock.t = T0 + 30_000;
        expect((await view(server))[0]).to.deep.equal(['EXPIRED', null, 1000, 0]);
        expect(await counts()).to.deep.equal([0, 1, 0]);
        clock.t = T0 + 120_000;
        expect(await view(server)).to.deep.equal([
          ['EXPIRED', null, 1300, 120_000],
          ['EXPIRED', null, 1000, 120_000],
          ['DELETED', '[0 : 2200]', 2200, 120_000],
        ]);
      });

      it('rangeOverride sends sequence_number_range literally; the dump still sees the real offsets', async () => {
        const server = await start(
          dumpData([
            { initialRecords: 9, rangeOverride: '[5 : null]' },
            { initialRecords: 9, rangeOverride: '5 : 9' },
            { initialRecords: 9, rangeOverride: '[ 1  :  2 ]' },
            { initialRecords: 9, rangeOverride: null },
            { initialRecords: 9, rangeOverride: '[1 : 2]', status: 'EXPIRED' },
          ]),
        );
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[5 : null]', 9, 0],
          ['ACTIVE', '5 : 9', 9, 0],
          ['ACTIVE', '[ 1  :  2 ]', 9, 0],
          ['ACTIVE', null, 9, 0],
          ['EXPIRED', '[1 : 2]', 9, 0],
        ]);
        const text = (await get(`${BASE}/streams/x`, { server })).text;
        expect(text).to.include('"sequence_number_range":null}');
      });

      it('wireOverride sends fields of stream details, task details and a task partition exactly as given', async () => {
        const data = dumpData([{ initialRecords: 9 }, { initialRecords: 9 }], {
          'shardId-0000000000': { wireOverride: { last_transfer_offset: -1, partitionId: 0 } },
        }) as { streams: [Record<string, unknown> & { tasks: [Record<string, unknown>] }] };
        data.streams[0].wireOverride = { stream_name: 'another', has_more_partitions: 'no' };
        data.streams[0].tasks[0].wireOverride = { create_time: 1704067200, task_name: null };
        const server = await start(data);
        const stream = (await get(`${BASE}/streams/x`, { server })).body as Record<string, unknown>;
        expect([
          stream['stream_name'],
          stream['has_more_partitions'],
          (stream['partitions'] as []).length,
        ]).to.deep.equal(['another', 'no', 2]);
        const task = (await get(`${BASE}/streams/x/transfer-tasks/t`, { server })).body as {
          task_id: string;
          create_time: unknown;
          task_name: unknown;
          last_transfer_timestamp: number;
          partitions: Record<string, unknown>[];
        };
        expect([task.create_time, task.task_name]).to.deep.equal([1704067200, null]);
        expect(task.partitions.map((p) => [p['partitionId'], p['last_transfer_offset']])).to.deep.equal([
          [0, -1],
          ['shardId-0000000001', 9],
        ]);
        // the task's own last dump is still the partitions' real one
        expect(task.last_transfer_timestamp).to.equal(task.partitions[1]?.['last_transfer_timestamp']);
        // the list of dump tasks is untouched
        const list = (await get(`${BASE}/streams/x/transfer-tasks`, { server })).body as { tasks: unknown[] };
        expect(list.tasks).to.deep.equal([
          {
            task_name: 't',
            task_id: task.task_id,
            state: 'RUNNING',
            destination_type: 'OBS',
            create_time: T0 - 2_592_000_000,
            last_transfer_timestamp: task.last_transfer_timestamp,
          },
        ]);
      });

      it('validates every wireOverride as an object', () => {
        expect(() =>
          parseScenario({
            projectId: 'p',
            streams: [
              {
                name: 's',
                wireOverride: 'x',
                partitions: [{}],
                tasks: [
                  {
                    name: 't',
                    destinationType: 'OBS',
                    wireOverride: [],
                    partitions: { 'shardId-0000000000': { wireOverride: 5 } },
                  },
                ],
              },
            ],
          }),
        ).to.throw(
          [
            'scenario: streams[0].tasks[0].partitions.shardId-0000000000.wireOverride: must be an object',
            'scenario: streams[0].tasks[0].wireOverride: must be an object',
            'scenario: streams[0].wireOverride: must be an object',
          ].join('\n'),
        );
      });

      it('keeps an old frozen offset below a partition start that retention has since moved past it', async () => {
        const server = await start(
          dumpData([{ startOffset: 118_600, initialRecords: 205_000, recordsPerSecond: 1 }], {
            'shardId-0000000000': { state: 'ABNORMAL', sinceMsAgo: 90_000_000 },
          }),
        );
        // The last delivery before the freeze: 205000 - 90060 = 114940, below today's start 118600.
        expect(await view(server)).to.deep.equal([['ACTIVE', '[118600 : 205000]', 114_940, -90_060_000]]);
        // A partition start the data had already reached still bounds the offset (behind, rewinds).
        const clamped = await start(
          dumpData([{ startOffset: 900, initialRecords: 1000, recordsPerSecond: 1 }], {
            'shardId-0000000000': { behindRecords: 500 },
          }),
        );
        expect(await view(clamped)).to.deep.equal([['ACTIVE', '[900 : 1000]', 900, 0]]);
      });

      it('validates the new fields with one line per problem', () => {
        expect(() =>
          parseScenario({
            projectId: 'p',
            streams: [
              {
                name: 's',
                partitions: [
                  { status: 'EXPIRED', expiresMsAgo: 5 },
                  { expiresMsAgo: 1.5, rangeOverride: 5 },
                ],
                tasks: [
                  {
                    name: 't',
                    destinationType: 'OBS',
                    partitions: { 'shardId-0000000000': { dumpRecordsPerSecond: 'fast' } },
                  },
                ],
              },
            ],
          }),
        ).to.throw(
          [
            'scenario: streams[0].partitions[0].expiresMsAgo: does not apply to a partition whose status is EXPIRED',
            'scenario: streams[0].partitions[1].expiresMsAgo: must be an integer',
            'scenario: streams[0].partitions[1].rangeOverride: must be a string or null',
            'scenario: streams[0].tasks[0].partitions.shardId-0000000000.dumpRecordsPerSecond: must be a number >= 0',
          ].join('\n'),
        );
      });
    });

    describe('files', () => {
      let dir: string;
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'dis-sim-'));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it('loads YAML and JSON alike', () => {
        const yamlPath = join(dir, 'one.yaml');
        writeFileSync(yamlPath, 'projectId: p\nstreams:\n  - name: s\n    partitions: [{ initialRecords: 5 }]\n');
        const jsonPath = join(dir, 'one.json');
        writeFileSync(
          jsonPath,
          JSON.stringify({ projectId: 'p', streams: [{ name: 's', partitions: [{ initialRecords: 5 }] }] }),
        );
        expect(loadScenario(yamlPath)).to.deep.equal(loadScenario(jsonPath));
      });

      it('names the file in read, parse and validation errors', () => {
        const missing = join(dir, 'missing.yaml');
        expect(() => loadScenario(missing)).to.throw(
          `${missing}: cannot read: ENOENT: no such file or directory, open '${missing}'`,
        );
        const broken = join(dir, 'broken.json');
        writeFileSync(broken, '{"projectId": ');
        expect(() => loadScenario(broken)).to.throw(`${broken}: cannot parse: `);
        const badYaml = join(dir, 'bad.yaml');
        writeFileSync(badYaml, 'projectId: p\nprojectId: q\n');
        expect(() => loadScenario(badYaml)).to.throw(
          `${badYaml}: cannot parse: Map keys must be unique at line 2, column 1:`,
        );
        const invalid = join(dir, 'invalid.yaml');
        writeFileSync(invalid, 'projectId: 42\n');
        expect(() => loadScenario(invalid)).to.throw(`${invalid}: projectId: must be a non-empty string`);
      });

      it('ships a valid demo scenario with the four streams and their tasks', () => {
        const demo = loadScenario(bundledScenarioPath('demo.yaml'));
        expect(demo.projectId).to.equal('0123456789abcdef0123456789abcdef');
        expect(demo.credentials).to.deep.equal([
          { accessKey: 'DEMOACCESSKEY0000000', secretKey: 'demo-secret-key-not-a-real-secret' },
        ]);
        expect(
          demo.streams.map((s) => [
            s.name,
            s.partitions.length,
            s.tasks.map((t) => `${t.name}:${t.destinationType}:${t.state}`),
          ]),
        ).to.deep.equal([
          ['orders', 3, ['orders-to-obs:OBS:RUNNING']],
          ['clicks', 2, ['clicks-to-dli:DLI:RUNNING', 'clicks-to-dws:DWS:PAUSED']],
          ['payments', 1, ['payments-to-mrs:MRS:RUNNING']],
          ['sensors', 3, ['sensors-to-obs:OBS:RUNNING']],
        ]);
      });

      it('loads rangeOverride from YAML, null included', () => {
        const path = join(dir, 'ranges.yaml');
        writeFileSync(
          path,
          'projectId: p\nstreams:\n  - name: s\n    partitions:\n' +
            '      - { rangeOverride: null }\n      - { rangeOverride: "[5 : null]" }\n      - {}\n',
        );
        const partitions = loadScenario(path).streams[0]?.partitions ?? [];
        expect(partitions.map((p) => ('rangeOverride' in p ? p.rangeOverride : 'absent'))).to.deep.equal([
          null,
          '[5 : null]',
          'absent',
        ]);
      });

      it('runs the demo with an idle, a stalled, a falling-behind and an expired-records partition', async () => {
        const demo = loadScenario(bundledScenarioPath('demo.yaml'));
        const server = await startFakeDis({ scenario: demo, clock, credentials: [] });
        servers.push(server);
        server.control.clearFaults(); // the demo's random latency and 429s are not the point here
        const base = `/v2/${demo.projectId}/streams`;
        const demoGet = async (path: string): Promise<unknown> =>
          (await get(`${base}${path}`, { server, sign: false, headers: {} })).body;
        const progress = async (stream: string, task: string): Promise<unknown[]> => {
          const ranges = (
            (await demoGet(`/${stream}`)) as { partitions: { sequence_number_range: string | null }[] }
          ).partitions.map((p) => p.sequence_number_range);
          const details = (await demoGet(`/${stream}/transfer-tasks/${task}`)) as {
            partitions: { state: string; last_transfer_offset: number; last_transfer_timestamp: number }[];
          };
          return details.partitions.map((p, i) => [
            ranges[i],
            p.state,
            p.last_transfer_offset,
            p.last_transfer_timestamp - T0,
          ]);
        };
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 0],
          ['[272000 : 2000000]', 'RUNNING', 2_000_000, 0],
          // The dump froze 25 h ago at 114940; the retained records now start at 118600.
          ['[118600 : 205000]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        clock.t = T0 + 60_000;
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 60_000],
          ['[272000 : 2001200]', 'RUNNING', 2_000_720, 60_000],
          ['[118600 : 205060]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        clock.t = T0 + 120_000;
        // Idle: no lag, offset still. Falling behind: lag 480 more at each delivery (20/s in, 12/s dumped).
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 120_000],
          ['[272000 : 2002400]', 'RUNNING', 2_001_440, 120_000],
          ['[118600 : 205120]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        // Stalled: the task says RUNNING, the offset has not moved since 5 minutes before start, records wait.
        expect(await progress('payments', 'payments-to-mrs')).to.deep.equal([
          ['[5000 : 64240]', 'RUNNING', 63_280, -360_000],
        ]);
        expect(((await progress('orders', 'orders-to-obs'))[2] as unknown[])[1]).to.equal('ABNORMAL');
        const listed = (await demoGet('')) as { stream_names: string[] };
        expect(listed.stream_names).to.deep.equal(['clicks', 'orders', 'payments', 'sensors']);
      });
    });
  });
});
