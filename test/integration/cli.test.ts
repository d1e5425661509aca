import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import baseGot from 'got';
import { run, type CliIo } from '../../src/cli.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { CREDENTIALS, PROJECT_ID, SCENARIO, SCENARIO_EPOCH_MS } from '../helpers/exporter.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { freePort } from '../helpers/net.js';
import { withServer } from '../helpers/with-server.js';

const T0 = SCENARIO_EPOCH_MS;
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const MAIN = ['--import', 'tsx', 'src/main.ts'];

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs the real CLI in a child process (as users do) and collects its output. */
function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [...MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const runCli = (args: string[], env: Record<string, string> = {}) => start(args, env).done;

async function waitFor(url: string, status: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const response = await got(url).catch(() => undefined);
    if (response?.statusCode === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered ${status}`);
}

describe('command line (child process)', function () {
  this.timeout(30_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function configFile(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  const GOOD = `
dis: { projectId: ${PROJECT_ID}, endpoint: "http://127.0.0.1:1" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey}, securityToken: temporary-token-value }
targets: [{ stream: orders, task: orders-to-obs }]
poll: { interval: 30s }
`;

  it('prints the version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(/^dis-exporter 0\.1\.0 \(revision [0-9a-f]{40}|unknown, node v\d+\.\d+\.\d+\)\n$/);
  });

  it('--check-config prints the effective config with secrets redacted, exit 0', async () => {
    const result = await runCli(['--check-config', '--config', configFile('good.yaml', GOOD)]);
    expect(result.code).to.equal(0);
    expect(result.stderr).to.equal('');
    expect(result.stdout).to.equal(`server:
  host: 0.0.0.0
  port: 9873
  maxRequests: 40
web:
  configFile: ""
log:
  level: info
  format: json
dis:
  endpoint: http://127.0.0.1:1
  region: cn-north-4
  projectId: ${PROJECT_ID}
  proxy: ""
auth:
  accessKey: "[REDACTED]"
  secretKey: "[REDACTED]"
  securityToken: "[REDACTED]"
  accessKeyFile: ""
  secretKeyFile: ""
  securityTokenFile: ""
  iam:
    endpoint: ""
    domain: ""
    username: ""
    password: ""
    passwordFile: ""
  oidc:
    endpoint: ""
    idpId: ""
    idTokenFile: ""
  metadata:
    enabled: false
    endpoint: http://169.254.169.254
targets:
  - { stream: orders, task: orders-to-obs }
poll:
  interval: 30s
  timeout: 10s
  concurrency: 8
  retries: 2
  staleAfter: 5m
  maxRequestsPerSecond: 20
discovery:
  interval: 5m
lag:
  records: true
  stallAfter: ""
shard:
  index: 0
  total: 1
  fromHostname: false
metrics:
  stateSets: all
`);
  });

  it('reads the file named by DIS_EXPORTER_CONFIG and applies env overrides', async () => {
    const result = await runCli(['--check-config'], {
      DIS_EXPORTER_CONFIG: configFile('env.yaml', GOOD),
      DIS_TARGETS: 's1/t1,s2/t2',
      DIS_POLL_INTERVAL: '5m',
    });
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('targets:\n  - { stream: s1, task: t1 }\n  - { stream: s2, task: t2 }\n');
    expect(result.stdout).to.include('  interval: 5m\n');
  });

  it('reports every problem of a bad config on its own line, exit 1, no stack trace, no secret', async () => {
    const bad = configFile(
      'bad.yaml',
      `
dis: { endpoint: "ftp://x" }
auth: { accessKey: AKBAD, secretKey: very-secret-sk }
targets: []
poll: { interval: fast, concurrency: 0 }
extra: 1
`,
    );
    const result = await runCli(['--check-config', '--config', bad]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal('');
    expect(result.stderr).not.to.include('    at ');
    expect(result.stderr).not.to.include('very-secret-sk');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).to.include('poll.interval: must be a duration like 30s, 5m or 1h (got "fast")');
    expect(lines).to.include('extra: unknown key');
    expect(lines).to.include('dis.projectId: is required');
    expect(lines).to.include('targets: at least one target is required');
    expect(lines.some((line) => line.startsWith('dis.endpoint: '))).to.equal(true);
    expect(lines.some((line) => line.startsWith('poll.concurrency: '))).to.equal(true);
  });

  it('--web.config.file wins over web.configFile and its variable; --check-config shows and validates it', async () => {
    const web = configFile('web.yml', 'basic_auth_users: {}\n');
    const config = configFile('with-web.yaml', `${GOOD}web: { configFile: /from/the/key.yml }\n`);
    const env = { DIS_EXPORTER_WEB_CONFIG_FILE: '/from/the/variable.yml' };
    const flag = await runCli(['--check-config', '--config', config, '--web.config.file', web], env);
    expect([flag.code, flag.stderr]).to.deep.equal([0, '']);
    expect(flag.stdout).to.include(`\nweb:\n  configFile: ${web}\n`);
    const variable = await runCli(['--check-config', '--config', config], env);
    expect([variable.code, variable.stdout, variable.stderr]).to.deep.equal([
      1,
      '',
      'web.configFile /from/the/variable.yml: cannot read: ENOENT\n',
    ]);
    const key = await runCli(['--check-config', '--config', config]);
    expect(key.stderr).to.equal('web.configFile /from/the/key.yml: cannot read: ENOENT\n');
  });

  it('refuses to start on a bad web config: exit 1, one line per problem naming the file and the key', async () => {
    const web = configFile('bad-web.yml', 'tls_server_config:\n  cert_file: /nope.pem\n  key_file: /nope-key.pem\n');
    const result = await runCli(['--config', configFile('good.yaml', GOOD), '--web.config.file', web]);
    expect(result).to.deep.equal({
      code: 1,
      stdout: '',
      stderr:
        `web.configFile ${web}: tls_server_config.cert_file: cannot read "/nope.pem": ENOENT\n` +
        `web.configFile ${web}: tls_server_config.key_file: cannot read "/nope-key.pem": ENOENT\n`,
    });
  });

  it('rejects an unknown flag with exit 1', async () => {
    const result = await runCli(['--bogus']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/^Unknown option '--bogus'/);
  });

  it('exits 1 when the port is taken', async () => {
    await withServer(async (blocker) => {
      const port = Number(new URL(blocker.url).port);
      const result = await runCli(['--config', configFile('busy.yaml', GOOD)], {
        DIS_EXPORTER_HOST: '127.0.0.1',
        DIS_EXPORTER_PORT: String(port),
      });
      expect(result.code).to.equal(1);
      const fatal = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .pop();
      expect(fatal).to.include({
        msg: 'port already in use',
        code: 'EADDRINUSE',
        port,
        level: 'fatal',
        component: 'main',
      });
    });
  });

  describe('running against the simulator', () => {
    let dis: FakeDis;
    before(async () => {
      dis = await startFakeDis({
        scenario: parseScenario({
          projectId: PROJECT_ID,
          credentials: [CREDENTIALS],
          streams: [
            {
              name: 'orders',
              partitions: [{ initialRecords: 10, recordsPerSecond: 1 }],
              tasks: [{ name: 'orders-to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } }],
            },
          ],
        }),
      });
    });
    after(() => dis.close());

    it('serves metrics, stops cleanly on SIGTERM with exit 0, and never logs a secret', async () => {
      const port = await freePort();
      const { child, done } = start([], {
        DIS_ENDPOINT: dis.url,
        HUAWEICLOUD_SDK_PROJECT_ID: PROJECT_ID,
        HUAWEICLOUD_SDK_AK: CREDENTIALS.accessKey,
        HUAWEICLOUD_SDK_SK: CREDENTIALS.secretKey,
        DIS_TARGETS: 'orders/orders-to-obs,orders/missing-task',
        DIS_EXPORTER_HOST: '127.0.0.1',
        DIS_EXPORTER_PORT: String(port),
        LOG_LEVEL: 'debug',
      });
      const base = `http://127.0.0.1:${port}`;
      await waitFor(`${base}/-/ready`, 200);
      const metrics = (await got(`${base}/metrics`)).body;
      expect(metrics).to.include(
        `dis_exporter_target_up{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs"} 1`,
      );
      expect(metrics).to.include(
        `dis_exporter_target_up{project_id="${PROJECT_ID}",stream="orders",task="missing-task"} 0`,
      );
      expect(metrics).to.match(
        /^dis_exporter_build_info\{version="0\.1\.0",revision="[^"]+",nodejs_version="v\d+\.\d+\.\d+"\} 1$/m,
      );
      expect(metrics).to.match(/^process_cpu_seconds_total \d/m);
      child.kill('SIGTERM');
      const result = await done;
      expect(result.code).to.equal(0);
      const messages = result.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).to.include.members(['listening', 'dis-exporter started', 'poll failed', 'stopping', 'stopped']);
      expect(result.stdout).not.to.include(CREDENTIALS.secretKey);
      expect(result.stdout).not.to.include('Signature=');
      expect(result.stderr).to.equal('');
    });

    it('re-reads its config file on SIGHUP: takes a good one at once, refuses a bad one and keeps running', async () => {
      const port = await freePort();
      const settings = (targets: string, interval: string) => `
server: { host: 127.0.0.1, port: ${port} }
dis: { projectId: ${PROJECT_ID}, endpoint: "${dis.url}" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey} }
targets: [${targets}]
poll: { interval: ${interval} }
`;
      const file = configFile('sighup.yaml', settings('{ stream: orders, task: orders-to-obs }', '1h'));
      const { child, done } = start(['--config', file]);
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(`${base}/-/ready`, 200);
        expect((await got(`${base}/metrics`)).body).to.include('(polled every 1h)');

        // an hour-long wait is cut short: the new interval counts from the first cycle, a second ago at most
        configFile(
          'sighup.yaml',
          settings('{ stream: orders, task: orders-to-obs }, { stream: orders, task: missing-task }', '1s'),
        );
        child.kill('SIGHUP');
        const missing = `dis_exporter_target_up{project_id="${PROJECT_ID}",stream="orders",task="missing-task"} 0`;
        const metrics = await waitForMetrics(base, (text) => text.includes(missing));
        expect(metrics).to.include('(polled every 1s)');
        expect(metrics).to.include('\ndis_exporter_config_last_reload_successful 1\n');

        configFile('sighup.yaml', settings('', '1s'));
        child.kill('SIGHUP');
        await waitForMetrics(base, (text) => text.includes('\ndis_exporter_config_last_reload_successful 0\n'));
        child.kill('SIGTERM');
      } catch (error) {
        child.kill('SIGKILL'); // a failed step must not leave the exporter running (and mocha waiting)
        throw error;
      }
      const result = await done;
      expect(result.code).to.equal(0);
      const texts = result.stdout.trim().split('\n');
      // docs/operations.md ("Logs"): the level by name, the time in ISO 8601 UTC, the component once per line
      const parsed = texts.map((text) => JSON.parse(text) as Record<string, unknown>);
      const shapes = parsed.map((line, i) => {
        const time =
          typeof line.time === 'string' && new Date(line.time).toISOString() === line.time ? 'ISO' : line.time;
        return `time=${String(time)} components=${texts[i]!.split('"component":').length - 1}`;
      });
      expect([...new Set(shapes)]).to.deep.equal(['time=ISO components=1']);
      const levels = new Set(parsed.map((line) => line.level));
      expect([...levels].filter((level) => !['info', 'warn', 'error'].includes(String(level)))).to.deep.equal([]);
      expect([...levels]).to.include.members(['info', 'error']);
      expect(texts.map((text) => (JSON.parse(text) as Record<string, unknown>).component)).to.include.members([
        'main',
        'http',
        'reload',
      ]);
      const lines = texts
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.component === 'reload')
        .map(({ level, msg, problems }) => ({ level, msg, problems }));
      expect(lines).to.deep.equal([
        { level: 'info', msg: 'configuration reloaded', problems: undefined },
        {
          level: 'error',
          msg: 'reload rejected; the running configuration is kept',
          problems: ['targets: at least one target is required'],
        },
      ]);
    });

    it('serves GET /config exactly as --check-config prints it, behind basic auth, following reloads', async () => {
      const port = await freePort();
      const webFile = configFile(
        'config-web.yml',
        `basic_auth_users:\n  ops: "${bcrypt.hashSync('ops-password-0123', 4)}"\n`,
      );
      const settings = (interval: string) => `
server: { host: 127.0.0.1, port: ${port} }
dis: { projectId: ${PROJECT_ID}, endpoint: "${dis.url}" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey}, securityToken: temporary-token-value }
targets: [{ stream: orders, task: orders-to-obs }]
poll: { interval: ${interval} }
`;
      const file = configFile('config-endpoint.yaml', settings('1h'));
      const args = ['--config', file, '--web.config.file', webFile];
      const checkConfig = async () => (await runCli(['--check-config', ...args])).stdout;
      const { child, done } = start(args);
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(`${base}/-/ready`, 200);
        const authorization = `Basic ${Buffer.from('ops:ops-password-0123').toString('base64')}`;
        const config = () => got(`${base}/config`, { headers: { authorization } });
        expect((await got(`${base}/config`)).statusCode).to.equal(401);
        const first = await config();
        expect([first.statusCode, first.headers['content-type']]).to.deep.equal([
          200,
          'application/yaml; charset=utf-8',
        ]);
        expect(first.body).to.equal(await checkConfig());
        expect(first.body).to.include('  secretKey: "[REDACTED]"\n  securityToken: "[REDACTED]"\n');
        expect(first.body).not.to.include(CREDENTIALS.secretKey);
        expect(first.body).not.to.include('temporary-token-value');

        configFile('config-endpoint.yaml', settings('45s'));
        child.kill('SIGHUP');
        let body = first.body;
        for (let i = 0; i < 200 && !body.includes('interval: 45s'); i++) {
          await new Promise((r) => setTimeout(r, 50));
          body = (await config()).body;
        }
        expect(body).to.equal(await checkConfig());
        // a refused reload leaves the configuration in force, and /config shows that one, not the file
        configFile('config-endpoint.yaml', settings('30'));
        child.kill('SIGHUP');
        const reloadFailed = '\ndis_exporter_config_last_reload_successful 0\n';
        let metrics = '';
        for (let i = 0; i < 200 && !metrics.includes(reloadFailed); i++) {
          await new Promise((r) => setTimeout(r, 50));
          metrics = (await got(`${base}/metrics`, { headers: { authorization } })).body;
        }
        expect(metrics).to.include(reloadFailed);
        expect((await config()).body).to.equal(body);
        child.kill('SIGTERM');
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
      expect((await done).code).to.equal(0);
    });
  });
});

