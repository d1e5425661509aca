import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { golden } from '../helpers/golden.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';
import {
  CREDENTIALS,
  PROJECT_ID,
  SCENARIO,
  SCENARIO_EPOCH_MS,
  cyclesCompleted,
  scrape,
  seriesOf,
  startExporter,
  testConfig,
  withoutDurations,
} from '../helpers/exporter.js';

const T0 = SCENARIO_EPOCH_MS;
// got retries a 503 by default, which would hide /-/ready's answer
const got = baseGot.extend({ retry: { limit: 0 } });

type Harness = { clock: ManualClock; dis: FakeDis; app: App; server: RunningServer };

describe('exporter against the simulator (real HTTP)', () => {
  let h: Harness;
  const extra: Array<() => Promise<void>> = [];

  async function setUp(
    poll: Parameters<typeof testConfig>[1] = {},
    options: { credentials?: typeof CREDENTIALS; processMetrics?: boolean; startAt?: number } = {},
  ): Promise<Harness> {
    const clock = new ManualClock(options.startAt ?? T0 + 90_000);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    const { app, server } = await startExporter(testConfig(dis.url, poll), {
      clock,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
    });
    h = { clock, dis, app, server };
    return h;
  }

  afterEach(async () => {
    await h?.app.stop();
    await h?.dis.close();
    for (const cleanup of extra.splice(0)) await cleanup();
  });

  it('serves the exact exposition after the first cycle (golden)', async () => {
    await setUp();
    await cyclesCompleted(h.app, 1);
    await h.clock.advance(15_000); // scrape 15 s after the poll: lag grows, nothing else changes
    const text = withoutDurations(await scrape(h.server));
    expect(text).to.equal(golden('integration-first-cycle.prom', text));
  });

  it('is not ready until the first cycle has finished, then ready; healthy while polling', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    dis.control.addFault({ kind: 'latency', latencyMs: 5_000 });
    const { app, server } = await startExporter(testConfig(dis.url), { clock });
    h = { clock, dis, app, server };
    const ready = await got(`${server.url}/-/ready`, { throwHttpErrors: false });
    expect([ready.statusCode, ready.body]).to.deep.equal([503, 'first poll cycle not finished\n']);
    const healthy = await got(`${server.url}/-/healthy`);
    expect([healthy.statusCode, healthy.body]).to.deep.equal([200, 'OK\n']);
    await flush();
    await clock.advance(5_000);
    await cyclesCompleted(app, 1);
    const readyAfter = await got(`${server.url}/-/ready`);
    expect([readyAfter.statusCode, readyAfter.body]).to.deep.equal([200, 'Ready\n']);
  });

  it('follows a task that turns ABNORMAL at the next cycle', async () => {
    await setUp();
    await cyclesCompleted(h.app, 1);
    h.dis.control.setTaskState('orders', 'orders-to-obs', 'ABNORMAL');
    h.dis.control.setPartitionState('orders', 'orders-to-obs', 'shardId-0000000001', 'ABNORMAL');
    await h.clock.advance(60_000);
    await cyclesCompleted(h.app, 2);
    const text = await scrape(h.server);
    expect(seriesOf(text, 'dis_dump_task_state').filter((l) => l.includes('orders-to-obs'))).to.deep.equal(
      ['ABNORMAL 1', 'DELETE 0', 'ERROR 0', 'PAUSED 0', 'RUNNING 0', 'STARTING 0'].map((s) => {
        const [state, value] = s.split(' ');
        return `dis_dump_task_state{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs",state="${state}"} ${value}`;
      }),
    );
    expect(text).to.include(
      `dis_dump_task_partition_state{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs",partition="shardId-0000000001",state="ABNORMAL"} 1`,
    );
    expect(text).to.include(
      `dis_dump_task_partition_state{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs",partition="shardId-0000000001",state="RUNNING"} 0`,
    );
  });

  it('drops every series of a deleted task at once and reports not_found', async () => {
    await setUp();
    await cyclesCompleted(h.app, 1);
    h.dis.control.deleteTask('orders', 'orders-to-obs');
    await h.clock.advance(60_000);
    await cyclesCompleted(h.app, 2);
    const text = await scrape(h.server);
    expect(text.split('\n').filter((l) => l.startsWith('dis_dump_task') && l.includes('orders-to-obs'))).to.deep.equal(
      [],
    );
    const labels = `project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"`;
    expect(text).to.include(`dis_exporter_target_up{${labels}} 0`);
    expect(text).to.include(`dis_exporter_target_errors_total{${labels},reason="not_found"} 1`);
    expect(text).to.include('dis_exporter_targets 2');
    expect(text).to.include(
      `dis_dump_task_partitions{project_id="${PROJECT_ID}",stream="clicks",task="clicks-to-dli"} 1`,
    );
  });

  for (const [name, fault, reason] of [
    ['a 500', { kind: 'status', status: 500 }, 'server_error'],
    ['a garbage 200 body', { kind: 'malformed' }, 'bad_response'],
    ['HTTP 429 APIGW.0308', { kind: 'status', status: 429 }, 'throttled'],
    [
      '400 DIS.4305',
      { kind: 'status', status: 400, body: { errorCode: 'DIS.4305', message: 'Too many stream requests' } },
      'throttled',
    ],
    ['a reset connection', { kind: 'reset' }, 'network'],
  ] as const) {
    it(`keeps serving stale data on ${name}, marks the target down with reason ${reason}, then drops it after staleAfter`, async () => {
      await setUp();
      await cyclesCompleted(h.app, 1);
      const before = await scrape(h.server);
      h.dis.control.addFault({ match: { task: 'orders-to-obs' }, ...fault });
      await h.clock.advance(60_000);
      await cyclesCompleted(h.app, 2);
      const labels = `project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"`;
      const during = await scrape(h.server);
      expect(during).to.include(`dis_exporter_target_up{${labels}} 0`);
      expect(during).to.include(`dis_exporter_target_errors_total{${labels},reason="${reason}"} 1`);
      const offsets = (text: string) =>
        seriesOf(text, 'dis_dump_task_partition_last_transfer_offset').filter((l) => l.includes('orders-to-obs'));
      expect(offsets(during)).to.deep.equal(offsets(before));
      for (let cycle = 3; cycle <= 7; cycle++) {
        await h.clock.advance(60_000);
        await cyclesCompleted(h.app, cycle);
      }
      // last success at +0 s; now +360 s > staleAfter (300 s): the data series are gone, self-metrics stay
      const after = await scrape(h.server);
      expect(
        after.split('\n').filter((l) => l.startsWith('dis_dump_task') && l.includes('orders-to-obs')),
      ).to.deep.equal([]);
      expect(after).to.include(`dis_exporter_target_errors_total{${labels},reason="${reason}"} 6`);
      expect(after).to.include(`dis_exporter_target_last_success_timestamp_seconds{${labels}} ${(T0 + 90_000) / 1000}`);
    });
  }

  it('reports reason auth on a bad signature (401 APIGW.0301) and counts the 401', async () => {
    await setUp({}, { credentials: { ...CREDENTIALS, secretKey: 'wrong-secret' } });
    await cyclesCompleted(h.app, 1);
    const text = await scrape(h.server);
    const labels = `project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"`;
    expect(text).to.include(`dis_exporter_target_up{${labels}} 0`);
    expect(text).to.include(`dis_exporter_target_errors_total{${labels},reason="auth"} 1`);
    expect(text).to.include('dis_exporter_api_requests_total{operation="show_transfer_task",code="401"} 2');
    expect(h.app.store.current().targets[0]?.lastError?.message).to.match(
      /^GET \/v2\/0123456789abcdef0123456789abcdef\/streams\/orders\/transfer-tasks\/orders-to-obs: HTTP 401 APIGW\.0301 \(Incorrect IAM authentication information: signature does not match\) \[request id [0-9a-f]{32}\]$/,
    );
    expect(JSON.stringify(h.app.store.current())).not.to.include('wrong-secret');
  });

  it('reports reason timeout when DIS does not answer within poll.timeout', async () => {
    await setUp({ timeoutMs: 200 });
    h.dis.control.addFault({ match: { task: 'clicks-to-dli' }, kind: 'timeout' });
    for (let i = 0; i < 200 && h.app.store.current().cyclesCompleted < 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    const text = await scrape(h.server);
    expect(text).to.include(
      `dis_exporter_target_errors_total{project_id="${PROJECT_ID}",stream="clicks",task="clicks-to-dli",reason="timeout"} 1`,
    );
    expect(text).to.include('dis_exporter_api_requests_total{operation="show_transfer_task",code="error"} 1');
  });

  it('keeps answering /metrics and stops at once while every DIS request hangs', async () => {
    // poll.timeout 10 minutes: nothing but the stop can end these requests within the test.
    await setUp({ timeoutMs: 600_000 });
    h.dis.control.addFault({ kind: 'timeout' });
    for (let i = 0; i < 200 && h.dis.control.requests().length < 4; i++) await flush();
    expect(h.dis.control.requests().map((r) => [r.operation, r.status])).to.deep.equal([
      ['show_transfer_task', 0],
      ['show_transfer_task', 0],
      ['show_stream', 0],
      ['show_stream', 0],
    ]);
    const metrics = await got(`${h.server.url}/metrics`);
    expect(metrics.statusCode).to.equal(200);
    expect(seriesOf(metrics.body, 'dis_exporter_targets')).to.deep.equal(['dis_exporter_targets 0']);
    const ready = await got(`${h.server.url}/-/ready`, { throwHttpErrors: false });
    expect(ready.statusCode).to.equal(503);
    // The stop aborts the hanging requests instead of waiting for poll.timeout.
    await h.app.stop();
    expect(h.app.poller.isAlive()).to.equal(false);
    expect(h.app.store.current().cyclesCompleted).to.equal(0);
  });

  it('retries a 5xx and succeeds, counting both requests', async () => {
    await setUp({ retries: 2 });
    h.dis.control.addFault({ match: { task: 'orders-to-obs' }, kind: 'status', status: 503, times: 1 });
    // the back-off sleeps on the manual clock: random 0.5 × 250 ms
    for (let i = 0; i < 500 && h.clock.sleeping === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(h.clock.nextWake).to.equal(T0 + 90_000 + 125);
    await h.clock.advance(125);
    await cyclesCompleted(h.app, 1);
    const text = await scrape(h.server);
    const taskRequests = seriesOf(text, 'dis_exporter_api_requests_total').filter((l) =>
      l.includes('show_transfer_task'),
    );
    expect(taskRequests.sort()).to.deep.equal([
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 2',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="503"} 1',
    ]);
    expect(text).to.include(
      `dis_exporter_target_up{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"} 1`,
    );
  });

  it('reports reason network when DIS is unreachable, and keeps serving', async () => {
    const clock = new ManualClock(T0);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    const closedUrl = dis.url;
    await dis.close();
    const { app, server } = await startExporter(testConfig(closedUrl), { clock });
    h = { clock, dis, app, server };
    await cyclesCompleted(app, 1);
    const text = await scrape(server);
    expect(text).to.include(
      `dis_exporter_target_errors_total{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs",reason="network"} 1`,
    );
    expect(app.store.current().targets[0]?.lastError?.message).to.match(
      /: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
    );
  });

  it('serves OpenMetrics on request without changing later text scrapes', async () => {
    await setUp();
    await cyclesCompleted(h.app, 1);
    const text = await scrape(h.server);
    const response = await got(`${h.server.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(response.headers['content-type']).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(response.body).to.match(/# EOF\n$/);
    expect(response.body).to.include('# TYPE dis_exporter_api_requests counter\ndis_exporter_api_requests_total{');
    expect(await scrape(h.server)).to.equal(text);
  });

  it('gzips /metrics when the scraper accepts it (as Prometheus does), identical once unzipped', async () => {
    await setUp();
    await cyclesCompleted(h.app, 1);
    const plain = await got(`${h.server.url}/metrics`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).to.equal(undefined);
    const zipped = await got(`${h.server.url}/metrics`, {
      headers: { 'accept-encoding': 'gzip' },
      decompress: false,
      responseType: 'buffer',
    });
    expect(zipped.headers['content-encoding']).to.equal('gzip');
    expect(zipped.headers['vary']).to.equal('Accept, Accept-Encoding');
    expect(zipped.rawBody.length).to.be.lessThan(plain.rawBody.length / 4);
    expect(gunzipSync(zipped.rawBody).toString('utf8')).to.equal(plain.body);
  });

  it('serves only the current state of each state set with metrics.stateSets current', async () => {
    const clock = new ManualClock(T0 + 90_000);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    const config = { ...testConfig(dis.url), metrics: { stateSets: 'current' as const } };
    const { app, server } = await startExporter(config, { clock });
    h = { clock, dis, app, server };
    await cyclesCompleted(app, 1);
    await clock.advance(60_000);
    await cyclesCompleted(app, 2);
    const text = await scrape(server);
    const labels = `project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"`;
    expect(seriesOf(text, 'dis_dump_task_state')).to.deep.equal([
      `dis_dump_task_state{${labels},state="RUNNING"} 1`,
      `dis_dump_task_state{project_id="${PROJECT_ID}",stream="clicks",task="clicks-to-dli",state="RUNNING"} 1`,
    ]);
    expect(
      seriesOf(text, 'dis_dump_task_partition_state').filter((line) => line.includes('orders-to-obs')),
    ).to.deep.equal(
      ['shardId-0000000000', 'shardId-0000000001'].map(
        (partition) => `dis_dump_task_partition_state{${labels},partition="${partition}",state="RUNNING"} 1`,
      ),
    );
    const verdicts = seriesOf(text, 'dis_dump_task_partition_status');
    expect(verdicts).to.have.length(3);
    expect(verdicts.every((line) => line.endsWith(' 1'))).to.equal(true);
  });

  it('lints clean with promtool check metrics on the live exposition', async function () {
    requireTool(this, 'promtool');
    await setUp({}, { processMetrics: true });
    await cyclesCompleted(h.app, 1);
    const text = await scrape(h.server);
    expect(text).to.include('process_cpu_seconds_total');
    // prom-client's default nodejs_active_*_total gauges break the _total rule (a prom-client wart, not ours)
    const ours = text
      .split('\n\n')
      .filter((family) => !/^# HELP nodejs_active_(handles|requests|resources)_total /.test(family))
      .join('\n\n');
    const result = promtoolCheckMetrics(ours);
    expect(result.output).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('shows the targets on the landing page, HTML-escaped', async () => {
    await setUp();
    h.dis.control.addFault({
      match: { task: 'clicks-to-dli' },
      kind: 'status',
      status: 400,
      body: { errorCode: 'DIS.4300', message: '<script>alert(1)</script>' },
    });
    await cyclesCompleted(h.app, 1);
    const page = (await got(`${h.server.url}/`)).body;
    expect(page).to.include('<a href="metrics">metrics</a>');
    expect(page).to.include('Version 0.0.0-test');
    expect(page).to.include(
      '<tr data-key="orders/orders-to-obs"><td>orders</td><td>orders-to-obs</td><td class="ok">RUNNING</td>' +
        '<td class="num">2</td><td class="num">0</td><td class="num">30s</td><td class="ok">up</td>' +
        '<td>2024-01-01T00:01:30.000Z</td><td></td></tr>',
    );
    expect(page).to.include(
      '<tr data-key="clicks/clicks-to-dli"><td>clicks</td><td>clicks-to-dli</td><td class="bad">no data</td>' +
        '<td class="num"></td><td class="num"></td><td class="num"></td><td class="bad">down</td><td>never</td>' +
        '<td>client_error at 2024-01-01T00:01:30.000Z: GET /v2/',
    );
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.to.include('<script>');
    const missing = await got(`${h.server.url}/nope`, { throwHttpErrors: false });
    expect(missing.statusCode).to.equal(404);
  });
});
