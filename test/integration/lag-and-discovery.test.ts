import { expect } from 'chai';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import {
  CREDENTIALS,
  PROJECT_ID,
  SCENARIO_EPOCH_MS,
  cyclesCompleted,
  scrape,
  seriesOf,
  startExporter,
  testConfig,
} from '../helpers/exporter.js';
import { ManualClock } from '../helpers/manual-clock.js';

const T0 = SCENARIO_EPOCH_MS;
const P = PROJECT_ID;

type Running = { app: App; server: RunningServer };
/** A scenario of the test project with these streams, time zero at T0. */
const scenarioOf = (streams: unknown[]) => ({ projectId: P, credentials: [CREDENTIALS], epochMs: T0, streams });
const obs = (interval = 60) => ({
  destinationType: 'OBS',
  destination: { obs_bucket_path: 'b', deliver_time_interval: interval },
});

/** The value of one series, by metric name and an exact label fragment; undefined when absent. */
function valueOf(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The status whose series is 1 for a partition. */
function statusOf(text: string, task: string, partition: string): string | undefined {
  const line = seriesOf(text, 'dis_dump_task_partition_status').find(
    (l) => l.includes(`task="${task}",partition="${partition}"`) && l.endsWith(' 1'),
  );
  return line?.match(/status="([a-z_]+)"/)?.[1];
}

describe('lag in records, verdicts, discovery and sharding (real HTTP against the simulator)', function () {
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(scenario: unknown, config: (url: string) => Config, clock: ManualClock) {
    const dis = await startFakeDis({ scenario: parseScenario(scenario), clock });
    cleanups.push(() => dis.close());
    const running: Running = await startExporter(config(dis.url), { clock });
    cleanups.push(() => running.app.stop());
    return { dis, ...running };
  }

  it('pages through 120 streams and a 1001-partition stream, with exact counts of calls and series', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const streams = Array.from({ length: 120 }, (_, i) => ({
      name: `s${String(i).padStart(3, '0')}`,
      partitions: [{ initialRecords: 10, recordsPerSecond: 0 }],
      tasks: [{ name: `t${i}`, ...obs() }],
    }));
    streams.push({
      name: 'big',
      partitions: Array.from({ length: 1001 }, () => ({ initialRecords: 5, recordsPerSecond: 0 })),
      tasks: [{ name: 'big-task', ...obs() }],
    });
    const { dis, app, server } = await start(
      { projectId: P, credentials: [CREDENTIALS], epochMs: T0, streams },
      (url) => testConfig(url, { concurrency: 8 }, [{ stream: '*', task: '*', include: '^(s11|big)' }]),
      clock,
    );
    await cyclesCompleted(app, 1);
    const text = await scrape(server);
    // s110..s119 and big: 11 targets
    expect(text).to.include('dis_exporter_targets 11\n');
    const calls = dis.control.requests().map((r) => r.operation);
    const count = (op: string) => calls.filter((c) => c === op).length;
    expect([
      count('list_streams'),
      count('list_transfer_tasks'),
      count('show_transfer_task'),
      count('show_stream'),
    ]).to.deep.equal(
      [2, 11, 11, 12], // 2 pages of streams; big has 2 pages of partitions
    );
    expect(
      dis.control
        .requests()
        .filter((r) => r.operation === 'list_streams')
        .map((r) => r.query),
    ).to.deep.equal(['limit=100', 'limit=100&start_stream_name=s098'] /* "big" sorts first */);
    expect(seriesOf(text, 'dis_stream_partition_end_offset').filter((l) => l.includes('stream="big"'))).to.have.length(
      1001,
    );
    expect(valueOf(text, 'dis_stream_partition_end_offset', 'stream="big",partition="shardId-0000001000"')).to.equal(5);
    expect(text).to.include('dis_exporter_api_requests_total{operation="show_stream",code="200"} 12');
    expect(text).to.include('dis_exporter_discovery_errors_total 0\n');
    expect(text).to.include(`dis_exporter_last_discovery_success_timestamp_seconds ${(T0 + 90_000) / 1000}\n`);
  });

  it('gives offsets only for well-formed ranges, whatever odd form the API sends', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const ranges = [null, '[5 : null]', '5 : 9', '[ 1  :  20 ]', '[null : null]', '[0 : 0]'];
    const { app, server } = await start(
      scenarioOf([
        {
          name: 'odd',
          partitions: ranges.map((rangeOverride) => ({ initialRecords: 0, recordsPerSecond: 0, rangeOverride })),
          tasks: [{ name: 'odd-task', ...obs() }],
        },
      ]),
      (url) => testConfig(url, {}, [{ stream: 'odd', task: 'odd-task' }]),
      clock,
    );
    await cyclesCompleted(app, 1);
    const text = await scrape(server);
    expect(seriesOf(text, 'dis_stream_partition_start_offset', 'dis_stream_partition_end_offset')).to.deep.equal([
      `dis_stream_partition_start_offset{project_id="${P}",stream="odd",partition="shardId-0000000003"} 1`,
      `dis_stream_partition_start_offset{project_id="${P}",stream="odd",partition="shardId-0000000005"} 0`,
      `dis_stream_partition_end_offset{project_id="${P}",stream="odd",partition="shardId-0000000003"} 20`,
      `dis_stream_partition_end_offset{project_id="${P}",stream="odd",partition="shardId-0000000005"} 0`,
    ]);
    expect(
      seriesOf(text, 'dis_dump_task_partition_lag_records').map((l) => l.replace(/^.*partition="([^"]+)"\} /, '$1 ')),
    ).to.deep.equal(['shardId-0000000003 20', 'shardId-0000000005 0']);
    expect(text).to.include(`dis_exporter_target_up{project_id="${P}",stream="odd",task="odd-task"} 1`);
  });

  it('never calls an idle partition stalled, calls a stuck one stalled after stallAfter, and sees a rewind', async () => {
    const clock = new ManualClock(T0 + 30_000);
    const { dis, app, server } = await start(
      scenarioOf([
        {
          name: 'q',
          partitions: [
            { initialRecords: 1000, recordsPerSecond: 0 }, // idle: fully dumped, nothing arrives
            { initialRecords: 1000, recordsPerSecond: 2 }, // busy, dumped every 60 s
            { initialRecords: 1000, recordsPerSecond: 2 }, // busy, but its dump is stuck
          ],
          tasks: [
            {
              name: 'q-task',
              createdMsAgo: 3_600_000,
              ...obs(60),
              partitions: { 'shardId-0000000002': { stalled: true, sinceMsAgo: 0 } },
            },
          ],
        },
      ]),
      (url) => testConfig(url, {}, [{ stream: 'q', task: 'q-task' }]),
      clock,
    );
    const verdicts: string[] = [];
    for (let cycle = 1; cycle <= 6; cycle++) {
      await cyclesCompleted(app, cycle);
      const text = await scrape(server);
      verdicts.push(
        ['0', '1', '2']
          .map((p) => {
            const partition = `shardId-000000000${p}`;
            const stalled = valueOf(text, 'dis_dump_task_partition_stalled_seconds', `partition="${partition}"`);
            return `${statusOf(text, 'q-task', partition)}/${stalled}`;
          })
          .join(' '),
      );
      await clock.advance(60_000);
    }
    // stallAfter = 3 × 60 s; polls at +30 s, +90 s, … ; the stuck partition has waited since the first poll
    expect(verdicts).to.deep.equal([
      'idle/0 progressing/0 progressing/0',
      'idle/0 progressing/0 progressing/60',
      'idle/0 progressing/0 progressing/120',
      'idle/0 progressing/0 stalled/180',
      'idle/0 progressing/0 stalled/240',
      'idle/0 progressing/0 stalled/300',
    ]);
    dis.control.rewindPartition('q', 'q-task', 'shardId-0000000001', 500);
    await cyclesCompleted(app, 7);
    let text = await scrape(server);
    expect(statusOf(text, 'q-task', 'shardId-0000000001')).to.equal('rewound');
    await clock.advance(60_000);
    await cyclesCompleted(app, 8);
    text = await scrape(server);
    expect(statusOf(text, 'q-task', 'shardId-0000000001')).to.equal('progressing');
    expect(statusOf(text, 'q-task', 'shardId-0000000000')).to.equal('idle');
  });

  it('reports a partition whose dump cannot keep up as falling_behind, with the exact lag', async () => {
    const clock = new ManualClock(T0 + 30_000);
    const { app, server } = await start(
      scenarioOf([
        {
          name: 'f',
          partitions: [{ initialRecords: 100_000, recordsPerSecond: 10 }],
          tasks: [
            {
              name: 'f-task',
              createdMsAgo: 3_600_000, // caught up before time zero; capped from then on
              ...obs(60),
              partitions: { 'shardId-0000000000': { dumpRecordsPerSecond: 5 } },
            },
          ],
        },
      ]),
      (url) => testConfig(url, {}, [{ stream: 'f', task: 'f-task' }]),
      clock,
    );
    const lags: number[] = [];
    const statuses: Array<string | undefined> = [];
    for (let cycle = 1; cycle <= 5; cycle++) {
      await cyclesCompleted(app, cycle);
      const text = await scrape(server);
      lags.push(valueOf(text, 'dis_dump_task_partition_lag_records', 'partition="shardId-0000000000"')!);
      statuses.push(statusOf(text, 'f-task', 'shardId-0000000000'));
      await clock.advance(60_000);
    }
    // the stream grows 600 per minute, the dump moves 5/s × 60 s = 300 per delivery: lag +300 a minute
    expect(lags).to.deep.equal([300, 600, 900, 1200, 1500]);
    // the first poll sees no delivery; falling_behind once the lag left grew over 3 deliveries (4 seen)
    expect(statuses).to.deep.equal(['progressing', 'progressing', 'progressing', 'progressing', 'falling_behind']);
  });

  it('reports the partitions of a PAUSED task as paused (never stalled), and progressing again once resumed', async () => {
    const clock = new ManualClock(T0 + 30_000);
    const { dis, app, server } = await start(
      scenarioOf([
        {
          name: 'p',
          partitions: [{ initialRecords: 100, recordsPerSecond: 10 }],
          tasks: [{ name: 'p-task', createdMsAgo: 3_600_000, ...obs(60) }],
        },
      ]),
      (url) => testConfig(url, {}, [{ stream: 'p', task: 'p-task' }]),
      clock,
    );
    await cyclesCompleted(app, 1);
    dis.control.setTaskState('p', 'p-task', 'PAUSED');
    const verdicts: string[] = [];
    const partition = 'shardId-0000000000';
    const verdict = (text: string): string =>
      `${statusOf(text, 'p-task', partition)}/${valueOf(text, 'dis_dump_task_partition_stalled_seconds', `partition="${partition}"`)}`;
    // 10 polls paused: far past stallAfter (3 × 60 s) with records waiting
    for (let cycle = 2; cycle <= 11; cycle++) {
      await clock.advance(60_000);
      await cyclesCompleted(app, cycle);
      verdicts.push(verdict(await scrape(server)));
    }
    expect(verdicts).to.deep.equal(Array.from({ length: 10 }, () => 'paused/0'));
    dis.control.setTaskState('p', 'p-task', 'RUNNING');
    await clock.advance(60_000);
    await cyclesCompleted(app, 12);
    expect(verdict(await scrape(server))).to.match(/^progressing\/\d+$/);
  });

  it('counts records lost to retention as expired', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const { app, server } = await start(
      scenarioOf([
        {
          name: 'r',
          partitions: [{ startOffset: 5000, initialRecords: 9000, recordsPerSecond: 0 }],
          tasks: [
            {
              name: 'r-task',
              createdMsAgo: 86_400_000,
              ...obs(60),
              partitions: { 'shardId-0000000000': { state: 'ABNORMAL', sinceMsAgo: 0, behindRecords: 6000 } },
            },
          ],
        },
      ]),
      (url) => testConfig(url, {}, [{ stream: 'r', task: 'r-task' }]),
      clock,
    );
    await cyclesCompleted(app, 1);
    const text = await scrape(server);
    const offset = valueOf(text, 'dis_dump_task_partition_last_transfer_offset', 'partition="shardId-0000000000"');
    expect(offset).to.equal(5000); // never below the partition start: behindRecords 6000 is clamped
    expect(valueOf(text, 'dis_dump_task_partition_expired_records', 'partition="shardId-0000000000"')).to.equal(0);
    expect(valueOf(text, 'dis_dump_task_partition_lag_records', 'partition="shardId-0000000000"')).to.equal(4000);
  });

  it('adds a new task and drops a vanished one at the next discovery, not before', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const { dis, app, server } = await start(
      scenarioOf([
        {
          name: 'd',
          partitions: [{ initialRecords: 10, recordsPerSecond: 1 }],
          tasks: [
            { name: 'keep', ...obs() },
            { name: 'vanish', ...obs() },
          ],
        },
      ]),
      (url) => ({ ...testConfig(url, {}, [{ stream: 'd', task: '*' }]), discovery: { intervalMs: 180_000 } }),
      clock,
    );
    await cyclesCompleted(app, 1);
    const up = (text: string) =>
      seriesOf(text, 'dis_exporter_target_up').map((l) => l.replace(/^.*task="([^"]+)"\} /, '$1 '));
    expect(up(await scrape(server))).to.deep.equal(['keep 1', 'vanish 1']);
    dis.control.addTask('d', { name: 'fresh', ...obs() });
    dis.control.deleteTask('d', 'vanish');
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    // not rediscovered yet: the vanished task is polled (and not found), the new one is unknown
    expect(up(await scrape(server))).to.deep.equal(['keep 1', 'vanish 0']);
    await clock.advance(60_000);
    await cyclesCompleted(app, 3);
    expect(up(await scrape(server))).to.deep.equal(['keep 1', 'vanish 0']);
    await clock.advance(60_000); // +270 s: 180 s since the last discovery
    await cyclesCompleted(app, 4);
    const text = await scrape(server);
    expect(up(text)).to.deep.equal(['fresh 1', 'keep 1']);
    expect(text.split('\n').filter((l) => l.includes('task="vanish"'))).to.deep.equal([]);
    expect(text).to.include('dis_exporter_targets 2\n');
  });

  it('keeps the previous targets when discovery fails, and counts the error', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const { dis, app, server } = await start(
      scenarioOf([
        {
          name: 'e',
          partitions: [{ initialRecords: 1, recordsPerSecond: 0 }],
          tasks: [{ name: 'e-task', ...obs() }],
        },
      ]),
      (url) => ({ ...testConfig(url, {}, [{ stream: '*', task: '*' }]), discovery: { intervalMs: 60_000 } }),
      clock,
    );
    await cyclesCompleted(app, 1);
    dis.control.addFault({ match: { operation: 'list_streams' }, kind: 'status', status: 500 });
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    const text = await scrape(server);
    expect(text).to.include(`dis_exporter_target_up{project_id="${P}",stream="e",task="e-task"} 1`);
    expect(text).to.include('dis_exporter_discovery_errors_total 1\n');
    expect(text).to.include(`dis_exporter_last_discovery_success_timestamp_seconds ${(T0 + 90_000) / 1000}\n`);
  });

  it('splits the targets between two shards with no overlap and no gap; streams fetched only by owners', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const streams = Array.from({ length: 8 }, (_, i) => ({
      name: `st${i}`,
      partitions: [{ initialRecords: 1, recordsPerSecond: 0 }],
      tasks: [
        { name: `a${i}`, ...obs() },
        { name: `b${i}`, ...obs() },
      ],
    }));
    const dis = await startFakeDis({
      scenario: parseScenario({ projectId: P, credentials: [CREDENTIALS], epochMs: T0, streams }),
      clock,
    });
    cleanups.push(() => dis.close());
    const owned: string[][] = [];
    for (const index of [0, 1]) {
      dis.control.resetRequests();
      const config = {
        ...testConfig(dis.url, {}, [{ stream: '*', task: '*' }]),
        shard: { index, total: 2, fromHostname: false },
      };
      const { app, server } = await startExporter(config, { clock });
      cleanups.push(() => app.stop());
      await cyclesCompleted(app, 1);
      const text = await scrape(server);
      expect(text).to.include(`dis_exporter_shard_info{index="${index}",total="2"} 1`);
      const targets = seriesOf(text, 'dis_exporter_target_up').map((l) =>
        l.replace(/^.*stream="([^"]+)",task="([^"]+)"\} 1$/, '$1/$2'),
      );
      owned.push(targets);
      const streamsOwned = [...new Set(targets.map((t) => t.split('/')[0]))].sort();
      const fetched = dis.control
        .requests()
        .filter((r) => r.operation === 'show_stream')
        .map((r) => r.path.split('/').pop())
        .sort();
      expect(fetched).to.deep.equal(streamsOwned);
      expect(text).to.include(`dis_exporter_targets ${targets.length}\n`);
    }
    const all = [...owned[0]!, ...owned[1]!].sort();
    expect(all).to.deep.equal(streams.flatMap((s) => s.tasks.map((t) => `${s.name}/${t.name}`)).sort());
    expect(owned[0]!.filter((t) => owned[1]!.includes(t))).to.deep.equal([]);
  });
});
