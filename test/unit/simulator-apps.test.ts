import { expect } from 'chai';
import { parseScenario } from '../../src/simulator/fake-dis.js';
import { BASE, CREDS, PROJECT, T0, simulatorPerTest } from '../helpers/simulator.js';

// The simulator's consumer apps and stream status (docs/development.md ("The simulator")): the app listing, each
// app's consumption state as it moves with the clock, the wire forms DIS uses, and the errors.

const APPS_SCENARIO = {
  projectId: PROJECT,
  credentials: [CREDS],
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      status: 'FROZEN',
      retentionPeriodHours: 72,
      partitions: [
        { startOffset: 100, initialRecords: 1000, recordsPerSecond: 10 },
        { startOffset: 0, initialRecords: 500, recordsPerSecond: 1 },
      ],
    },
  ],
  apps: [
    // keeps up: 5 records behind the newest at each commit (every 10 s)
    { name: 'billing', id: 'BILLINGID', createdMsAgo: 60_000, streams: { orders: { behindRecords: 5 } } },
    // reads 2 records/s at most from 600 behind the newest: falls further behind partition 0, written at 10/s
    {
      name: 'audit',
      id: 'AUDITID',
      streams: {
        orders: {
          behindRecords: 600,
          readRecordsPerSecond: 2,
          commitIntervalSeconds: 30,
          wire: { values: 'number', partitionId: 'number' },
        },
      },
    },
    // associated with the stream, no checkpoint yet; the listing leaves its streams out, as the reference's table does
    {
      name: 'fresh',
      id: 'FRESHID',
      listStreams: false,
      streams: { orders: { checkpoint: false, wire: { values: 'string', partitionId: 'shardId' } } },
    },
  ],
};

type State = {
  partition_id: unknown;
  sequence_number: unknown;
  latest_offset: unknown;
  earliest_offset: unknown;
};

