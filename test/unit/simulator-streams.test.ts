import { expect } from 'chai';
import { T0, PROJECT, CREDS, BASE, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, start } = sim;

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
      sim.clock.setTime(T0 + 12_345);
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
      sim.clock.setTime(T0 + 1_999);
      expect(await ranges()).to.deep.equal(['[0 : 1019]', '[50 : 504]', null]);
      sim.clock.setTime(T0 + 3_600_000);
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
      sim.clock.setTime(T0 + 10_000);
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
});
