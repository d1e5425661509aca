import { expect } from 'chai';
import { parseScenario, type FakeDis } from '../../src/simulator/fake-dis.js';
import { T0, PROJECT, CREDS, BASE, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, start } = sim;

  describe('scenarios', () => {
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
        sim.clock.setTime(T0 + 60_000);
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 1600]', 1240, 60_000],
          ['ACTIVE', '[0 : 1120]', 1120, 60_000],
        ]);
        sim.clock.setTime(T0 + 120_000);
        expect(await view(server)).to.deep.equal([
          ['ACTIVE', '[0 : 2200]', 1480, 120_000],
          ['ACTIVE', '[0 : 1240]', 1240, 120_000],
        ]);
        // Once the stream stops growing, the dump catches up 240 records per delivery.
        sim.clock.setTime(T0 + 150_000);
        server.control.setRecordsPerSecond('x', 'shardId-0000000000', 0);
        const fast = async (t: number): Promise<unknown> => {
          sim.clock.setTime(T0 + t);
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
        sim.clock.setTime(T0 + 29_999);
        expect((await view(server))[0]).to.deep.equal(['ACTIVE', '[0 : 1299]', 1000, 0]);
        sim.clock.setTime(T0 + 30_000);
        expect((await view(server))[0]).to.deep.equal(['EXPIRED', null, 1000, 0]);
        expect(await counts()).to.deep.equal([0, 1, 0]);
        sim.clock.setTime(T0 + 120_000);
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
  });
});
