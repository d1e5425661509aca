import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { BcryptWorkers } from '../../src/web/bcrypt-workers.js';
import { loadWebConfig } from '../../src/web/load-web-config.js';
import { PASSWORD_CHECK_LIMITS } from '../../src/web/password-checks.js';
import { BUSY_RETRY_AFTER_SECONDS, WebSecurity } from '../../src/web/web-security.js';
import { startExporter, testConfig } from '../helpers/exporter.js';
import { ManualClock } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);
/** Nothing listens there: the polls fail, which does not matter to the HTTP side. */
const NO_DIS = 'http://127.0.0.1:1';
const FLOOD = 300;
/**
 * How long an answer may take while the flood is on. Generous for a busy 2-core machine; with the comparisons on the
 * event loop, the probe and the remembered scraper waited for most of 300 comparisons (over 20 s at cost 10).
 */
const PROMPT_MS = 2000;
/** Cost 10, as `htpasswd -B` makes them: each comparison takes tens of milliseconds. */
const COST = 10;

type Answer = Readonly<{ status: number; ms: number; retryAfter: string | undefined }>;

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('basic auth under a flood of wrong passwords', function () {
  this.timeout(60_000);
  let dir: string;
  let running: { app: App; server: RunningServer } | undefined;
  let workers: BcryptWorkers;
  // Every request on a connection of its own, as a flood of clients would come.
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-flood-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  });
  afterEach(async () => {
    await running?.app.stop();
    await workers.close();
    running = undefined;
  });

  /** GET (or POST) a path; the status, how long the answer took and its Retry-After. */
  function call(
    url: string,
    options: { authorization?: string; method?: string; localAddress?: string } = {},
  ): Promise<Answer> {
    const startedMs = performance.now();
    return new Promise((resolve, reject) => {
      const sent = request(
        url,
        {
          agent,
          method: options.method ?? 'GET',
          headers: options.authorization === undefined ? {} : { authorization: options.authorization },
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              ms: performance.now() - startedMs,
              retryAfter: response.headers['retry-after'],
            }),
          );
        },
      );
      sent.on('error', reject);
      sent.end();
    });
  }

  it('answers a remembered scraper and the probes at once, also after a reload; bcrypt work stays bounded', async () => {
    const file = join(dir, 'web.yml');
    const users = (prometheusHash: string, grafanaHash: string) =>
      `basic_auth_users:\n  prometheus: "${prometheusHash}"\n  grafana: "${grafanaHash}"\n`;
    const prometheusHash = bcrypt.hashSync('scrape-password', COST);
    const grafanaHash = bcrypt.hashSync('grafana-password', COST);
    writeFileSync(file, users(prometheusHash, grafanaHash));
    workers = new BcryptWorkers();
    let compared = 0;
    const clock = new ManualClock(T0);
    const web = new WebSecurity(loadWebConfig(file), {
      clock,
      logger: pino({ level: 'silent' }),
      verify: (password, hash) => {
        compared += 1;
        return workers.verify(password, hash);
      },
    });
    const config = { ...testConfig(NO_DIS), web: { configFile: file } };
    running = await startExporter(config, { clock, web });
    const url = running.server.url;
    const scraper = { authorization: basic('prometheus', 'scrape-password') };
    expect((await call(`${url}/metrics`, scraper)).status).to.equal(200);
    expect(compared).to.equal(1);

    const flood = Array.from({ length: FLOOD }, (_, i) =>
      call(`${url}/metrics`, { authorization: basic('prometheus', `wrong-${i}`) }),
    );
    // A scraper that never logged in before, from an address of its own.
    const newcomer = call(`${url}/metrics`, {
      authorization: basic('grafana', 'grafana-password'),
      localAddress: '127.0.0.2',
    });
    const healthy = await call(`${url}/-/healthy`);
    const remembered = await call(`${url}/metrics`, scraper);
    const reload = await call(`${url}/-/reload`, { ...scraper, method: 'POST' });
    const afterReload = await call(`${url}/metrics`, scraper);
    const answers = await Promise.all(flood);
    const first = await newcomer;

    expect([healthy.status, remembered.status, reload.status, afterReload.status]).to.deep.equal([200, 200, 200, 200]);
    expect(healthy.ms, '/-/healthy (ms)').to.be.lessThan(PROMPT_MS);
    expect(remembered.ms, 'remembered scraper (ms)').to.be.lessThan(PROMPT_MS);
    expect(reload.ms, 'reload by the remembered scraper (ms)').to.be.lessThan(PROMPT_MS);
    expect(afterReload.ms, 'remembered scraper after the reload (ms)').to.be.lessThan(PROMPT_MS);
    expect(first.status, 'new scraper from another address').to.equal(200);

    const denied = answers.filter((answer) => answer.status === 401);
    const busy = answers.filter((answer) => answer.status === 503);
    expect(denied.length + busy.length, 'every wrong password gets 401 or 503').to.equal(FLOOD);
    expect(busy.every((answer) => answer.retryAfter === String(BUSY_RETRY_AFTER_SECONDS))).to.equal(true);
    // Only the checks let in cost a comparison (the newcomer's too); the remembered scraper costs none.
    expect(compared).to.equal(1 + denied.length + 1);
    expect(denied.length, 'wrong passwords compared').to.be.lessThan(FLOOD / 5);
    expect(denied.length).to.be.at.least(PASSWORD_CHECK_LIMITS.perClient);

    // A reload that changes the hash forgets the login: the next request is compared again.
    writeFileSync(file, users(bcrypt.hashSync('scrape-password', 4), grafanaHash));
    expect((await call(`${url}/-/reload`, { ...scraper, method: 'POST' })).status).to.equal(200);
    const comparedBefore = compared;
    expect((await call(`${url}/metrics`, scraper)).status).to.equal(200);
    expect(compared).to.equal(comparedBefore + 1);
  });
});
