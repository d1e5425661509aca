import { expect } from 'chai';
import { pino } from 'pino';
import type { App } from '../../src/app.js';
import type { Config, IamPasswordCredentials } from '../../src/config/types.js';
import type { ErrorReason } from '../../src/dis/errors.js';
import type { RunningServer } from '../../src/http/server.js';
import { ERROR_REASONS } from '../../src/metrics/names.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import {
  PROJECT_ID,
  cyclesCompleted,
  scrape as scrapeMetrics,
  seriesOf,
  startExporter,
  testConfig,
} from '../helpers/exporter.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const USER = { domain: 'acme', name: 'dis-monitor', password: 'Monitor-Password-1' };
const ORDERS = `project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"`;
const CLICKS = `project_id="${PROJECT_ID}",stream="clicks",task="clicks-to-dli"`;

const SCENARIO = {
  projectId: PROJECT_ID,
  // No AK/SK: every DIS call must carry a valid token.
  credentials: [],
  iam: { users: [USER] },
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      partitions: [{ initialRecords: 1000, recordsPerSecond: 10 }],
      tasks: [{ name: 'orders-to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } }],
    },
    {
      name: 'clicks',
      partitions: [{ initialRecords: 500, recordsPerSecond: 1 }],
      tasks: [{ name: 'clicks-to-dli', destinationType: 'DLI', destination: { dli_database_name: 'd' } }],
    },
  ],
};

/** Both targets' `target_up` lines, in exposition order. */
function targetUp(up: 0 | 1): string[] {
  return [ORDERS, CLICKS].map((labels) => `dis_exporter_target_up{${labels}} ${up}`);
}

/** Both targets' `target_errors_total` lines, every reason (0 unless given), in exposition order. */
function targetErrors(counts: Partial<Record<ErrorReason, number>>): string[] {
  return [ORDERS, CLICKS].flatMap((labels) =>
    ERROR_REASONS.map(
      (reason) => `dis_exporter_target_errors_total{${labels},reason="${reason}"} ${counts[reason] ?? 0}`,
    ),
  );
}

type Harness = {
  clock: ManualClock;
  dis: FakeDis;
  app: App;
  server: RunningServer;
  logs: Array<Record<string, unknown>>;
  setPassword(password: string): void;
};

