import { expect } from 'chai';
import type { Config } from '../../src/config/types.js';
import { parseScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import type { RecordedRequest } from '../../src/simulator/state.js';
import { golden } from '../helpers/golden.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';
import {
  CREDENTIALS,
  PROJECT_ID,
  cyclesCompleted,
  scrape,
  seriesOf,
  startExporter,
  testConfig,
  withoutDurations,
} from '../helpers/exporter.js';

// Consumer apps and stream health end to end (docs/metrics.md ("Consumer apps", "Stream health")): the real exporter
// against the simulator over HTTP, on a manual clock.

const T0 = Date.UTC(2024, 0, 1);
const OBS = { destinationType: 'OBS', destination: { obs_bucket_path: 'b', deliver_time_interval: 60 } };

/** A stream with a dump task, a FROZEN stream without one, and four apps with every wire form DIS uses. */
const SCENARIO = {
  projectId: PROJECT_ID,
  credentials: [CREDENTIALS],
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      id: 'ORDERSID',
      partitions: [
        { startOffset: 100, initialRecords: 1000, recordsPerSecond: 10 },
        { initialRecords: 500, recordsPerSecond: 1 },
      ],
      tasks: [{ name: 'orders-to-obs', id: 'TASKID', ...OBS }],
    },
    {
      name: 'archive',
      id: 'ARCHIVEID',
      status: 'FROZEN',
      retentionPeriodHours: 72,
      partitions: [{ startOffset: 40_000, initialRecords: 52_000 }],
    },
  ],
  apps: [
    // the SDK model's wire: partition ids "0", sequence_number a string, offsets numbers
    { name: 'billing', id: 'BILLINGID', streams: { orders: { behindRecords: 5 } } },
    // every value a string, ids as shardId-
    {
      name: 'audit',
      id: 'AUDITID',
      streams: { orders: { behindRecords: 300, wire: { values: 'string', partitionId: 'shardId' } } },
    },
    // no checkpoint yet; every value a number, ids as numbers; the listing leaves its streams out
    {
      name: 'fresh',
      id: 'FRESHID',
      listStreams: false,
      streams: { orders: { checkpoint: false, wire: { values: 'number', partitionId: 'number' } } },
    },
    // stopped 20,000 records back in the FROZEN stream: 8,001 of them have left the retention
    { name: 'reader', id: 'READERID', streams: { archive: { behindRecords: 20_000 } } },
  ],
};

/** Every app in every stream it names, every app of `orders` (fresh names none), and an app DIS does not know. */
const APPS: NonNullable<Config['apps']> = [
  { app: '*', stream: '*' },
  { app: '*', stream: 'orders' },
  { app: 'gone', stream: 'orders' },
];

const operations = (requests: readonly RecordedRequest[]) => requests.map((r) => r.operation);

