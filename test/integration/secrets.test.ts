import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { freePort } from '../helpers/net.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

// Real-looking credentials: a 20-character AK, a 40-character SK and a long security token.
const AK = 'HPUAQ7ZKX3M9WLRT2BVE';
const SK = 'k3Jd9Qw2Lx8Vn5Rt7Yp1Zs4Hb6Gm0Fc2Ae9Ud3Wq';
const TOKEN = 'gQpjbi1ub3J0aC00iZ8lMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA0NTYxMjM0';
const DWS_PASSWORD = 'Dws-Password-0123456789';
const IAM_PASSWORD = 'Iam-Password-9f8e7d6c5b4a';
const PROJECT = '0123456789abcdef0123456789abcdef';
// The basic-auth password of the web config, and its bcrypt hash (cost 4), which must not leak either.
const SCRAPE_PASSWORD = 'Scrape-Pass-7f3k9Qx2Lm';
const SCRAPE_HASH = '$2b$04$ZQvKJh400o.cEk87yiWJz.hPh7PExXxj2ZTu5pvwHvx3CYYwgS9iy';
const SCRAPE_AUTH = `Basic ${Buffer.from(`prometheus:${SCRAPE_PASSWORD}`).toString('base64')}`;
const SECRETS = [
  AK,
  SK,
  TOKEN,
  DWS_PASSWORD,
  IAM_PASSWORD,
  'Signature=',
  'SDK-HMAC-SHA256 Access',
  SCRAPE_PASSWORD,
  SCRAPE_HASH,
  SCRAPE_AUTH.slice('Basic '.length),
];

type Run = { code: number | null; stdout: string; stderr: string };

function runCli(args: string[], env: Record<string, string>, whileRunning?: (base: string) => Promise<string[]>) {
  return new Promise<{ run: Run; pages: string[] }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pages: string[] = [];
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('close', (code) => resolve({ run: { code, stdout, stderr }, pages }));
    if (whileRunning !== undefined) {
      whileRunning(`http://127.0.0.1:${env.DIS_EXPORTER_PORT}`)
        .then((collected) => {
          pages = collected;
          child.kill('SIGTERM');
        })
        .catch((error: unknown) => {
          child.kill('SIGKILL');
          reject(error);
        });
    }
  });
}

function expectNoSecret(where: string, text: string, more: readonly string[] = []): void {
  for (const secret of [...SECRETS, ...more]) {
    expect(text.includes(secret), `${where} contains ${JSON.stringify(secret)}`).to.equal(false);
  }
}