describe('simulator: consumer apps', () => {
  const sim = simulatorPerTest();
  const { get, start } = sim;

  async function states(path: string): Promise<unknown[][]> {
    const body = (await get(path, { server: await server() })).body as { partition_consuming_states: State[] };
    return body.partition_consuming_states.map((s) => [
      s.partition_id,
      s.sequence_number,
      s.latest_offset,
      s.earliest_offset,
    ]);
  }
  let started: Awaited<ReturnType<typeof start>> | undefined;
  async function server() {
    started ??= await start(APPS_SCENARIO);
    return started;
  }
  beforeEach(() => {
    started = undefined;
  });

  it('lists the apps by name, with their streams unless told not to, paging by an exclusive start_app_name', async () => {
    const reply = await get(`${BASE}/apps`, { server: await server() });
    expect(reply.body).to.deep.equal({
      total_number: 3,
      apps: [
        {
          app_name: 'audit',
          app_id: 'AUDITID',
          create_time: T0 - 86_400_000,
          commit_checkpoint_stream_names: ['orders'],
        },
        {
          app_name: 'billing',
          app_id: 'BILLINGID',
          create_time: T0 - 60_000,
          commit_checkpoint_stream_names: ['orders'],
        },
        { app_name: 'fresh', app_id: 'FRESHID', create_time: T0 - 86_400_000 },
      ],
      has_more_app: false,
    });
    const page = async (query: string) => {
      const body = (await get(`${BASE}/apps?${query}`, { server: await server() })).body as ListBody;
      return [body.apps.map((app) => app.app_name), body.has_more_app];
    };
    type ListBody = { apps: { app_name: string }[]; has_more_app: boolean };
    expect(await page('limit=2')).to.deep.equal([['audit', 'billing'], true]);
    expect(await page('limit=2&start_app_name=billing')).to.deep.equal([['fresh'], false]);
    expect(await page('stream_name=clicks')).to.deep.equal([[], false]);
    expect((await get(`${BASE}/apps?limit=101`, { server: await server() })).status).to.equal(400);
  });

  it('moves the checkpoints with the clock: one keeping up, one falling behind at its read rate', async () => {
    const path = (app: string) => `${BASE}/apps/${app}/streams/orders?checkpoint_type=LAST_READ`;
    // At time zero the newest records are 999 and 499.
    expect(await states(path('billing'))).to.deep.equal([
      ['0', '994', 999, 100],
      ['1', '494', 499, 0],
    ]);
    // 600 behind 499 would be below 0: no record read yet there.
    expect(await states(path('audit'))).to.deep.equal([
      [0, 399, 999, 100],
      [1, 0, 499, 0],
    ]);
    // 65 s later: billing committed at 60 s, audit at 60 s (every 30 s) having read 120 records.
    await sim.clock.advance(65_000);
    expect(await states(path('billing'))).to.deep.equal([
      ['0', '1594', 1649, 100],
      ['1', '554', 564, 0],
    ]);
    expect(await states(path('audit'))).to.deep.equal([
      [0, 519, 1649, 100],
      [1, 0, 564, 0],
    ]);
  });

  it('gives an app without a checkpoint -1, and pages with a start_partition_id in any id form', async () => {
    const path = `${BASE}/apps/fresh/streams/orders?checkpoint_type=LAST_READ`;
    expect(await states(path)).to.deep.equal([
      ['shardId-0000000000', '-1', '999', '100'],
      ['shardId-0000000001', '-1', '499', '0'],
    ]);
    const first = (await get(`${path}&limit=1`, { server: await server() })).body as { has_more: boolean };
    expect(first.has_more).to.equal(true);
    expect(await states(`${path}&limit=1&start_partition_id=0`)).to.deep.equal([
      ['shardId-0000000001', '-1', '499', '0'],
    ]);
    expect(await states(`${path}&start_partition_id=shardId-0000000001`)).to.deep.equal([]);
  });

  it('answers a missing app with DIS.4332, a missing stream with DIS.4301, and requires checkpoint_type', async () => {
    const code = async (path: string) => {
      const reply = await get(path, { server: await server() });
      return [reply.status, (reply.body as { errorCode?: string }).errorCode];
    };
    expect(await code(`${BASE}/apps/gone/streams/orders?checkpoint_type=LAST_READ`)).to.deep.equal([400, 'DIS.4332']);
    expect(await code(`${BASE}/apps/billing/streams/gone?checkpoint_type=LAST_READ`)).to.deep.equal([400, 'DIS.4301']);
    expect(await code(`${BASE}/apps/billing/streams/orders`)).to.deep.equal([400, 'DIS.4200']);
    expect(await code(`${BASE}/apps/billing/streams/orders?checkpoint_type=LAST_READ&limit=1001`)).to.deep.equal([
      400,
      'DIS.4200',
    ]);
  });

  it("gives the stream's scenario status (FROZEN) in its details and in the stream list", async () => {
    const details = (await get(`${BASE}/streams/orders`, { server: await server() })).body as Record<string, unknown>;
    expect([details['status'], details['retention_period']]).to.deep.equal(['FROZEN', 72]);
    const list = (await get(`${BASE}/streams`, { server: await server() })).body as {
      stream_info_list: { status: string }[];
    };
    expect(list.stream_info_list.map((info) => info.status)).to.deep.equal(['FROZEN']);
  });

  it('checks the apps of a scenario', () => {
    expect(() =>
      parseScenario({
        projectId: PROJECT,
        apps: [
          { name: 'a b', streams: { 'bad stream': {}, orders: { behindRecords: -1, wire: { values: 'hex' } } } },
          { name: 'x', streams: { orders: { typo: 1 } } },
          { name: 'x' },
        ],
      }),
    ).to.throw(
      [
        'scenario: apps[0].name: must be 1-200 letters, digits, "-" or "_"',
        'scenario: apps[0].streams.bad stream: is not a stream name',
        'scenario: apps[0].streams.orders.wire.values: must be one of sdk, string, number',
        'scenario: apps[0].streams.orders.behindRecords: must be an integer >= 0',
        'scenario: apps[1].streams.orders.typo: unknown key',
        'scenario: apps[2].name: duplicate "x"',
      ].join('\n'),
    );
  });
});
