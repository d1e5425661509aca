import { expect } from 'chai';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import {
  PROJECT_ID,
  SCENARIO,
  SCENARIO_EPOCH_MS,
  cyclesCompleted,
  seriesOf,
  startExporter,
  testConfig,
} from '../helpers/exporter.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock } from '../helpers/manual-clock.js';

// The client's cool-down (DIS.4309, repeated 401) is unit-tested in test/unit/client.test.ts against a bare server;
// this is the whole exporter against the simulator: one log line, metrics still served, DIS left alone for
// 10 minutes, then polling resumes. It is kept out of the soak test, whose fault mix it would silence for minutes.

const T0 = SCENARIO_EPOCH_MS;
const got = baseGot.extend({ retry: { limit: 0 } });

const BLACKLISTED = { errorCode: 'DIS.4309', message: 'Too many request failures. [fault][req]' };
const PAUSED = `DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id`;

describe('exporter during a DIS.4309 cool-down (simulator, manual clock)', () => {
  let clock: ManualClock;
  let dis: FakeDis;
  let app: App;
  let server: RunningServer;

  afterEach(async () => {
    await app?.stop();
    await dis?.close();
  });

  const errorLines = (text: string) =>
    seriesOf(text, 'dis_exporter_target_errors_total').filter((l) => l.endsWith('"} 0') === false);

  it('logs the cool-down once, keeps serving /metrics, sends nothing for 10 minutes, then polls again', async () => {
    clock = new ManualClock(T0);
    dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    dis.control.addFault({ kind: 'status', status: 400, body: BLACKLISTED, times: 1 });
    const { logger, lines } = logCapture('info');
    // Concurrency 1: the first request gets DIS.4309 and every later one of the cycle meets the cool-down.
    ({ app, server } = await startExporter(testConfig(dis.url, { concurrency: 1 }), { clock, logger }));
    await cyclesCompleted(app, 1);

    expect(dis.control.requests().map((r) => [r.operation, r.status, r.errorCode])).to.deep.equal([
      ['show_transfer_task', 400, 'DIS.4309'],
    ]);
    const paused = lines.filter((line) => line['msg'] === 'DIS requests paused (cool-down)');
    expect(paused.map((line) => [line['level'], line['component'], line['until'], line['error']])).to.deep.equal([
      ['error', 'dis', '2024-01-01T00:10:00.000Z', PAUSED],
    ]);
    const first = await got(`${server.url}/metrics`);
    expect(first.statusCode).to.equal(200);
    const labels = (stream: string, task: string) => `project_id="${PROJECT_ID}",stream="${stream}",task="${task}"`;
    expect(seriesOf(first.body, 'dis_exporter_target_up')).to.deep.equal([
      `dis_exporter_target_up{${labels('orders', 'orders-to-obs')}} 0`,
      `dis_exporter_target_up{${labels('clicks', 'clicks-to-dli')}} 0`,
    ]);
    expect(errorLines(first.body)).to.deep.equal([
      `dis_exporter_target_errors_total{${labels('orders', 'orders-to-obs')},reason="auth"} 1`,
      `dis_exporter_target_errors_total{${labels('clicks', 'clicks-to-dli')},reason="auth"} 1`,
    ]);
    expect(seriesOf(first.body, 'dis_exporter_api_requests_total')).to.deep.equal([
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="400"} 1',
    ]);

    // Nine more cycles inside the 10 minutes: each target fails with the cool-down's error, DIS sees nothing.
    for (let cycle = 2; cycle <= 10; cycle++) {
      await clock.advance(60_000);
      await cyclesCompleted(app, cycle);
    }
    expect(dis.control.requests()).to.have.length(1);
    const during = await got(`${server.url}/metrics`);
    expect(errorLines(during.body)).to.deep.equal([
      `dis_exporter_target_errors_total{${labels('orders', 'orders-to-obs')},reason="auth"} 10`,
      `dis_exporter_target_errors_total{${labels('clicks', 'clicks-to-dli')},reason="auth"} 10`,
    ]);
    expect(lines.filter((line) => line['msg'] === 'DIS requests paused (cool-down)')).to.have.length(1);
    // 'poll failed' once per target, when it started failing: DIS.4309 for one, the cool-down for the other.
    expect(
      lines
        .filter((line) => line['msg'] === 'poll failed')
        .map((line) => [line['task'], line['reason'], line['error']]),
    ).to.deep.equal([
      [
        'orders-to-obs',
        'auth',
        `GET /v2/${PROJECT_ID}/streams/orders/transfer-tasks/orders-to-obs: HTTP 400 DIS.4309 (Too many request failures. [fault][req]) [request id ${'1'.padStart(32, '0')}]`,
      ],
      ['clicks-to-dli', 'auth', PAUSED],
    ]);

    // The cycle at T0 + 10 min is the first after the cool-down: every request goes out and succeeds.
    await clock.advance(60_000);
    await cyclesCompleted(app, 11);
    expect(dis.control.requests().map((r) => [r.operation, r.status])).to.deep.equal([
      ['show_transfer_task', 400],
      ['show_transfer_task', 200],
      ['show_transfer_task', 200],
      ['show_stream', 200],
      ['show_stream', 200],
    ]);
    const after = await got(`${server.url}/metrics`);
    expect(seriesOf(after.body, 'dis_exporter_target_up').map((line) => line.slice(-2))).to.deep.equal([' 1', ' 1']);
    expect(lines.filter((line) => line['msg'] === 'target recovered').map((line) => line['task'])).to.deep.equal([
      'orders-to-obs',
      'clicks-to-dli',
    ]);
  });
});
