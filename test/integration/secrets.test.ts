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
const PROJECT = '0123456789abcdef0123456789abcdef';
const SECRETS = [AK, SK, TOKEN, DWS_PASSWORD, 'Signature=', 'SDK-HMAC-SHA256 Access'];

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

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) {
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
      const port = await freePort();
      const { run, pages } = await runCli(
        [],
        {
          DIS_ENDPOINT: dis.url,
          HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
          HUAWEICLOUD_SDK_AK: AK,
          HUAWEICLOUD_SDK_SK_FILE: keyFile,
          HUAWEICLOUD_SDK_SECURITY_TOKEN: TOKEN,
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
      expectNoSecret('the log', run.stdout + run.stderr);
      pages.forEach((page, i) => expectNoSecret(`page ${i}`, page));
    });
  }

  it('in reload answers and logs: a refused config with secrets out of place, then an applied one', async () => {
    const file = join(dir, 'reload.yaml');
    const skFile = join(dir, 'reload-sk');
    const config = (auth: string, log = '{ level: trace }') =>
      `log: ${log}\ndis: { projectId: ${PROJECT}, endpoint: "${dis.url}" }\nauth: ${auth}\n` +
      'targets: [{ stream: orders, task: to-obs }]\n';
    writeFileSync(file, config(`{ accessKey: ${AK}, secretKey: ${SK}, securityToken: ${TOKEN} }`));
    const port = await freePort();
    const env = { DIS_EXPORTER_HOST: '127.0.0.1', DIS_EXPORTER_PORT: String(port) };
    const { run, pages } = await runCli(['--config', file], env, async (base) => {
      const before = await collect(base);
      writeFileSync(file, config(`{ accessKey: [${AK}], secretKey: { x: ${SK} }, securityToken: 5, bogus: ${TOKEN} }`));
      const refused = await got.post(`${base}/-/reload`);
      writeFileSync(skFile, `${SK}\n`);
      // log.format needs a restart: the reload warns about it
      const auth = `{ accessKey: ${AK}, secretKeyFile: "${skFile}", securityToken: ${TOKEN} }`;
      writeFileSync(file, config(auth, '{ level: trace, format: pretty }'));
      const applied = await got.post(`${base}/-/reload`);
      return [refused.body, applied.body, ...before, ...(await collect(base))];
    });
    expect(run.code).to.equal(0);
    expect(pages.slice(0, 2)).to.deep.equal([
      'auth.accessKey: must be a string (got a list)\n' +
        'auth.secretKey: must be a single value, not a mapping\n' +
        'auth.securityToken: must be a string (got a number)\n' +
        'auth.bogus: unknown key\n',
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
