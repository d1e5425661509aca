import { expect } from 'chai';
import { parseScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import { golden } from '../helpers/golden.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';
import {
  PROJECT_ID,
  SCENARIO as BASE_SCENARIO,
  SCENARIO_EPOCH_MS,
  cyclesCompleted,
  scrape,
  startExporter,
  testConfig,
  withoutDurations,
} from '../helpers/exporter.js';

const T0 = SCENARIO_EPOCH_MS;
const obs = { destinationType: 'OBS', destination: { obs_bucket_path: 'b', deliver_time_interval: 60 } };
const orders = BASE_SCENARIO.streams[0]!;

/**
 * Odd values DIS may send, each through a `wireOverride` of the simulator: a -1 ("none") offset, epoch seconds and a
 * far-future time, a numeric partition id, and two streams whose details both echo a third stream's name.
 */
const SCENARIO = {
  ...BASE_SCENARIO,
  streams: [
    {
      ...orders,
      tasks: [
        {
          ...orders.tasks[0],
          wireOverride: { create_time: T0 / 1000, last_transfer_timestamp: Date.UTC(2030, 0, 1) },
          partitions: {
            'shardId-0000000000': { wireOverride: { last_transfer_offset: -1 } },
            'shardId-0000000001': { wireOverride: { partitionId: 1 } },
          },
        },
      ],
    },
    {
      name: 'clicks',
      wireOverride: { stream_name: 'orders' },
      partitions: [{ initialRecords: 500, recordsPerSecond: 1 }],
      tasks: [{ name: 'clicks-to-obs', id: 'task-clicks-0001', ...obs, wireOverride: { task_name: 'other-task' } }],
    },
    {
      name: 'views',
      wireOverride: { stream_name: 'orders' },
      partitions: [{ initialRecords: 700, recordsPerSecond: 2 }],
      tasks: [{ name: 'views-to-obs', id: 'task-views-0001', ...obs }],
    },
  ],
};

const TARGETS = [
  { stream: 'orders', task: 'orders-to-obs' },
  { stream: 'clicks', task: 'clicks-to-obs' },
  { stream: 'views', task: 'views-to-obs' },
];

describe('odd values in DIS answers (real HTTP against the simulator)', function () {
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start() {
    const clock = new ManualClock(T0 + 90_000);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    cleanups.push(() => dis.close());
    const { logger, lines } = logCapture('warn');
    const running = await startExporter(testConfig(dis.url, {}, TARGETS), { clock, logger });
    cleanups.push(() => running.app.stop());
    return { clock, lines, ...running };
  }

  it('keeps every target up, leaves out only the odd fields and labels by the asked names (golden)', async () => {
    const { clock, app, server } = await start();
    await cyclesCompleted(app, 1);
    await clock.advance(15_000);
    const text = withoutDurations(await scrape(server));
    expect(text).to.equal(golden('integration-odd-fields.prom', text));
    const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const keys = series.map((line) => line.slice(0, line.lastIndexOf(' ')));
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).to.deep.equal([]);
  });

  it('passes promtool check metrics', async function () {
    requireTool(this, 'promtool');
    const { app, server } = await start();
    await cyclesCompleted(app, 1);
    const result = promtoolCheckMetrics(await scrape(server));
    expect([result.status, result.output]).to.deep.equal([0, '']);
  });

  it('warns once per target (or stream) and field, not every cycle', async () => {
    const { clock, app, lines } = await start();
    await cyclesCompleted(app, 1);
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    await clock.advance(60_000);
    await cyclesCompleted(app, 3);
    const warning = (where: { stream: string; task?: string }, field: string, problem: string) => ({
      level: 'warn',
      component: 'poller',
      projectId: PROJECT_ID,
      ...where,
      field,
      problem,
      msg: 'ignored an odd field of a DIS answer',
    });
    const orders = { stream: 'orders', task: 'orders-to-obs' };
    // Stream and target polls run concurrently: their lines are compared in a fixed order (stream, task, field).
    const sortKey = (line: Record<string, unknown>): string =>
      [line['stream'], line['task'] ?? '', line['field']].join('\n');
    expect([...lines].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))).to.deep.equal([
      warning(
        { stream: 'clicks' },
        'stream_name',
        'is "orders" where "clicks" was asked for; the series keep "clicks"',
      ),
      warning(
        { stream: 'clicks', task: 'clicks-to-obs' },
        'task_name',
        'is "other-task" where "clicks-to-obs" was asked for; the series keep "clicks-to-obs"',
      ),
      warning(orders, 'create_time', 'is before 2001, so not epoch milliseconds (got 1704067200)'),
      warning(orders, 'last_transfer_timestamp', "is more than a day ahead of this host's clock (got 1893456000000)"),
      warning(orders, 'partitions[shardId-0000000000].last_transfer_offset', 'is -1 (DIS\'s "none")'),
      warning({ stream: 'views' }, 'stream_name', 'is "orders" where "views" was asked for; the series keep "views"'),
    ]);
  });
});
