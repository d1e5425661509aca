import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import type { Config, Credentials } from '../../src/config/types.js';
import type { RunningServer } from '../../src/http/server.js';
import { createFakeDisApp, parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import {
  CREDENTIALS,
  PROJECT_ID,
  SCENARIO,
  cyclesCompleted,
  scrape,
  seriesOf,
  startExporter,
  testConfig,
} from '../helpers/exporter.js';
import { exporterLogs } from '../helpers/auth-harness.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { freePort } from '../helpers/net.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-server.js';

const T0 = Date.UTC(2024, 0, 1);
const PROXY_LOGIN = 'dis-proxy-user:pr0xy-Pa55word';
const BASIC = `Basic ${Buffer.from(PROXY_LOGIN).toString('base64')}`;
const USER = { domain: 'acme', name: 'dis-monitor', password: 'Monitor-Password-1' };
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TLS = join(ROOT, 'test', 'fixtures', 'tls');

/** `http://user:password@host:port/` of the test proxy. */
function withLogin(proxy: TestProxy): string {
  return proxy.url.replace('http://', `http://${PROXY_LOGIN}@`) + '/';
}

describe('proxies for DIS and IAM requests (a loopback proxy, real HTTP)', function () {
  this.timeout(30_000);
  let proxy: TestProxy | undefined;
  let dis: FakeDis | undefined;
  let app: App | undefined;
  afterEach(async () => {
    await app?.stop();
    await dis?.close();
    await proxy?.close();
    app = dis = proxy = undefined;
  });

  /** Starts the simulator (IAM user, agency) and the exporter with these proxy settings; one cycle polled. */
  async function start(proxySettings: Config['proxy'], credentials: (dis: FakeDis) => Credentials) {
    const clock = new ManualClock(T0);
    dis = await startFakeDis({
      clock,
      scenario: parseScenario({ ...SCENARIO, epochMs: T0, iam: { users: [USER] }, agency: {} }),
    });
    const { logger, texts: logs } = exporterLogs();
    const config = { ...testConfig(dis.url), proxy: proxySettings };
    const given = credentials(dis);
    let server: RunningServer;
    ({ app, server } = await startExporter(config, { clock, credentials: () => given, logger }));
    await cyclesCompleted(app, 1);
    return { dis, server, logs };
  }

  it('sends every DIS and IAM request through the proxy in absolute form, with the login in Proxy-Authorization', async () => {
    proxy = await startTestProxy(PROXY_LOGIN);
    const iam = (fake: FakeDis): Credentials => ({
      kind: 'iam',
      endpoint: fake.url,
      domain: USER.domain,
      username: USER.name,
      password: USER.password,
    });
    const { server, logs } = await start({ httpsProxy: '', httpProxy: withLogin(proxy), noProxy: '' }, iam);
    const answered = dis!.control.requests().map((request) => `${request.method} ${dis!.url}${request.path}`);
    expect(answered).to.have.length(5); // the token, then details and stream details of two tasks
    expect(
      proxy.requests().map((r) => [r.kind, `${r.kind === 'forward' ? 'GET' : ''}`, r.proxyAuthorization]),
    ).to.have.length(5);
    expect(proxy.requests().every((r) => r.kind === 'forward' && r.proxyAuthorization === BASIC)).to.equal(true);
    expect(
      proxy
        .requests()
        .map((r) => r.target.replace(/\?.*$/, ''))
        .sort(),
    ).to.deep.equal(answered.map((line) => line.replace(/^\S+ /, '')).sort());
    const text = await scrape(server);

    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
    const page = (await got(`${server.url}/`)).body;
    for (const output of [text, page, logs.join('')]) expect(output).not.to.include('pr0xy-Pa55word');
  });

  it('sends nothing through the proxy to a host NO_PROXY names', async () => {
    proxy = await startTestProxy();
    const { server } = await start(
      { httpsProxy: proxy.url, httpProxy: proxy.url, noProxy: 'localhost,127.0.0.0/8' },
      () => ({ kind: 'aksk', ...CREDENTIALS }),
    );
    expect(proxy.requests()).to.deep.equal([]);
    expect(dis!.control.requests()).to.have.length(4);
    expect(seriesOf(await scrape(server), 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal([
      '1',
      '1',
    ]);
  });

  it('never sends metadata service requests through the proxy, while DIS requests go through it', async () => {
    proxy = await startTestProxy(PROXY_LOGIN);
    await start({ httpsProxy: '', httpProxy: withLogin(proxy), noProxy: '' }, (fake) => ({
      kind: 'metadata',
      endpoint: fake.metadataUrl!,
    }));
    const operations = dis!.control.requests().map((request) => request.operation);
    expect(operations.slice(0, 2)).to.deep.equal(['metadata_token', 'metadata_securitykey']);
    expect(proxy.requests().map((r) => new URL(r.target).origin)).to.deep.equal(
      Array.from({ length: 4 }, () => dis!.url),
    );
  });

  it('fails the targets, without the password in any message, when the proxy refuses the login', async () => {
    proxy = await startTestProxy(PROXY_LOGIN);
    const wrong = proxy.url.replace('http://', 'http://dis-proxy-user:wrong-Pa55word@') + '/';
    const { server, logs } = await start({ httpsProxy: '', httpProxy: wrong, noProxy: '' }, () => ({
      kind: 'aksk',
      ...CREDENTIALS,
    }));
    expect(dis!.control.requests()).to.deep.equal([]);
    const text = await scrape(server);
    expect(seriesOf(text, 'dis_exporter_api_requests_total')).to.include(
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="407"} 2',
    );
    for (const output of [text, (await got(`${server.url}/`)).body, logs.join('')]) {
      expect(output).not.to.include('wrong-Pa55word');
    }
  });
});

/** The exporter as a child process, with `env` for its settings, and what it printed. */
type ExporterProcess = Readonly<{
  port: number;
  output: () => string;
  /** /metrics once the exporter has completed `cycles` poll cycles (or the last text, after 20 s). */
  metricsAfter: (cycles: number) => Promise<string>;
  stop: () => Promise<void>;
}>;

/**
 * Runs the exporter in a process of its own (the proxy environment and NODE_EXTRA_CA_CERTS, which trusts the test CA,
 * are read at start), polling every second with the test AK/SK; `env` adds the rest.
 */
async function spawnExporter(env: Record<string, string>): Promise<ExporterProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_EXTRA_CA_CERTS: join(TLS, 'ca.pem'),
      HUAWEICLOUD_SDK_PROJECT_ID: PROJECT_ID,
      HUAWEICLOUD_SDK_AK: CREDENTIALS.accessKey,
      HUAWEICLOUD_SDK_SK: CREDENTIALS.secretKey,
      DIS_TARGETS: 'orders/orders-to-obs,clicks/clicks-to-dli',
      DIS_POLL_INTERVAL: '1s',
      DIS_POLL_CONCURRENCY: '2',
      DIS_EXPORTER_HOST: '127.0.0.1',
      DIS_EXPORTER_PORT: String(port),
      LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    port,
    output: () => output,
    async metricsAfter(cycles) {
      let text = '';
      for (let i = 0; i < 400; i++) {
        const response = await got(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        text = response?.body ?? '';
        const done = /^dis_exporter_poll_duration_seconds_count (\d+)$/m.exec(text);
        if (done !== null && Number(done[1]) >= cycles) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return text;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The task requests that succeeded, from an exposition. */
const taskRequestsOk = (text: string): number =>
  Number(/^dis_exporter_api_requests_total\{operation="show_transfer_task",code="200"\} (\d+)$/m.exec(text)?.[1]);

describe('proxies in a child process: CONNECT tunnels, and an https:// proxy', function () {
  this.timeout(60_000);

  it('tunnels every request to an https:// endpoint with CONNECT, reuses the tunnels, and never shows the proxy password', async () => {
    const proxy = await startTestProxy(PROXY_LOGIN);
    const { app } = createFakeDisApp({ scenario: parseScenario(SCENARIO) });
    const https = createHttpsServer(
      { cert: readFileSync(join(TLS, 'server.pem')), key: readFileSync(join(TLS, 'server-key.pem')) },
      app,
    );
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const disPort = (https.address() as AddressInfo).port;
    const exporter = await spawnExporter({
      HTTPS_PROXY: `http://${PROXY_LOGIN}@127.0.0.1:${new URL(proxy.url).port}`,
      DIS_ENDPOINT: `https://localhost:${disPort}`,
    });
    try {
      const text = await exporter.metricsAfter(3);
      expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
      expect(taskRequestsOk(text)).to.be.at.least(6);
      const tunnels = proxy.requests();
      expect(tunnels.every((r) => r.kind === 'connect' && r.target === `localhost:${disPort}`)).to.equal(true);
      expect(tunnels.every((r) => r.proxyAuthorization === BASIC)).to.equal(true);
      // Keep-alive through the tunnel: at most poll.concurrency tunnels for every request of three cycles.
      expect(tunnels.length).to.be.within(1, 2);
      const page = (await got(`http://127.0.0.1:${exporter.port}/`)).body;
      for (const shown of [text, page, exporter.output()]) expect(shown).not.to.include('pr0xy-Pa55word');
    } finally {
      await exporter.stop();
      await new Promise<void>((resolve) => {
        https.closeAllConnections();
        https.close(() => resolve());
      });
      await proxy.close();
    }
  });

  it('sends http:// requests in absolute form to an https:// proxy over TLS, with the login, over kept-alive connections', async () => {
    const tls = { cert: readFileSync(join(TLS, 'server.pem')), key: readFileSync(join(TLS, 'server-key.pem')) };
    const proxy = await startTestProxy(PROXY_LOGIN, tls);
    const dis = await startFakeDis({ scenario: parseScenario(SCENARIO) });
    const exporter = await spawnExporter({
      HTTP_PROXY: proxy.url.replace('https://', `https://${PROXY_LOGIN}@`),
      DIS_ENDPOINT: dis.url,
    });
    try {
      const text = await exporter.metricsAfter(3);
      expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
      expect(taskRequestsOk(text)).to.be.at.least(6);
      const forwarded = proxy.requests();
      expect(forwarded.length).to.be.at.least(6);
      for (const request of forwarded) {
        expect(request.kind).to.equal('forward');
        expect(request.target.startsWith(`${dis.url}/v2/${PROJECT_ID}/streams/`)).to.equal(true);
        expect(request.proxyAuthorization).to.equal(BASIC);
      }
      // Every request reached the simulator through the proxy, none straight; at most poll.concurrency connections
      // to the proxy carried all of them.
      expect(dis.control.requests().length).to.equal(forwarded.length);
      expect(proxy.connections()).to.be.within(1, 2);
      expect(exporter.output()).not.to.include('pr0xy-Pa55word');
    } finally {
      await exporter.stop();
      await dis.close();
      await proxy.close();
    }
  });
});