/** Scrapes until `ready` holds for the body (real time, a few seconds at most); the body. */
async function waitForMetrics(base: string, ready: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = (await got(`${base}/metrics`)).body;
    if (ready(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${base}/metrics never showed what was expected`);
}

describe('run() in this process, with the clock and signals injected through CliIo', function () {
  this.timeout(30_000);
  let dir: string;
  let dis: FakeDis;
  const clock = new ManualClock(T0 + 90_000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-run-'));
    dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
  });
  after(async () => {
    await dis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on the reload signal, applies the new targets at the next cycle, and stops listening on exit', async () => {
    const file = join(dir, 'config.yaml');
    const settings = (targets: string) => `
server: { host: 127.0.0.1, port: 0 }
dis: { projectId: ${PROJECT_ID}, endpoint: "${dis.url}" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey} }
targets: [${targets}]
`;
    writeFileSync(file, settings('{ stream: orders, task: orders-to-obs }'));
    const { logger, lines: logs } = logCapture();
    let reloadSignal: (() => void) | undefined;
    let stopSignal: ((signal: string) => void) | undefined;
    let url: string | undefined;
    const io: CliIo = {
      stdout: () => {},
      stderr: () => {},
      stopSignal: () => new Promise((resolve) => (stopSignal = resolve)),
      onReloadSignal: (reload) => {
        reloadSignal = reload;
        return () => (reloadSignal = undefined);
      },
      clock,
      logger,
      onListening: (listening) => (url = listening),
    };
    const exit = run(['--config', file], {}, io);
    const reloads = () => logs.filter((line) => line.component === 'reload').map((line) => line.msg);
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(condition()).to.equal(true);
    };
    try {
      await until(() => url !== undefined);
      await waitFor(`${url}/-/ready`, 200);

      writeFileSync(file, settings('{ stream: orders, task: orders-to-obs }, { stream: clicks, task: clicks-to-dli }'));
      await clock.advance(1_000);
      reloadSignal!();
      await until(() => reloads().length === 1);
      expect(reloads()).to.deep.equal(['configuration reloaded']);
      expect((await got(`${url}/metrics`)).body).to.include('\ndis_exporter_targets 1\n');
      await clock.advance(62_000); // the next cycle: one interval (± 5 % jitter, random here) after the first
      const clicksUp = `dis_exporter_target_up{project_id="${PROJECT_ID}",stream="clicks",task="clicks-to-dli"} 1`;
      const metrics = await waitForMetrics(url!, (text) => text.includes(clicksUp));
      expect(metrics).to.include('\ndis_exporter_targets 2\n');
      expect(metrics).to.include(
        `\ndis_exporter_config_last_reload_success_timestamp_seconds ${(T0 + 91_000) / 1000}\n`,
      );
    } finally {
      stopSignal!('SIGTERM'); // also after a failed step: nothing may stay listening
    }
    expect(await exit).to.equal(0);
    expect(reloadSignal).to.equal(undefined);
  });

  it('re-reads the --web.config.file file on a reload; the flag still wins over web.configFile', async () => {
    const file = join(dir, 'config-web.yaml');
    const webFile = join(dir, 'web-flag.yml');
    // Never read: the flag wins, at start and on every reload.
    const ignored = join(dir, 'web-from-config.yml');
    writeFileSync(
      file,
      `
server: { host: 127.0.0.1, port: 0 }
web: { configFile: "${ignored}" }
dis: { projectId: ${PROJECT_ID}, endpoint: "${dis.url}" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey} }
targets: [{ stream: orders, task: orders-to-obs }]
`,
    );
    writeFileSync(webFile, '');
    const { logger, lines: logs } = logCapture();
    let reloadSignal: (() => void) | undefined;
    let stopSignal: ((signal: string) => void) | undefined;
    let url: string | undefined;
    const io: CliIo = {
      stdout: () => {},
      stderr: () => {},
      stopSignal: () => new Promise((resolve) => (stopSignal = resolve)),
      onReloadSignal: (reload) => {
        reloadSignal = reload;
        return () => (reloadSignal = undefined);
      },
      clock,
      logger,
      onListening: (listening) => (url = listening),
    };
    const exit = run(['--config', file, '--web.config.file', webFile], {}, io);
    const reloads = () => logs.filter((line) => line.component === 'reload').map((line) => line.msg);
    try {
      for (let i = 0; i < 1000 && url === undefined; i++) await new Promise((r) => setTimeout(r, 5));
      expect((await got(`${url}/metrics`)).statusCode).to.equal(200);
      writeFileSync(webFile, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('scrape-password-0123', 4)}"\n`);
      reloadSignal!();
      for (let i = 0; i < 1000 && reloads().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(reloads()).to.deep.equal(['configuration reloaded']);
      expect((await got(`${url}/metrics`)).statusCode).to.equal(401);
      const authorization = `Basic ${Buffer.from('prometheus:scrape-password-0123').toString('base64')}`;
      expect((await got(`${url}/metrics`, { headers: { authorization } })).statusCode).to.equal(200);
    } finally {
      stopSignal!('SIGTERM');
    }
    expect(await exit).to.equal(0);
  });
});
