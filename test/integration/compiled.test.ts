import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import baseGot from 'got';
import { CREDENTIALS, PROJECT_ID } from '../helpers/exporter.js';
import { freePort } from '../helpers/net.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the compiled exporter (npm run build, node dist/src/main.js)', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-dist-'));
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).to.equal(0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('checks basic-auth passwords in its worker thread, and stops cleanly', async () => {
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    const web = join(dir, 'web.yml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: ${port} }
dis: { projectId: ${PROJECT_ID}, endpoint: "http://127.0.0.1:1" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey} }
targets: [{ stream: orders, task: orders-to-obs }]
`,
    );
    writeFileSync(web, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('scrape-password', 4)}"\n`);
    const child = spawn(process.execPath, ['dist/src/main.js', '--config', config, '--web.config.file', web], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const base = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 300 && (await got(`${base}/-/healthy`).catch(() => undefined))?.statusCode !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const as = (password: string) => ({
        headers: { authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}` },
      });
      expect((await got(`${base}/metrics`, as('scrape-password'))).statusCode).to.equal(200);
      expect((await got(`${base}/metrics`, as('wrong'))).statusCode).to.equal(401);
      expect((await got(`${base}/metrics`)).statusCode).to.equal(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
    expect(stderr).to.equal('');
  });
});
