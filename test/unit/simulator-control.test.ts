import { expect } from 'chai';
import { T0, BASE, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, offsets } = sim;

  describe('control', () => {
    it('setTaskState ABNORMAL freezes progress and discards from that moment; RUNNING catches up at the next boundary', async () => {
      sim.clock.setTime(T0 + 90_000);
      sim.dis.control.setTaskState('s1', 'to-obs', 'ABNORMAL');
      sim.clock.setTime(T0 + 300_000);
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'ABNORMAL',
        ['ABNORMAL', 1600, T0 + 60_000, 0],
        ['ABNORMAL', 630, T0 + 60_000, 48],
        ['ABNORMAL', 7, T0 + 60_000, 0],
      ]);
      sim.clock.setTime(T0 + 310_000);
      sim.dis.control.setTaskState('s1', 'to-obs', 'RUNNING');
      sim.clock.setTime(T0 + 359_999);
      // Discards resume too: 90 s running before the freeze + 49.999 s after it.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 1600, T0 + 60_000, 0],
        ['RUNNING', 630, T0 + 60_000, 72],
        ['RUNNING', 7, T0 + 60_000, 0],
      ]);
      sim.clock.setTime(T0 + 360_000);
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 4600, T0 + 360_000, 0],
        ['RUNNING', 1380, T0 + 360_000, 73],
        ['RUNNING', 7, T0 + 360_000, 0],
      ]);
    });

    it('setPartitionState freezes only that partition', async () => {
      sim.clock.setTime(T0 + 10_000);
      sim.dis.control.setPartitionState('s1', 'to-obs', 'shardId-0000000000', 'ABNORMAL');
      sim.clock.setTime(T0 + 120_000);
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['ABNORMAL', 1000, T0, 0],
        ['RUNNING', 780, T0 + 120_000, 63],
        ['RUNNING', 7, T0 + 120_000, 0],
      ]);
    });

    it('deleteTask makes details answer 400 DIS.4354 and drops the task from the list', async () => {
      sim.dis.control.deleteTask('s1', 'to-obs');
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
      sim.dis.control.deleteStream('s1');
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
      rejects(() => sim.dis.control.setTaskState('s1', 'nope', 'RUNNING'), 'no task "nope" in stream "s1"');
      rejects(() => sim.dis.control.deleteStream('nope'), 'no stream "nope"');
      rejects(
        () => sim.dis.control.setPartitionState('s1', 'to-obs', 'shardId-0000000009', 'ABNORMAL'),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      rejects(() => sim.dis.control.addTask('nope', { name: 't', destinationType: 'OBS' }), 'no stream "nope"');
      rejects(() => sim.dis.control.rewindPartition('s1', 'nope', p0, 1), 'no task "nope" in stream "s1"');
      rejects(() => sim.dis.control.rewindPartition('s1', 'to-obs', p0, 0), 'records: must be an integer >= 1');
      rejects(() => sim.dis.control.rewindPartition('s1', 'to-obs', p0, 1.5), 'records: must be an integer >= 1');
      rejects(
        () => sim.dis.control.setPartitionBehind('s1', 'to-obs', p0, -1),
        'behindRecords: must be an integer >= 0',
      );
      rejects(
        () => sim.dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000009', 1),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      rejects(() => sim.dis.control.setRecordsPerSecond('s1', p0, -1), 'recordsPerSecond: must be a number >= 0');
      rejects(
        () => sim.dis.control.setRecordsPerSecond('s1', p0, Number.NaN),
        'recordsPerSecond: must be a number >= 0',
      );
      rejects(() => sim.dis.control.setRecordsPerSecond('nope', p0, 1), 'no stream "nope"');
      rejects(
        () => sim.dis.control.expirePartition('s1', 'shardId-0000000009'),
        'no partition "shardId-0000000009" in stream "s1"',
      );
      sim.dis.control.deleteTask('s1', 'to-obs');
      rejects(() => sim.dis.control.setTaskState('s1', 'to-obs', 'RUNNING'), 'no task "to-obs" in stream "s1"');
      sim.dis.control.deleteStream('z-stream');
      rejects(() => sim.dis.control.expirePartition('z-stream', p0), 'no stream "z-stream"');
      sim.clock.setTime(T0 + 120_000);
      const ranges = (await get(`${BASE}/streams/s1`)).body as { partitions: { sequence_number_range: unknown }[] };
      expect(ranges.partitions.map((p) => p.sequence_number_range)).to.deep.equal(['[0 : 2200]', '[50 : 800]', null]);
    });

    it('rewindPartition lowers the offset at once and from then on, never below the partition start', async () => {
      sim.clock.setTime(T0 + 30_000);
      sim.dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000000', 300);
      sim.dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000001', 1_000);
      sim.dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000002', 10);
      // Before: 1000, 480 (start 50) and 7 (start 0), delivered at T0.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 700, T0, 0],
        ['RUNNING', 50, T0, 18],
        ['RUNNING', 0, T0, 0],
      ]);
      sim.clock.setTime(T0 + 60_000);
      // Deliveries continue from the rewound position: 1600 - 300, 630 - 430, 7 - 7.
      expect(await offsets('s1', 'to-obs')).to.deep.equal([
        'RUNNING',
        ['RUNNING', 1300, T0 + 60_000, 0],
        ['RUNNING', 200, T0 + 60_000, 33],
        ['RUNNING', 0, T0 + 60_000, 0],
      ]);
      sim.dis.control.rewindPartition('s1', 'to-obs', 'shardId-0000000000', 100);
      sim.clock.setTime(T0 + 120_000);
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
      sim.clock.setTime(T0 + 30_000);
      sim.dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 500);
      expect(await p0()).to.deep.equal(['RUNNING', 1000, T0, 0]);
      sim.clock.setTime(T0 + 60_000);
      expect(await p0()).to.deep.equal(['RUNNING', 1100, T0 + 60_000, 0]);
      sim.clock.setTime(T0 + 120_000);
      expect(await p0()).to.deep.equal(['RUNNING', 1700, T0 + 120_000, 0]);
      sim.clock.setTime(T0 + 130_000);
      sim.dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 2_000);
      sim.clock.setTime(T0 + 180_000);
      // 2800 - 2000 = 800 is behind what was already dumped: the offset waits at 1700.
      expect(await p0()).to.deep.equal(['RUNNING', 1700, T0 + 180_000, 0]);
      sim.clock.setTime(T0 + 300_000);
      expect(await p0()).to.deep.equal(['RUNNING', 2000, T0 + 300_000, 0]);
      sim.clock.setTime(T0 + 310_000);
      sim.dis.control.setPartitionBehind('s1', 'to-obs', 'shardId-0000000000', 0);
      sim.clock.setTime(T0 + 360_000);
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
      sim.clock.setTime(T0 + 29_999);
      expect(await show()).to.deep.equal([2, 2, ['ACTIVE', '[0 : 1299]'], ['ACTIVE', '[50 : 574]'], ['EXPIRED', null]]);
      sim.clock.setTime(T0 + 30_000);
      sim.dis.control.expirePartition('s1', 'shardId-0000000000');
      expect(await show()).to.deep.equal([1, 1, ['EXPIRED', null], ['ACTIVE', '[50 : 575]'], ['EXPIRED', null]]);
      const listed = (await get(`${BASE}/streams?limit=2&start_stream_name=a-stream`)).body as {
        stream_info_list: { partition_count: number }[];
      };
      expect(listed.stream_info_list.map((info) => info.partition_count)).to.deep.equal([1, 1]);
      // The dump still delivers, but the end offset froze at 1300; a later rate change does not revive it.
      sim.clock.setTime(T0 + 60_000);
      expect(((await offsets('s1', 'to-obs')) as unknown[])[1]).to.deep.equal(['RUNNING', 1300, T0 + 60_000, 0]);
      sim.dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 5);
      sim.clock.setTime(T0 + 600_000);
      expect(((await offsets('s1', 'to-obs')) as unknown[])[1]).to.deep.equal(['RUNNING', 1300, T0 + 600_000, 0]);
      expect(await show()).to.deep.equal([1, 1, ['EXPIRED', null], ['ACTIVE', '[50 : 2000]'], ['EXPIRED', null]]);
    });

    it('setRecordsPerSecond changes growth from now on, keeping end offsets continuous; 0 makes a partition idle', async () => {
      const range = async (): Promise<unknown> =>
        ((await get(`${BASE}/streams/s1`)).body as { partitions: { sequence_number_range: string }[] }).partitions[0]
          ?.sequence_number_range;
      const p0 = async (): Promise<unknown> => ((await offsets('s1', 'to-obs')) as unknown[])[1];
      sim.clock.setTime(T0 + 30_000);
      sim.dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 0);
      expect(await range()).to.equal('[0 : 1300]');
      sim.clock.setTime(T0 + 90_000);
      expect(await range()).to.equal('[0 : 1300]');
      // Fully dumped and nothing new: the offset stays put while deliveries go on.
      sim.clock.setTime(T0 + 60_000);
      expect(await p0()).to.deep.equal(['RUNNING', 1300, T0 + 60_000, 0]);
      sim.clock.setTime(T0 + 120_000);
      expect(await p0()).to.deep.equal(['RUNNING', 1300, T0 + 120_000, 0]);
      sim.clock.setTime(T0 + 130_000);
      sim.dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 4);
      sim.clock.setTime(T0 + 145_000);
      expect(await range()).to.equal('[0 : 1360]');
      sim.dis.control.setRecordsPerSecond('s1', 'shardId-0000000000', 0.5);
      sim.clock.setTime(T0 + 146_999);
      expect(await range()).to.equal('[0 : 1360]');
      sim.clock.setTime(T0 + 147_000);
      expect(await range()).to.equal('[0 : 1361]');
      sim.clock.setTime(T0 + 180_000);
      expect(await p0()).to.deep.equal(['RUNNING', 1377, T0 + 180_000, 0]);
    });

    it('records every request of the four operations, and forgets them on resetRequests', async () => {
      await get(`${BASE}/streams?limit=1`);
      await get(`${BASE}/streams/s1`);
      await get(`${BASE}/streams/s1/transfer-tasks`);
      await get(`${BASE}/streams/s1/transfer-tasks/nope`);
      await get('/v3/nothing');
      expect(sim.dis.control.requests()).to.deep.equal([
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
      sim.dis.control.resetRequests();
      expect(sim.dis.control.requests()).to.deep.equal([]);
    });
  });
});