describe('exporter with IAM token authentication (real HTTP against the simulator)', () => {
  let h: Harness | undefined;

  async function setUp(password: string, poll: Partial<Config['poll']> = {}): Promise<Harness> {
    const clock = new ManualClock(T0);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
    let credentials: IamPasswordCredentials = {
      kind: 'iam',
      endpoint: dis.url,
      domain: USER.domain,
      username: USER.name,
      password,
    };
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const { app, server } = await startExporter(testConfig(dis.url, poll), {
      clock,
      credentials: () => credentials,
      logger,
    });
    h = {
      clock,
      dis,
      app,
      server,
      logs,
      setPassword(next) {
        credentials = { ...credentials, password: next };
      },
    };
    return h;
  }

  afterEach(async () => {
    await h?.app.stop();
    await h?.dis.close();
    h = undefined;
  });

  const cycles = (count: number): Promise<void> => cyclesCompleted(h!.app, count);
  const scrape = (): Promise<string> => scrapeMetrics(h!.server);

  function requestsSeries(text: string): string[] {
    return seriesOf(text, 'dis_exporter_api_requests_total').sort();
  }

  it('gets one token and reuses it for every request of every cycle, counted as operation iam_token', async () => {
    await setUp(USER.password);
    await cycles(1);
    for (let cycle = 2; cycle <= 3; cycle++) {
      await h!.clock.advance(60_000);
      await cycles(cycle);
    }
    const text = await scrape();
    expect(requestsSeries(text)).to.deep.equal([
      'dis_exporter_api_requests_total{operation="iam_token",code="201"} 1',
      'dis_exporter_api_requests_total{operation="show_stream",code="200"} 6',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 6',
    ]);
    expect(seriesOf(text, 'dis_exporter_api_request_duration_seconds_count').sort()).to.deep.equal([
      'dis_exporter_api_request_duration_seconds_count{operation="iam_token"} 1',
      'dis_exporter_api_request_duration_seconds_count{operation="show_stream"} 6',
      'dis_exporter_api_request_duration_seconds_count{operation="show_transfer_task"} 6',
    ]);
    expect(seriesOf(text, 'dis_exporter_target_up')).to.deep.equal(targetUp(1));
    expect(h!.dis.control.issuedIamTokens()).to.have.length(1);
  });

  it('refreshes the token in the background before it expires, and keeps polling past the old expiry', async () => {
    // With a 1 h interval the token is refreshed from 2 intervals (2 h) before it expires, at 22 h.
    await setUp(USER.password, { intervalMs: HOUR });
    await cycles(1);
    for (let cycle = 2; cycle <= 22; cycle++) {
      await h!.clock.advance(HOUR);
      await cycles(cycle);
    }
    expect(h!.dis.control.issuedIamTokens()).to.have.length(1);
    await h!.clock.advance(HOUR); // 22 h: due for a refresh
    await cycles(23);
    for (let i = 0; i < 1000 && h!.dis.control.issuedIamTokens().length < 2; i++) await flush();
    expect(h!.dis.control.issuedIamTokens()).to.have.length(2);
    for (let cycle = 24; cycle <= 26; cycle++) {
      await h!.clock.advance(HOUR); // 23 h, 24 h (the first token has expired), 25 h
      await cycles(cycle);
    }
    const text = await scrape();
    expect(requestsSeries(text)).to.deep.equal([
      'dis_exporter_api_requests_total{operation="iam_token",code="201"} 2',
      'dis_exporter_api_requests_total{operation="show_stream",code="200"} 52',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 52',
    ]);
  });

  it('on a 401 gets one new token and retries each rejected request once, so no target fails', async () => {
    await setUp(USER.password);
    await cycles(1);
    h!.dis.control.revokeIamTokens();
    await h!.clock.advance(60_000);
    await cycles(2);
    const text = await scrape();
    expect(requestsSeries(text)).to.deep.equal([
      'dis_exporter_api_requests_total{operation="iam_token",code="201"} 2',
      'dis_exporter_api_requests_total{operation="show_stream",code="200"} 4',
      'dis_exporter_api_requests_total{operation="show_stream",code="401"} 2',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 4',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="401"} 2',
    ]);
    expect(seriesOf(text, 'dis_exporter_target_errors_total')).to.deep.equal(targetErrors({}));
    expect(seriesOf(text, 'dis_exporter_target_up')).to.deep.equal(targetUp(1));
  });

  it('on a rejected password: reason auth, one log line saying what to fix, one token request per interval', async () => {
    await setUp('wrong-password');
    await cycles(1);
    for (let cycle = 2; cycle <= 3; cycle++) {
      await h!.clock.advance(60_000);
      await cycles(cycle);
    }
    const text = await scrape();
    expect(requestsSeries(text)).to.deep.equal(['dis_exporter_api_requests_total{operation="iam_token",code="401"} 3']);
    expect(seriesOf(text, 'dis_exporter_target_errors_total')).to.deep.equal(targetErrors({ auth: 3 }));
    expect(seriesOf(text, 'dis_exporter_target_up')).to.deep.equal(targetUp(0));
    const message = (requestId: number) =>
      `no IAM token: POST ${h!.dis.url}/v3/auth/tokens: HTTP 401 IAM.0005 (The username or password is wrong.) ` +
      `[request id ${String(requestId).padStart(32, '0')}]; IAM rejected user "dis-monitor" of domain "acme": ` +
      'check auth.iam.domain, auth.iam.username and auth.iam.password (or auth.iam.passwordFile)';
    const problems = h!.logs.filter((line) => Number(line['level']) >= 40);
    expect(
      problems.map(({ level, component, reason, error, retryAt, msg }) => ({
        level,
        component,
        reason,
        error,
        retryAt,
        msg,
      })),
    ).to.deep.equal([
      {
        level: 50,
        component: 'iam',
        reason: 'auth',
        error: message(1),
        retryAt: '2024-01-01T00:01:00.000Z',
        msg: 'cannot get an IAM token',
      },
    ]);
    expect(h!.app.store.current().targets.map((t) => [t.lastError?.reason, t.lastError?.message])).to.deep.equal([
      ['auth', message(3)],
      ['auth', message(3)],
    ]);

    // The password is fixed (as a reload would): the next cycle gets a token and every target recovers.
    h!.setPassword(USER.password);
    await h!.clock.advance(60_000);
    await cycles(4);
    expect(seriesOf(await scrape(), 'dis_exporter_target_up')).to.deep.equal(targetUp(1));
    expect(h!.logs.filter((line) => line['component'] === 'iam').map((line) => line['msg'])).to.deep.equal([
      'cannot get an IAM token',
      'IAM token obtained again',
    ]);
  });

  it('on a 5xx from IAM: reason server_error, counted with its status', async () => {
    await setUp(USER.password);
    h!.dis.control.addFault({ match: { operation: 'iam_token' }, kind: 'status', status: 503, times: 1 });
    await cycles(1);
    const text = await scrape();
    expect(requestsSeries(text)).to.deep.equal(['dis_exporter_api_requests_total{operation="iam_token",code="503"} 1']);
    expect(seriesOf(text, 'dis_exporter_target_errors_total')).to.deep.equal(targetErrors({ server_error: 1 }));
    await h!.clock.advance(60_000);
    await cycles(2);
    expect(seriesOf(await scrape(), 'dis_exporter_target_up')).to.deep.equal(targetUp(1));
  });
});
