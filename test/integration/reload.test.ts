import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import { resolveCredentials } from '../../src/config/credentials.js';
import { loadConfig } from '../../src/config/load.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import {
  CREDENTIALS,
  PROJECT_ID,
  SCENARIO,
  SCENARIO_EPOCH_MS,
  cyclesCompleted,
  scrape,
  seriesOf,
  startExporter,
  withoutDurations,
} from '../helpers/exporter.js';
import { golden } from '../helpers/golden.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const T0 = SCENARIO_EPOCH_MS;
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const START = T0 + 90_000;
const ORDERS = { stream: 'orders', task: 'orders-to-obs' };
const CLICKS = { stream: 'clicks', task: 'clicks-to-dli' };
const labels = (target: { stream: string; task: string }) =>
  `project_id="${PROJECT_ID}",stream="${target.stream}",task="${target.task}"`;

type Harness = { clock: ManualClock; dis: FakeDis; app: App; server: RunningServer; logs: Record<string, unknown>[] };

describe('reloading the configuration (POST /-/reload, real HTTP against the simulator)', () => {
  let dir: string;
  let file: string;
  let h: Harness | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-reload-'));
    file = join(dir, 'config.json');
  });
  afterEach(async () => {
    await h?.app.stop();
    await h?.dis.close();
    h = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The config file as the user writes it; `auth` and `targets` replace the defaults when given. */
  function writeConfig(url: string, settings: Record<string, unknown> = {}): void {
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'info' },
      dis: { endpoint: url, projectId: PROJECT_ID },
      auth: { accessKey: CREDENTIALS.accessKey, secretKey: CREDENTIALS.secretKey },
      targets: [ORDERS, CLICKS],
      ...settings,
      poll: { interval: '60s', timeout: '2s', concurrency: 4, retries: 0, ...(settings['poll'] as object) },
    };
    writeFileSync(file, JSON.stringify(config));
  }

  /**
   * The simulator (SCENARIO unless given), then the exporter on the file's config, as the CLI builds it; a reload
   * reads the file again. `settings` may depend on the simulator's URL.
   */
  async function setUp(
    settings: Record<string, unknown> | ((url: string) => Record<string, unknown>) = {},
    scenario: unknown = SCENARIO,
  ): Promise<Harness> {
    const clock = new ManualClock(START);
    const dis = await startFakeDis({ scenario: parseScenario(scenario), clock });
    writeConfig(dis.url, typeof settings === 'function' ? settings(dis.url) : settings);
    const readConfig = () => loadConfig({ file, env: {} });
    const config = readConfig();
    const credentials = resolveCredentials(config.auth);
    const { logger, lines: logs } = logCapture(config.log.level);
    const { app, server } = await startExporter(config, {
      clock,
      credentials: () => credentials,
      readConfig,
      logger,
    });
    h = { clock, dis, app, server, logs };
    return h;
  }

  const reload = async (server: RunningServer, headers: Record<string, string> = {}) => {
    const response = await got.post(`${server.url}/-/reload`, { headers });
    return [response.statusCode, response.body];
  };

  async function nextCycle({ clock, app }: Harness): Promise<void> {
    const done = app.store.current().cyclesCompleted;
    await clock.advance(60_000);
    await cyclesCompleted(app, done + 1);
  }

  /** Lets the requests that may go now reach the simulator. */
  async function flushMany(): Promise<void> {
    for (let i = 0; i < 50; i++) await flush();
  }

  const taskRequests = (dis: FakeDis) =>
    dis.control
      .requests()
      .filter((r) => r.operation === 'show_transfer_task')
      .map((r) => `${r.path.split('/').slice(-3, -2)[0]}/${r.path.split('/').at(-1)} ${r.status}`)
      .sort();

  it('answers 200 and polls an added target from the next cycle on', async () => {
    const { dis, app, server, logs } = await setUp({ targets: [ORDERS] });
    await cyclesCompleted(app, 1);
    writeConfig(dis.url, { targets: [ORDERS, CLICKS] });
    dis.control.resetRequests();
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    expect(dis.control.requests()).to.deep.equal([]); // a reload polls nothing itself
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
    const text = await scrape(server);
    expect(seriesOf(text, 'dis_exporter_target_up')).to.deep.equal([
      `dis_exporter_target_up{${labels(ORDERS)}} 1`,
      `dis_exporter_target_up{${labels(CLICKS)}} 1`,
    ]);
    expect(seriesOf(text, 'dis_exporter_config_last_reload_successful')).to.deep.equal([
      'dis_exporter_config_last_reload_successful 1',
    ]);
    expect(logs.filter((line) => line.component === 'reload')).to.deep.equal([
      { level: 'info', component: 'reload', msg: 'configuration reloaded' },
    ]);
  });

  it('drops every series of a removed target, self-metrics included, at the next cycle (golden)', async () => {
    const { dis, app, server } = await setUp();
    await cyclesCompleted(app, 1);
    writeConfig(dis.url, { targets: [ORDERS] });
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    // until the next cycle the last snapshot is served as it was
    expect(await scrape(server)).to.include(`dis_exporter_target_up{${labels(CLICKS)}} 1`);
    await nextCycle(h!);
    await h!.clock.advance(15_000);
    const text = withoutDurations(await scrape(server));
    expect(text).not.to.include('clicks');
    expect(text).to.equal(golden('integration-reload-removed-target.prom', text));
  });

  it('refuses an invalid config with 500 and its problems, keeps polling the old one, then takes a fixed one', async () => {
    const { dis, app, server, logs, clock } = await setUp();
    await cyclesCompleted(app, 1);
    writeConfig(dis.url, { targets: [], poll: { interval: 'fast' } });
    const problems = [
      'targets: at least one target is required',
      'poll.interval: must be a duration like 30s, 5m or 1h (got "fast")',
    ];
    expect(await reload(server)).to.deep.equal([500, problems.map((p) => `${p}\n`).join('')]);
    unlinkSync(file);
    expect(await reload(server)).to.deep.equal([500, `${file}: cannot read: ENOENT\n`]);
    expect(logs.filter((line) => line.component === 'reload')).to.deep.equal([
      { level: 'error', component: 'reload', problems, msg: 'reload rejected; the running configuration is kept' },
      {
        level: 'error',
        component: 'reload',
        problems: [`${file}: cannot read: ENOENT`],
        msg: 'reload rejected; the running configuration is kept',
      },
    ]);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
    const refused = await scrape(server);
    const reloadSeries = (text: string) =>
      seriesOf(
        text,
        'dis_exporter_config_last_reload_successful',
        'dis_exporter_config_last_reload_success_timestamp_seconds',
      );
    expect(reloadSeries(refused)).to.deep.equal([
      'dis_exporter_config_last_reload_successful 0',
      `dis_exporter_config_last_reload_success_timestamp_seconds ${START / 1000}`,
    ]);
    expect(refused).to.include('(polled every 60s)');

    await clock.advance(1_500);
    writeConfig(dis.url, { poll: { interval: '30s' } });
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    const taken = await scrape(server);
    expect(reloadSeries(taken)).to.deep.equal([
      'dis_exporter_config_last_reload_successful 1',
      `dis_exporter_config_last_reload_success_timestamp_seconds ${(START + 61_500) / 1000}`,
    ]);
    expect(taken).to.include('(polled every 30s)');
    expect(taken).not.to.include('(polled every 60s)');
    // the new interval counts from the start of the last cycle (START + 60 s), which is 1.5 s ago
    await clock.advance(28_499);
    expect(app.store.current().cyclesCompleted).to.equal(2);
    await clock.advance(1);
    await cyclesCompleted(app, 3);
  });

  it('signs with the new AK/SK once the key files changed and the config was reloaded', async () => {
    const NEW = { accessKey: 'NEWACCESSKEY00000000', secretKey: 'new-secret-key-0123456789' };
    const akFile = join(dir, 'ak');
    const skFile = join(dir, 'sk');
    writeFileSync(akFile, `${CREDENTIALS.accessKey}\n`);
    writeFileSync(skFile, `${CREDENTIALS.secretKey}\n`);
    // the simulator verifies every signature and knows only the new key
    const { dis, app, server } = await setUp(
      { auth: { accessKeyFile: akFile, secretKeyFile: skFile } },
      { ...SCENARIO, credentials: [NEW] },
    );
    await cyclesCompleted(app, 1);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 401', 'orders/orders-to-obs 401']);
    expect(await scrape(server)).to.include(`dis_exporter_target_errors_total{${labels(ORDERS)},reason="auth"} 1`);

    writeFileSync(akFile, `${NEW.accessKey}\n`);
    writeFileSync(skFile, `  ${NEW.secretKey}  \n`);
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    dis.control.resetRequests();
    await nextCycle(h!);
    // four 401s started an auth cool-down; the new credentials end it
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
    expect(seriesOf(await scrape(server), 'dis_exporter_target_up')).to.deep.equal([
      `dis_exporter_target_up{${labels(ORDERS)}} 1`,
      `dis_exporter_target_up{${labels(CLICKS)}} 1`,
    ]);

    // an unreadable key file refuses the reload: the running credentials stay
    unlinkSync(skFile);
    expect(await reload(server)).to.deep.equal([500, `auth.secretKeyFile: cannot read "${skFile}": ENOENT\n`]);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
  });

  it('signs with the new security token once auth.securityTokenFile changed and the config was reloaded', async () => {
    // A temporary AK/SK whose token was renewed: the simulator knows the key only with the new token.
    const temporary = { ...CREDENTIALS, securityToken: 'SECURITY-TOKEN-2' };
    const tokenFile = join(dir, 'security-token');
    writeFileSync(tokenFile, 'SECURITY-TOKEN-1\n');
    const { dis, app, server } = await setUp(
      { auth: { ...CREDENTIALS, securityTokenFile: tokenFile } },
      { ...SCENARIO, credentials: [temporary] },
    );
    await cyclesCompleted(app, 1);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 401', 'orders/orders-to-obs 401']);

    writeFileSync(tokenFile, `${temporary.securityToken}\n`);
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);

    // an unreadable token file refuses the reload: the running token stays
    unlinkSync(tokenFile);
    expect(await reload(server)).to.deep.equal([500, `auth.securityTokenFile: cannot read "${tokenFile}": ENOENT\n`]);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
  });

  it('with IAM, re-reads the password file: the next token request uses the new password, the old token is dropped', async () => {
    const user = { domain: 'acme', name: 'dis-monitor', password: 'Monitor-Password-1' };
    const unknown = 'Monitor-Password-2';
    const passwordFile = join(dir, 'iam-password');
    writeFileSync(passwordFile, `${user.password}\n`);
    const iam = (url: string) => ({
      auth: { iam: { endpoint: url, domain: user.domain, username: user.name, passwordFile } },
    });
    const { dis, app, server, logs } = await setUp(iam, { ...SCENARIO, iam: { users: [user] } });
    const tokenRequests = () =>
      dis.control
        .requests()
        .filter((r) => r.operation === 'iam_token')
        .map((r) => r.status);
    const targetUp = async () => seriesOf(await scrape(server), 'dis_exporter_target_up');
    await cyclesCompleted(app, 1);
    await nextCycle(h!);
    expect(tokenRequests()).to.deep.equal([201]); // one token, still valid for hours, serves both cycles

    // A password IAM does not know: the cached token is dropped and the next token request is refused.
    writeFileSync(passwordFile, `${unknown}\n`);
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    await nextCycle(h!);
    expect(tokenRequests()).to.deep.equal([201, 401]);
    expect(await targetUp()).to.deep.equal([
      `dis_exporter_target_up{${labels(ORDERS)}} 0`,
      `dis_exporter_target_up{${labels(CLICKS)}} 0`,
    ]);

    // The right password again: a token at once (the back-off was the other password's), every target recovers.
    writeFileSync(passwordFile, `${user.password}\n`);
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    await nextCycle(h!);
    expect(tokenRequests()).to.deep.equal([201, 401, 201]);
    expect(await targetUp()).to.deep.equal([
      `dis_exporter_target_up{${labels(ORDERS)}} 1`,
      `dis_exporter_target_up{${labels(CLICKS)}} 1`,
    ]);
    const log = JSON.stringify(logs);
    for (const secret of [user.password, unknown, ...dis.control.issuedIamTokens()]) {
      expect(log.includes(secret), `the log contains ${secret}`).to.equal(false);
    }
  });

  it('refuses the whole reload when the web config is bad: the old config and web config stay', async () => {
    const webFile = join(dir, 'web.yml');
    writeFileSync(webFile, '');
    const { dis, app, server } = await setUp({ web: { configFile: webFile } });
    await cyclesCompleted(app, 1);
    writeConfig(dis.url, { targets: [ORDERS], web: { configFile: webFile } });
    writeFileSync(webFile, 'basic_auth_users: [prometheus]\n');
    expect(await reload(server)).to.deep.equal([
      500,
      `web.configFile ${webFile}: basic_auth_users: must be a mapping of user names to bcrypt hashes (got a list)\n`,
    ]);
    expect((await got(`${server.url}/metrics`)).statusCode).to.equal(200);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['clicks/clicks-to-dli 200', 'orders/orders-to-obs 200']);
    expect(seriesOf(await scrape(server), 'dis_exporter_config_last_reload_successful')).to.deep.equal([
      'dis_exporter_config_last_reload_successful 0',
    ]);

    // Fixed: the new targets and basic auth both apply.
    const password = 'scrape-password-0123';
    writeConfig(dis.url, { targets: [ORDERS], web: { configFile: webFile } });
    writeFileSync(webFile, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync(password, 4)}"\n`);
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    expect((await got(`${server.url}/metrics`)).statusCode).to.equal(401);
    const authorization = `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}`;
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(taskRequests(dis)).to.deep.equal(['orders/orders-to-obs 200']);
    const text = (await got(`${server.url}/metrics`, { headers: { authorization } })).body;
    expect(seriesOf(text, 'dis_exporter_config_last_reload_successful')).to.deep.equal([
      'dis_exporter_config_last_reload_successful 1',
    ]);
    expect(await reload(server, { authorization })).to.deep.equal([200, 'configuration reloaded\n']);
  });

  it('paces the next cycle with a new poll.maxRequestsPerSecond, and stops pacing when it is 0', async () => {
    const { dis, app, server, clock } = await setUp();
    await cyclesCompleted(app, 1);
    // Each cycle: two task details and two stream details, all at once under the default 20/s.
    expect(dis.control.requests()).to.have.length(4);
    writeConfig(dis.url, { poll: { maxRequestsPerSecond: 2 } });
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    dis.control.resetRequests();
    await clock.advance(60_000);
    const seen: number[] = [];
    for (let step = 0; step < 3; step++) {
      await flushMany();
      seen.push(dis.control.requests().length);
      await clock.advance(500);
    }
    // a burst of one second's worth (2), then one every 500 ms
    expect(seen).to.deep.equal([2, 3, 4]);
    await cyclesCompleted(app, 2);

    writeConfig(dis.url, { poll: { maxRequestsPerSecond: 0 } });
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    dis.control.resetRequests();
    await nextCycle(h!);
    expect(dis.control.requests()).to.have.length(4);
  });

  it('keeps the settings that need a restart, warns once naming them, and applies the rest at once', async () => {
    const { dis, app, server, logs } = await setUp();
    await cyclesCompleted(app, 1);
    writeConfig(dis.url, {
      server: { host: '0.0.0.0', port: 19_999 },
      log: { level: 'warn', format: 'pretty' },
      shard: { total: 3, index: 1 },
      metrics: { stateSets: 'current' },
    });
    expect(await reload(server)).to.deep.equal([200, 'configuration reloaded\n']);
    expect(logs.filter((line) => line.component === 'reload')).to.deep.equal([
      {
        level: 'warn',
        component: 'reload',
        keys: ['server.host', 'server.port', 'log.format'],
        msg: 'changed settings need a restart; kept as they were',
      },
    ]); // and "configuration reloaded" is now below log.level warn
    const text = await scrape(server);
    expect(seriesOf(text, 'dis_exporter_shard_info')).to.deep.equal(['dis_exporter_shard_info{index="1",total="3"} 1']);
    expect(seriesOf(text, 'dis_dump_task_state')).to.have.length(2); // current state only: one series per task
    dis.control.resetRequests();
    await nextCycle(h!);
    // shard 1 of 3 owns orders only (clicks hashes to 0)
    expect(dis.control.requests().map((r) => r.path)).to.deep.equal([
      `/v2/${PROJECT_ID}/streams/orders/transfer-tasks/orders-to-obs`,
      `/v2/${PROJECT_ID}/streams/orders`,
    ]);
    expect(seriesOf(await scrape(server), 'dis_exporter_target_up')).to.deep.equal([
      `dis_exporter_target_up{${labels(ORDERS)}} 1`,
    ]);
    expect(new URL(server.url).hostname).to.equal('127.0.0.1');
  });

  it('answers 405 with Allow: POST to any other method', async () => {
    const { server } = await setUp();
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const response = await got(`${server.url}/-/reload`, { method });
      expect([response.statusCode, response.headers.allow, response.body]).to.deep.equal([
        405,
        'POST',
        'use POST to reload the configuration\n',
      ]);
    }
  });
});
