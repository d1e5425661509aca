import { expect } from 'chai';
import { T0, BASE, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get } = sim;

  describe('list dump tasks', () => {
    it('returns task-level fields only, with last_transfer_timestamp 0 for a task that has not delivered yet', async () => {
      sim.clock.setTime(T0 + 30_000);
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
      sim.clock.setTime(T0 + 30_000);
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
      sim.clock.setTime(T0 + 59_999);
      expect(await progress()).to.deep.equal([T0, [1000, T0, 0], [480, T0, 32], [7, T0, 0]]);
      sim.clock.setTime(T0 + 60_000);
      expect(await progress()).to.deep.equal([
        T0 + 60_000,
        [1600, T0 + 60_000, 0],
        [630, T0 + 60_000, 33],
        [7, T0 + 60_000, 0],
      ]);
      sim.clock.setTime(T0 + 125_000);
      expect(await progress()).to.deep.equal([
        T0 + 120_000,
        [2200, T0 + 120_000, 0],
        [780, T0 + 120_000, 65],
        [7, T0 + 120_000, 0],
      ]);
    });

    it('shows a task PAUSED before time zero frozen at its last delivery before the pause', async () => {
      sim.clock.setTime(T0 + 600_000);
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
      sim.clock.setTime(T0 + 49_999);
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
      sim.clock.setTime(T0 + 50_000);
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
      sim.clock.setTime(T0 + 300_000);
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
});
