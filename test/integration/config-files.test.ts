import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import { CREDENTIALS, PROJECT_ID } from '../helpers/exporter.js';
import { freePort } from '../helpers/net.js';

// Files the configuration names that are not small regular files: a FIFO (opening one for reading waits for a
// writer, for ever), /dev/zero (never ends), a directory, a file too large. The real CLI in a child process, so that
// a read that blocks the event loop shows as a timeout here rather than hanging the test run.

/** Each answer must come well within this; one that waited on a FIFO would never come. */
const ANSWER_WITHIN_MS = 5_000;
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false, timeout: { request: ANSWER_WITHIN_MS } });

type Run = { code: number | null; stdout: string; stderr: string; killed: boolean };

/**
 * Runs the CLI; SIGKILLs it after `killAfterMs` (`killed` says so). `whileRunning` gets the base URL and then
 * SIGTERMs it; a failure there SIGKILLs it and rejects.
 */
function runCli(
  args: string[],
  env: Record<string, string>,
  killAfterMs: number,
  whileRunning?: (base: string) => Promise<void>,
): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    let failure: unknown;
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure === undefined) resolve({ code, stdout, stderr, killed });
      else reject(failure as Error);
    });
    whileRunning?.(`http://127.0.0.1:${env.DIS_EXPORTER_PORT}`).then(
      () => child.kill('SIGTERM'),
      (error: unknown) => {
        failure = error;
        child.kill('SIGKILL');
      },
    );
  });
}

describe('config, key, web config and certificate files that are not small regular files', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const path = (name: string) => join(dir, name);
  const write = (name: string, text: string) => {
    // Writing to a FIFO put there before would wait for a reader: it is replaced.
    rmSync(path(name), { force: true });
    writeFileSync(path(name), text);
    return path(name);
  };
  /** Replaces `name` with a FIFO that nothing ever writes to. */
  const fifo = (name: string) => {
    rmSync(path(name), { force: true });
    execFileSync('mkfifo', [path(name)]);
    return path(name);
  };
  const config = (auth: string, more = '') =>
    `dis: { projectId: ${PROJECT_ID}, endpoint: "http://127.0.0.1:1" }\nauth: ${auth}\n` +
    `targets: [{ stream: orders, task: orders-to-obs }]\n${more}`;
  const checkConfig = (args: string[]) => runCli(['--check-config', ...args], {}, 15_000);

  it('--check-config refuses a FIFO as the config file at once', async () => {
    const file = fifo('config-fifo.yaml');
    expect(await checkConfig(['--config', file])).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `${file}: cannot read: not a regular file (a FIFO)\n`,
      killed: false,
    });
  });

  it('--check-config refuses key files that are a FIFO or /dev/zero at once, naming each key and file', async () => {
    const ak = fifo('ak-fifo');
    const file = write('keys.yaml', config(`{ accessKeyFile: "${ak}", secretKeyFile: /dev/zero }`));
    expect(await checkConfig(['--config', file])).to.deep.equal({
      code: 1,
      stdout: '',
      stderr:
        `auth.accessKeyFile: cannot read "${ak}": not a regular file (a FIFO)\n` +
        'auth.secretKeyFile: cannot read "/dev/zero": not a regular file (a character device)\n',
      killed: false,
    });
  });

  it('--check-config refuses a FIFO web config file, and FIFO or device certificate files', async () => {
    const file = write('good.yaml', config(`{ accessKey: ${CREDENTIALS.accessKey}, secretKey: x }`));
    const web = fifo('web-fifo.yml');
    expect(await checkConfig(['--config', file, '--web.config.file', web])).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `web.configFile ${web}: cannot read: not a regular file (a FIFO)\n`,
      killed: false,
    });
    const key = fifo('tls-key-fifo');
    const tls = write('web-tls.yml', `tls_server_config:\n  cert_file: /dev/zero\n  key_file: "${key}"\n`);
    expect(await checkConfig(['--config', file, '--web.config.file', tls])).to.deep.equal({
      code: 1,
      stdout: '',
      stderr:
        `web.configFile ${tls}: tls_server_config.cert_file: cannot read "/dev/zero": not a regular file (a character device)\n` +
        `web.configFile ${tls}: tls_server_config.key_file: cannot read "${key}": not a regular file (a FIFO)\n`,
      killed: false,
    });
  });

  it('a reload that meets a FIFO answers at once with the problem, and scrapes are served meanwhile', async () => {
    const port = await freePort();
    const sk = write('sk', `${CREDENTIALS.secretKey}\n`);
    const web = write('web.yml', '');
    const settings = config(
      `{ accessKey: ${CREDENTIALS.accessKey}, secretKeyFile: "${sk}" }`,
      `web: { configFile: "${web}" }\n`,
    );
    const file = write('reload.yaml', settings);
    const answers: string[] = [];
    /** POST /-/reload and GET /metrics at the same time: both must answer. */
    const reloadWhileScraping = async (base: string) => {
      const [reload, scrape] = await Promise.all([got.post(`${base}/-/reload`), got(`${base}/metrics`)]);
      answers.push(`${reload.statusCode} ${reload.body}`, `${scrape.statusCode}`);
    };
    const run = await runCli(
      ['--config', file],
      { DIS_EXPORTER_HOST: '127.0.0.1', DIS_EXPORTER_PORT: String(port) },
      50_000,
      async (base) => {
        for (let i = 0; i < 200 && (await got(`${base}/metrics`).catch(() => undefined))?.statusCode !== 200; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        fifo('sk');
        await reloadWhileScraping(base);
        write('sk', `${CREDENTIALS.secretKey}\n`);
        fifo('web.yml');
        await reloadWhileScraping(base);
        write('web.yml', '');
        fifo('reload.yaml');
        await reloadWhileScraping(base);
        write('reload.yaml', settings);
        await reloadWhileScraping(base);
      },
    );
    expect(answers).to.deep.equal([
      `500 auth.secretKeyFile: cannot read "${sk}": not a regular file (a FIFO)\n`,
      '200',
      `500 web.configFile ${web}: cannot read: not a regular file (a FIFO)\n`,
      '200',
      `500 ${file}: cannot read: not a regular file (a FIFO)\n`,
      '200',
      '200 configuration reloaded\n',
      '200',
    ]);
    expect([run.code, run.killed]).to.deep.equal([0, false]);
  });
});
