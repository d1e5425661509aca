import { expect } from 'chai';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import type { Fault } from '../../src/simulator/scenario.js';
import { CREDENTIALS, PROJECT_ID, scrape, seriesOf, startExporter, testConfig } from '../helpers/exporter.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const obs = { destinationType: 'OBS', destination: { obs_bucket_path: 'b', deliver_time_interval: 60 } };

/** Two streams with two tasks each; every partition idle. */
function scenario(faults: readonly Fault[] = []): unknown {
  const stream = (name: string) => ({
    name,
    partitions: [{ initialRecords: 10, recordsPerSecond: 0 }],
    tasks: [
      { name: `${name}-a`, ...obs },
      { name: `${name}-b`, ...obs },
    ],
  });
  return {
    projectId: PROJECT_ID,
    credentials: [CREDENTIALS],
    epochMs: T0,
    streams: [stream('s1'), stream('s2')],
    faults,
  };
}

const FOUR_TARGETS: Config['targets'] = [
  { stream: 's1', task: 's1-a' },
  { stream: 's1', task: 's1-b' },
  { stream: 's2', task: 's2-a' },
  { stream: 's2', task: 's2-b' },
];

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await flush();
}

describe('the API budget (real HTTP against the simulator)', function () {
  this.timeout(30_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    options: { faults?: readonly Fault[]; poll?: Partial<Config['poll']>; targets?: Config['targets'] } = {},
    clock = new ManualClock(T0 + 60_000),
    disClock = clock,
  ) {
    const dis: FakeDis = await startFakeDis({ scenario: parseScenario(scenario(options.faults)), clock: disClock });
    cleanups.push(() => dis.close());
    const { logger, lines } = logCapture();
    const config = testConfig(dis.url, options.poll ?? {}, options.targets ?? FOUR_TARGETS);
    const running: { app: App; server: RunningServer } = await startExporter(config, { clock, logger });
    cleanups.push(() => running.app.stop());
    return { dis, clock, lines, ...running };
  }

  it('paces requests with poll.maxRequestsPerSecond: a burst of one second, then one every 1/rate s', async () => {
    // 4 task details + 2 stream details = 6 requests at 2 per second: 2 at once, then one every 500 ms.
    const { dis, clock, app } = await start({ poll: { maxRequestsPerSecond: 2 } });
    const seen: number[] = [];
    for (let step = 0; step < 6; step++) {
      await settle();
      seen.push(dis.control.requests().length);
      await clock.advance(500);
    }
    await settle();
    expect(seen).to.deep.equal([2, 3, 4, 5, 6, 6]);
    expect(app.store.current().cyclesCompleted).to.equal(1);
  });

  it('retries only while the retry ends before the next cycle is due (Retry-After 30 s)', async () => {
    const throttled: Fault = {
      kind: 'status',
      status: 429,
      retryAfter: '30',
      body: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' },
      match: { operation: 'show_transfer_task', task: 's1-a' },
      times: 1,
    };
    // Interval 20 s: a retry at +30 s would run into the next cycle, so the poll fails at once.
    const short = await start({ faults: [throttled], poll: { intervalMs: 20_000, retries: 2 } });
    await settle();
    expect(short.app.store.current().cyclesCompleted).to.equal(1);
    const tries = (dis: FakeDis) =>
      dis.control
        .requests()
        .filter((r) => r.path.endsWith('/transfer-tasks/s1-a'))
        .map((r) => r.status);
    expect(tries(short.dis)).to.deep.equal([429]);
    expect(seriesOf(await scrape(short.server), 'dis_exporter_target_errors_total')).to.include(
      `dis_exporter_target_errors_total{project_id="${PROJECT_ID}",stream="s1",task="s1-a",reason="throttled"} 1`,
    );

    // Interval 60 s: the retry at +30 s fits, and succeeds.
    const long = await start({ faults: [throttled], poll: { intervalMs: 60_000, retries: 2 } });
    await settle();
    expect(long.app.store.current().cyclesCompleted).to.equal(0);
    await long.clock.advance(30_000);
    await settle();
    expect(long.app.store.current().cyclesCompleted).to.equal(1);
    expect(tries(long.dis)).to.deep.equal([429, 200]);
  });

  it('counts a cycle longer than the interval in dis_exporter_poll_overruns_total and logs it once', async () => {
    // 6 requests at 1 per second take 5 s; the interval is 2 s.
    const { clock, app, server, lines } = await start({ poll: { maxRequestsPerSecond: 1, intervalMs: 2_000 } });
    expect(seriesOf(await scrape(server), 'dis_exporter_poll_overruns_total')).to.deep.equal([
      'dis_exporter_poll_overruns_total 0',
    ]);
    for (let i = 0; i < 30 && app.store.current().cyclesCompleted < 2; i++) {
      await settle();
      await clock.advance(1_000);
    }
    await settle();
    expect(app.store.current().cyclesCompleted).to.equal(2);
    expect(seriesOf(await scrape(server), 'dis_exporter_poll_overruns_total')).to.deep.equal([
      'dis_exporter_poll_overruns_total 2',
    ]);
    const warnings = lines.filter((line) => line['level'] === 'warn');
    expect(warnings.map((line) => [line['msg'], line['durationSeconds'], line['intervalSeconds']])).to.deep.equal([
      [
        'poll cycle took longer than poll.interval; raise poll.interval, poll.concurrency or ' +
          'poll.maxRequestsPerSecond, or shard the targets',
        5,
        2,
      ],
    ]);
  });

  it('counts in dis_exporter_api_requests_total exactly the requests the simulator received', async () => {
    const faults: Fault[] = [
      { kind: 'reset', match: { operation: 'show_stream' }, times: 2 },
      { kind: 'status', status: 500, probability: 0.25 },
      { kind: 'status', status: 429, retryAfter: '1', probability: 0.2 },
      { kind: 'malformed', probability: 0.15 },
    ];
    const { dis, clock, app, server } = await start({
      faults,
      poll: { retries: 2, intervalMs: 60_000 },
      targets: [...FOUR_TARGETS, { stream: 's2', task: '*' }],
    });
    for (let cycle = 1; cycle <= 5; cycle++) {
      for (let i = 0; i < 200 && app.store.current().cyclesCompleted < cycle; i++) {
        await settle();
        await clock.advance(clock.nextWake === undefined ? 0 : Math.max(0, clock.nextWake - clock.now()));
      }
      expect(app.store.current().cyclesCompleted).to.equal(cycle);
    }
    const received = new Map<string, number>();
    for (const request of dis.control.requests()) {
      const key = `{operation="${request.operation}",code="${request.status === 0 ? 'error' : request.status}"}`;
      received.set(key, (received.get(key) ?? 0) + 1);
    }
    const counted = seriesOf(await scrape(server), 'dis_exporter_api_requests_total').map((line) =>
      line.replace('dis_exporter_api_requests_total', ''),
    );
    const expected = [...received].map(([labels, count]) => `${labels} ${count}`);
    expect([...counted].sort()).to.deep.equal([...expected].sort());
    // Every fault kind hit at least once, so the comparison covered each code.
    expect([...received.keys()].map((key) => key.replace(/.*code="/, '').replace('"}', ''))).to.include.members([
      '200',
      '500',
      '429',
      'error',
    ]);
  });

  it('logs a DIS.4309 cool-down once and sends nothing while it lasts', async () => {
    const blocked: Fault = {
      kind: 'status',
      status: 400,
      body: { errorCode: 'DIS.4309', message: 'Too many request failures. [dis-x][y]' },
    };
    const { dis, clock, app, lines } = await start({ faults: [blocked], poll: { concurrency: 1 } });
    await settle();
    expect(app.store.current().cyclesCompleted).to.equal(1);
    expect(dis.control.requests().length).to.equal(1);
    await clock.advance(60_000);
    await settle();
    expect(app.store.current().cyclesCompleted).to.equal(2);
    expect(dis.control.requests().length).to.equal(1);
    const errors = lines.filter((line) => line['level'] === 'error');
    expect(errors.map((line) => [line['component'], line['msg'], line['until'], line['error']])).to.deep.equal([
      [
        'dis',
        'DIS requests paused (cool-down)',
        '2024-01-01T00:11:00.000Z',
        'DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:11:00.000Z; ' +
          'check the AK/SK and project id',
      ],
    ]);
  });

  it('logs a host clock off by more than 15 minutes (APIGW.0303) with the skew, once an hour', async () => {
    const exporterClock = new ManualClock(T0 + 60_000 + 20 * 60_000);
    const disClock = new ManualClock(T0 + 60_000);
    const { clock, app, lines } = await start({ poll: { concurrency: 1 } }, exporterClock, disClock);
    await settle();
    expect(app.store.current().cyclesCompleted).to.equal(1);
    await disClock.advance(60_000);
    await clock.advance(60_000);
    await settle();
    expect(app.store.current().cyclesCompleted).to.equal(2);
    const logged = () =>
      lines
        .filter((line) => line['skewSeconds'] !== undefined)
        .map((line) => [line['level'], line['msg'], line['skewSeconds']]);
    const message = 'host clock is off; sync it with NTP';
    expect(logged()).to.deep.equal([['error', message, 1200]]);
    // Both clocks move on together: an hour of failing cycles later, the skew is logged a second time.
    for (let minute = 0; minute < 60; minute++) {
      await disClock.advance(60_000);
      await clock.advance(60_000);
      await settle();
    }
    expect(logged()).to.deep.equal([
      ['error', message, 1200],
      ['error', message, 1200],
    ]);
  });
});