describe('no credential ever reaches logs, metrics, pages or --check-config', function () {
  this.timeout(30_000);
  let dis: FakeDis;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-secrets-'));
    dis = await startFakeDis({
      scenario: parseScenario({
        projectId: PROJECT,
        credentials: [{ accessKey: AK, secretKey: SK }],
        iam: { users: [{ domain: 'acme', name: 'dis-monitor', password: IAM_PASSWORD }] },
        streams: [
          {
            name: 'orders',
            partitions: [{ initialRecords: 10, recordsPerSecond: 1 }],
            tasks: [
              { name: 'to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } },
              {
                name: 'to-dws',
                destinationType: 'DWS',
                destination: { dws_cluster_name: 'c', user_name: 'loader', user_password: DWS_PASSWORD },
              },
            ],
          },
        ],
      }),
    });
  });
  after(async () => {
    await dis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function collect(base: string): Promise<string[]> {
    for (let i = 0; i < 200; i++) {
      const ready = await got(`${base}/-/ready`).catch(() => undefined);
      if (ready?.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const pages = [];
    for (const path of ['/metrics', '/', '/-/healthy', '/-/ready', '/nope'])
      pages.push((await got(`${base}${path}`)).body);
    pages.push((await got(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).body);
    return pages;
  }

  /** Runs the exporter at trace level with these credential variables, scrapes every page, checks the task is up or down. */
  async function runExporter(
    credentials: Record<string, string>,
    targets: string,
    expectUp: string,
  ): Promise<{ log: string; pages: string[] }> {
    const port = await freePort();
    const { run, pages } = await runCli(
      [],
      {
        DIS_ENDPOINT: dis.url,
        HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
        ...credentials,
        DIS_TARGETS: targets,
        DIS_EXPORTER_HOST: '127.0.0.1',
        DIS_EXPORTER_PORT: String(port),
        LOG_LEVEL: 'trace',
      },
      collect,
    );
    expect(run.code).to.equal(0);
    expect(pages[0]).to.match(new RegExp(`dis_exporter_target_up\\{[^}]*task="to-dws"\\} ${expectUp}`));
    expect(run.stdout.split('\n').length).to.be.greaterThan(3);
    return { log: run.stdout + run.stderr, pages };
  }

  for (const [name, secretKey, targets, expectUp] of [
    ['with the right credentials (trace logging, discovery)', SK, 'orders/*', '1'],
    [
      'with a wrong secret key, so every request fails with 401',
      `${SK.slice(0, -1)}X`,
      'orders/to-obs,orders/to-dws',
      '0',
    ],
  ] as const) {
    it(name, async () => {
      const keyFile = join(dir, 'sk');
      writeFileSync(keyFile, `  ${secretKey}\n`);
      const credentials = {
        HUAWEICLOUD_SDK_AK: AK,
        HUAWEICLOUD_SDK_SK_FILE: keyFile,
        HUAWEICLOUD_SDK_SECURITY_TOKEN: TOKEN,
      };
      const { log, pages } = await runExporter(credentials, targets, expectUp);
      // Three 401s in the first cycle start a cool-down: its log line is grepped too.
      if (expectUp === '0') expect(log).to.include('"msg":"DIS requests paused (cool-down)"');
      expectNoSecret('the log', log);
      pages.forEach((page, i) => expectNoSecret(`page ${i}`, page));
    });
  }

  it('with basic auth from a web config: the password, its hash and the header never show', async () => {
    const web = join(dir, 'web.yml');
    writeFileSync(web, `basic_auth_users:\n  prometheus: "${SCRAPE_HASH}"\n`);
    const port = await freePort();
    const { run, pages } = await runCli(
      ['--web.config.file', web],
      {
        DIS_ENDPOINT: dis.url,
        HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
        HUAWEICLOUD_SDK_AK: AK,
        HUAWEICLOUD_SDK_SK: SK,
        DIS_TARGETS: 'orders/to-obs',
        DIS_EXPORTER_HOST: '127.0.0.1',
        DIS_EXPORTER_PORT: String(port),
        LOG_LEVEL: 'trace',
      },
      async (base) => {
        const authorized = { headers: { authorization: SCRAPE_AUTH } };
        for (let i = 0; i < 200; i++) {
          if ((await got(`${base}/-/ready`).catch(() => undefined))?.statusCode === 200) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const wrong = `Basic ${Buffer.from(`${SCRAPE_PASSWORD}:${SCRAPE_PASSWORD}x`).toString('base64')}`;
        const collected = [];
        for (const path of ['/metrics', '/', '/nope']) {
          const response = await got(`${base}${path}`, authorized);
          collected.push(`${response.statusCode} ${JSON.stringify(response.headers)} ${response.body}`);
        }
        for (const authorization of [undefined, wrong]) {
          const response = await got(`${base}/metrics`, {
            headers: authorization === undefined ? {} : { authorization },
          });
          collected.push(`${response.statusCode} ${JSON.stringify(response.headers)} ${response.body}`);
        }
        return collected;
      },
    );
    expect(run.code).to.equal(0);
    expect(pages.map((page) => page.slice(0, 3))).to.deep.equal(['200', '200', '404', '401', '401']);
    expectNoSecret('the log', run.stdout + run.stderr);
    pages.forEach((page, i) => expectNoSecret(`page ${i}`, page));
    const check = (
      await runCli(['--check-config', '--web.config.file', web], {
        HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
        HUAWEICLOUD_SDK_AK: AK,
        HUAWEICLOUD_SDK_SK: SK,
        DIS_TARGETS: 'orders/to-obs',
      })
    ).run;
    expect(check.code).to.equal(0);
    expect(check.stdout).to.include(`web:\n  configFile: ${web}\n`);
    expectNoSecret('--check-config', check.stdout + check.stderr);
    // The plain password where its hash belongs, a likely mistake: the error must not echo it.
    writeFileSync(web, `basic_auth_users:\n  prometheus: "${SCRAPE_PASSWORD}"\n`);
    const bad = (
      await runCli(['--check-config', '--web.config.file', web], {
        HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
        HUAWEICLOUD_SDK_AK: AK,
        HUAWEICLOUD_SDK_SK: SK,
        DIS_TARGETS: 'orders/to-obs',
      })
    ).run;
    expect([bad.code, bad.stderr]).to.deep.equal([
      1,
      `web.configFile ${web}: basic_auth_users.prometheus: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)\n`,
    ]);
    expectNoSecret('web config errors', bad.stdout + bad.stderr);
  });

  for (const [name, password, expectUp] of [
    ['with an IAM user token (trace logging, discovery)', IAM_PASSWORD, '1'],
    ['with a wrong IAM password, so no token is issued', `${IAM_PASSWORD}-wrong`, '0'],
  ] as const) {
    it(name, async () => {
      const issuedBefore = dis.control.issuedIamTokens().length;
      const passwordFile = join(dir, 'iam-password');
      writeFileSync(passwordFile, `${password}\n`);
      const credentials = {
        HUAWEICLOUD_SDK_IAM_ENDPOINT: dis.url,
        DIS_IAM_DOMAIN: 'acme',
        DIS_IAM_USERNAME: 'dis-monitor',
        DIS_IAM_PASSWORD_FILE: passwordFile,
      };
      const { log, pages } = await runExporter(credentials, 'orders/*,orders/to-dws', expectUp);
      const code = expectUp === '1' ? '201' : '401';
      expect(pages[0]).to.include(`dis_exporter_api_requests_total{operation="iam_token",code="${code}"} 1\n`);
      const tokens = dis.control.issuedIamTokens();
      expect(tokens.length - issuedBefore).to.equal(expectUp === '1' ? 1 : 0);
      expectNoSecret('the log', log, [password, ...tokens]);
      pages.forEach((page, i) => expectNoSecret(`page ${i}`, page, [password, ...tokens]));
    });
  }

  it('in reload answers and logs: refused configs with secrets out of place, then an applied one', async () => {
    const file = join(dir, 'reload.yaml');
    const skFile = join(dir, 'reload-sk');
    const webFile = join(dir, 'reload-web.yml');
    const config = (auth: string, log = '{ level: trace }', web = '""') =>
      `log: ${log}\nweb: { configFile: ${web} }\ndis: { projectId: ${PROJECT}, endpoint: "${dis.url}" }\n` +
      `auth: ${auth}\ntargets: [{ stream: orders, task: to-obs }]\n`;
    writeFileSync(file, config(`{ accessKey: ${AK}, secretKey: ${SK}, securityToken: ${TOKEN} }`));
    const port = await freePort();
    const env = { DIS_EXPORTER_HOST: '127.0.0.1', DIS_EXPORTER_PORT: String(port) };
    const { run, pages } = await runCli(['--config', file], env, async (base) => {
      const before = await collect(base);
      writeFileSync(file, config(`{ accessKey: [${AK}], secretKey: { x: ${SK} }, securityToken: 5, bogus: ${TOKEN} }`));
      const refused = await got.post(`${base}/-/reload`);
      writeFileSync(skFile, `${SK}\n`);
      const auth = `{ accessKey: ${AK}, secretKeyFile: "${skFile}", securityToken: ${TOKEN} }`;
      // The basic-auth password where its hash belongs: the problem must not echo it.
      writeFileSync(webFile, `basic_auth_users:\n  prometheus: "${SCRAPE_PASSWORD}"\n`);
      writeFileSync(file, config(auth, '{ level: trace }', `"${webFile}"`));
      const refusedWeb = await got.post(`${base}/-/reload`);
      // log.format needs a restart: the reload warns about it
      writeFileSync(file, config(auth, '{ level: trace, format: pretty }'));
      const applied = await got.post(`${base}/-/reload`);
      return [refused.body, refusedWeb.body, applied.body, ...before, ...(await collect(base))];
    });
    expect(run.code).to.equal(0);
    expect(pages.slice(0, 3)).to.deep.equal([
      'auth.accessKey: must be a string (got a list)\n' +
        'auth.secretKey: must be a single value, not a mapping\n' +
        'auth.securityToken: must be a string (got a number)\n' +
        'auth: unknown key, not shown as it may be a secret\n',
      `web.configFile ${webFile}: basic_auth_users.prometheus: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)\n`,
      'configuration reloaded\n',
    ]);
    const reloadLog = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.component === 'reload')
      .map((line) => line.msg);
    expect(reloadLog).to.deep.equal([
      'reload rejected; the running configuration is kept',
      'reload rejected; the running configuration is kept',
      'changed settings need a restart; kept as they were',
      'configuration reloaded',
    ]);
    expect(pages[pages.length - 6]).to.include('dis_exporter_config_last_reload_successful 1');
    expectNoSecret('the log', run.stdout + run.stderr);
    pages.forEach((page, i) => expectNoSecret(`page ${i}`, page));
  });

  it('in --check-config output and in config errors', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `dis: { projectId: ${PROJECT}, endpoint: "http://127.0.0.1:1" }\nauth: { accessKey: ${AK}, secretKey: ${SK}, securityToken: ${TOKEN} }\ntargets: [{ stream: s, task: t }]\n`,
    );
    const good = (await runCli(['--check-config', '--config', file], {})).run;
    expect(good.code).to.equal(0);
    expect(good.stdout).to.include('accessKey: "[REDACTED]"');
    expectNoSecret('--check-config', good.stdout + good.stderr);
    const iam = `auth: { iam: { endpoint: "https://iam.example.com", domain: acme, username: u, password: ${IAM_PASSWORD} } }`;
    writeFileSync(file, `dis: { projectId: ${PROJECT} }\n${iam}\ntargets: [{ stream: s, task: t }]\n`);
    const withIam = (await runCli(['--check-config', '--config', file], {})).run;
    expect(withIam.code).to.equal(0);
    expect(withIam.stdout).to.include('    password: "[REDACTED]"\n');
    expectNoSecret('--check-config with IAM', withIam.stdout + withIam.stderr);
    const both = (await runCli(['--check-config', '--config', file], { HUAWEICLOUD_SDK_AK: AK })).run;
    expect([both.code, both.stderr]).to.deep.equal([
      1,
      'auth: set one way to authenticate, not 2: an AK/SK (auth.accessKey) ' + 'and an IAM user (auth.iam)\n',
    ]);
    expectNoSecret('an IAM config error', both.stdout + both.stderr);
    writeFileSync(
      file,
      `dis: { projectId: ${PROJECT} }\nauth: { accessKey: [${AK}], secretKey: { x: ${SK} }, securityToken: 5, bogus: ${TOKEN} }\ntargets: [{ stream: s, task: t }]\n`,
    );
    const bad = (await runCli(['--check-config', '--config', file], {})).run;
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('auth.');
    expectNoSecret('config errors', bad.stdout + bad.stderr);
  });
});
