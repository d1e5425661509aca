import { expect } from 'chai';
import type { StreamSpecInput, TaskSpecInput } from '../../src/simulator/fake-dis.js';
import { T0, BASE, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, offsets } = sim;

  describe('control', () => {
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
        sim.clock.setTime(T0 + 30_000);
        sim.dis.control.addTask('s1', late);
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
        sim.clock.setTime(T0 + 89_999);
        expect(await offsets('s1', 'late')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 0, 0, 0],
          ['RUNNING', 0, 0, 0],
          ['RUNNING', 0, 0, 0],
        ]);
        sim.clock.setTime(T0 + 90_000);
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
        sim.clock.setTime(T0 + 29_999);
        expect((await get(`${BASE}/streams/s1/transfer-tasks/late`)).body).to.deep.equal({
          errorCode: 'DIS.4354',
          message: `The transfer task does not exist. [late][${rid(4)}]`,
        });
        expect(((await list()) as { total_number: number }).total_number).to.equal(3);
      });

      it('takes createdMsAgo back from the moment it is added, and then works with the other controls', async () => {
        sim.clock.setTime(T0 + 30_000);
        sim.dis.control.addTask('s1', { ...late, createdMsAgo: 45_000 });
        sim.clock.setTime(T0 + 45_000);
        expect(await offsets('s1', 'late')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 1350, T0 + 45_000, 0],
          ['RUNNING', 612, T0 + 45_000, 0],
          ['RUNNING', 7, T0 + 45_000, 0],
        ]);
        sim.clock.setTime(T0 + 50_000);
        sim.dis.control.setTaskState('s1', 'late', 'PAUSED');
        sim.clock.setTime(T0 + 200_000);
        expect(await offsets('s1', 'late')).to.deep.equal([
          'PAUSED',
          ['PAUSED', 1350, T0 + 45_000, 0],
          ['PAUSED', 612, T0 + 45_000, 0],
          ['PAUSED', 7, T0 + 45_000, 0],
        ]);
      });

      it('starts afresh when a deleted task is added again under the same name', async () => {
        sim.clock.setTime(T0 + 10_000);
        sim.dis.control.setTaskState('s1', 'to-obs', 'PAUSED');
        sim.dis.control.deleteTask('s1', 'to-obs');
        sim.dis.control.addTask('s1', { name: 'to-obs', id: 'NEWOBSID', destinationType: 'OBS' });
        sim.clock.setTime(T0 + 70_000);
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
          sim.dis.control.addTask('s1', {
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
        expect(() => sim.dis.control.addTask('s1', { name: 'fresh', destinationType: 'OBS' })).to.throw(
          'task "fresh" already exists in stream "s1"',
        );
        sim.dis.control.addTask('s1', { name: 'four', destinationType: 'OBS' });
        sim.dis.control.addTask('s1', { name: 'five', destinationType: 'OBS' });
        expect(() => sim.dis.control.addTask('s1', { name: 'six', destinationType: 'OBS' })).to.throw(
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
        sim.clock.setTime(T0 + 10_000);
        sim.dis.control.addStream(stream);
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
        sim.clock.setTime(T0 + 20_000);
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
        sim.clock.setTime(T0 + 40_000);
        expect(await offsets('b-stream', 'b-task')).to.deep.equal([
          'RUNNING',
          ['RUNNING', 160, T0 + 40_000, 0],
          ['RUNNING', 10, T0 + 40_000, 0],
        ]);
        sim.clock.setTime(T0 + 9_999);
        expect((await get(`${BASE}/streams/b-stream`)).body).to.deep.equal({
          errorCode: 'DIS.4301',
          message: `Stream does not exist. [b-stream][${rid(5)}]`,
        });
      });

      it('replaces a deleted stream of the same name with a fresh one', async () => {
        sim.clock.setTime(T0 + 1_000);
        sim.dis.control.expirePartition('z-stream', 'shardId-0000000000');
        sim.dis.control.deleteStream('z-stream');
        sim.dis.control.addStream({
          name: 'z-stream',
          id: 'Z2ID',
          partitions: [{ initialRecords: 5, recordsPerSecond: 1 }],
        });
        sim.clock.setTime(T0 + 3_000);
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
          sim.dis.control.addStream({
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
        expect(() => sim.dis.control.addStream({ name: 's1', partitions: [{}] })).to.throw(
          'stream "s1" already exists',
        );
        sim.dis.control.addStream(stream);
        expect(() => sim.dis.control.addStream(stream)).to.throw('stream "b-stream" already exists');
      });
    });
  });
});