describe('consumer apps and stream health (real HTTP against the simulator)', function () {
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(scenario: object, config: (url: string) => Config) {
    const clock = new ManualClock(T0 + 90_000);
    const dis = await startFakeDis({ scenario: parseScenario(scenario), clock });
    cleanups.push(() => dis.close());
    const running = await startExporter(config(dis.url), { clock });
    cleanups.push(() => running.app.stop());
    return { clock, dis, ...running };
  }

  it('serves the exact exposition: values as numbers and strings, no checkpoint, expired records, a missing app, FROZEN', async () => {
    const { app, server } = await start(SCENARIO, (url) => ({
      ...testConfig(url, {}, [{ stream: 'orders', task: 'orders-to-obs' }]),
      apps: APPS,
    }));
    await cyclesCompleted(app, 1);
    const text = withoutDurations(await scrape(server));
    expect(text).to.equal(golden('integration-apps.prom', text));
    // The values the golden file holds, spelt out: billing 5 behind, audit 300, fresh none, reader 20,000 of which
    // 8,001 expired; the pair of the unknown app is down with not_found.
    expect(
      seriesOf(text, 'dis_app_partition_lag_records').map((line) => line.replace(/project_id="\w+",/, '')),
    ).to.deep.equal([
      'dis_app_partition_lag_records{app="audit",stream="orders",partition="shardId-0000000000"} 300',
      'dis_app_partition_lag_records{app="audit",stream="orders",partition="shardId-0000000001"} 300',
      'dis_app_partition_lag_records{app="billing",stream="orders",partition="shardId-0000000000"} 5',
      'dis_app_partition_lag_records{app="billing",stream="orders",partition="shardId-0000000001"} 5',
      'dis_app_partition_lag_records{app="reader",stream="archive",partition="shardId-0000000000"} 20000',
    ]);
    expect(seriesOf(text, 'dis_app_partition_expired_records').filter((line) => !line.endsWith(' 0'))).to.deep.equal([
      `dis_app_partition_expired_records{project_id="${PROJECT_ID}",app="reader",stream="archive",partition="shardId-0000000000"} 8001`,
    ]);
    expect(seriesOf(text, 'dis_app_partition_has_checkpoint').filter((line) => line.endsWith(' 0'))).to.have.lengthOf(
      2,
    );
    expect(seriesOf(text, 'dis_exporter_app_up').filter((line) => line.endsWith(' 0'))).to.deep.equal([
      `dis_exporter_app_up{project_id="${PROJECT_ID}",app="gone",stream="orders"} 0`,
    ]);
    expect(text).to.include(
      `dis_exporter_app_errors_total{project_id="${PROJECT_ID}",app="gone",stream="orders",reason="not_found"} 1\n`,
    );
    expect(text).to.include(`dis_stream_status{project_id="${PROJECT_ID}",stream="archive",status="FROZEN"} 1\n`);
  });

  it('passes promtool check metrics with apps and stream health in the exposition', async function () {
    requireTool(this, 'promtool');
    const { app, server } = await start(SCENARIO, (url) => ({ ...testConfig(url, {}, []), apps: APPS }));
    await cyclesCompleted(app, 1);
    const result = promtoolCheckMetrics(await scrape(server));
    expect(result.output).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('makes no app call at all with apps: [] (the default)', async () => {
    const { app, dis, clock } = await start(SCENARIO, (url) => testConfig(url, {}, [{ stream: '*', task: '*' }]));
    await cyclesCompleted(app, 1);
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    const seen = operations(dis.control.requests());
    expect(seen.filter((operation) => operation === 'list_apps' || operation === 'show_consumer_state')).to.deep.equal(
      [],
    );
    expect(seen.length).to.equal(2 + 1 + 2 * 2); // discovery (streams, one task list), then 2 × (task + stream)
    expect(Object.hasOwn(app.store.current(), 'apps')).to.equal(false);
  });

  it('costs one consumption call per pair and cycle, and one app listing per discovery interval', async () => {
    const { app, dis, clock } = await start(SCENARIO, (url) => ({
      ...testConfig(url, {}, [{ stream: 'orders', task: 'orders-to-obs' }]),
      apps: APPS,
    }));
    await cyclesCompleted(app, 1);
    // 1 listing, 1 task, 2 streams (orders; archive for the reader), 5 pairs
    const count = (requests: readonly RecordedRequest[]) => {
      const counts: Record<string, number> = {};
      for (const operation of operations(requests)) counts[operation] = (counts[operation] ?? 0) + 1;
      return counts;
    };
    expect(count(dis.control.requests())).to.deep.equal({
      list_apps: 1,
      show_transfer_task: 1,
      show_stream: 2,
      show_consumer_state: 5,
    });
    dis.control.resetRequests();
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    expect(count(dis.control.requests())).to.deep.equal({
      show_transfer_task: 1,
      show_stream: 2,
      show_consumer_state: 5,
    });
    dis.control.resetRequests();
    // The discovery interval (5 m) ends at the 6th cycle: the apps are listed again then, and only then.
    for (let cycle = 3; cycle <= 6; cycle++) {
      await clock.advance(60_000);
      await cyclesCompleted(app, cycle);
      expect(count(dis.control.requests())['list_apps'], `cycle ${cycle}`).to.equal(cycle === 6 ? 1 : undefined);
    }
  });

  it('pages a consumption state and stream details past 1,000 partitions, and the app listing past 100 apps', async () => {
    const wide = {
      ...SCENARIO,
      streams: [{ name: 'wide', partitions: Array.from({ length: 1001 }, () => ({ initialRecords: 10 })) }],
      apps: Array.from({ length: 101 }, (_, i) => ({
        name: `app-${String(i).padStart(3, '0')}`,
        streams: i === 100 ? { wide: { behindRecords: 4 } } : {},
      })),
    };
    const { app, dis, server } = await start(wide, (url) => ({
      ...testConfig(url, {}, []),
      apps: [{ app: '*', stream: '*' }],
    }));
    await cyclesCompleted(app, 1);
    // Pages of one walk go one after the other; the two walks run side by side.
    const paths = dis.control.requests().map((r) => `${r.operation} ${r.query}`);
    expect(paths.sort()).to.deep.equal([
      'list_apps limit=100',
      'list_apps limit=100&start_app_name=app-099',
      'show_consumer_state checkpoint_type=LAST_READ&limit=1000',
      'show_consumer_state checkpoint_type=LAST_READ&limit=1000&start_partition_id=999',
      'show_stream limit_partitions=1000',
      'show_stream limit_partitions=1000&start_partitionId=shardId-0000000999',
    ]);
    const text = await scrape(server);
    expect(seriesOf(text, 'dis_app_partition_lag_records')).to.have.lengthOf(1001);
    expect(text).to.include(
      `dis_app_partition_checkpoint_offset{project_id="${PROJECT_ID}",app="app-100",stream="wide",partition="shardId-0000001000"} 5\n`,
    );
    expect(seriesOf(text, 'dis_app_info')).to.deep.equal([
      `dis_app_info{project_id="${PROJECT_ID}",app="app-100",app_id="${app.store.current().apps?.[0]?.appId}"} 1`,
    ]);
  });
});
