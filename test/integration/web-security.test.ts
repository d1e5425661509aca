import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import baseGot, { type OptionsOfTextResponseBody } from 'got';
import { pino } from 'pino';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { loadWebConfig } from '../../src/web/load-web-config.js';
import { WebSecurity } from '../../src/web/web-security.js';
import { CREDENTIALS, PROJECT_ID, startExporter, testConfig } from '../helpers/exporter.js';
import { ManualClock } from '../helpers/manual-clock.js';

// A new connection for every request, so that each one meets the TLS settings in force.
const got = baseGot.extend({
  retry: { limit: 0 },
  throwHttpErrors: false,
  agent: { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false }) },
});
const T0 = Date.UTC(2024, 0, 1);
const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string): string => readFileSync(join(TLS, name), 'utf8');
const CA = pem('ca.pem');
const CLIENT = { certificate: pem('client.pem'), key: pem('client-key.pem') };
const STRANGER = { certificate: pem('stranger.pem'), key: pem('stranger-key.pem') };
// bcrypt (cost 4, to keep the tests fast) of "scrape-password-0123".
const PASSWORD = 'scrape-password-0123';
const HASH = '$2b$04$TQayRl/mqW0w86piENDtwO4Jj.1Oi8Rfawtlsa8Kl30IVQWbH01P6';

const CSP =
  "default-src 'none'; style-src 'sha256-8MHILhqBdTyuL4rihWz/LvLTBkJcO5ZDiX+xMsUa3Xs='; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is served. */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: CA }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

function https(client?: { certificate: string; key: string }): OptionsOfTextResponseBody {
  return { https: { certificateAuthority: CA, ...client } };
}

/** What a request ended in: its status, or the code of the error that ended it. */
async function outcome(url: string, options: OptionsOfTextResponseBody = {}): Promise<number | string> {
  try {
    return (await got(url, options)).statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('securing the endpoint (web config)', function () {
  this.timeout(20_000);
  let dis: FakeDis;
  let dir: string;
  let running: { app: App; server: RunningServer } | undefined;
  let clock: ManualClock;
  let logs: Record<string, unknown>[];

  before(async () => {
    dis = await startFakeDis({
      scenario: parseScenario({
        projectId: PROJECT_ID,
        credentials: [CREDENTIALS],
        epochMs: T0,
        streams: [
          {
            name: 'orders',
            partitions: [{ initialRecords: 10, recordsPerSecond: 1 }],
            tasks: [{ name: 'orders-to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } }],
          },
        ],
      }),
    });
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-web-'));
  });
  after(async () => {
    await dis.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clock = new ManualClock(T0);
    logs = [];
  });
  afterEach(async () => {
    await running?.app.stop();
    running = undefined;
  });

  function webConfig(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  /** Starts the exporter on web config `file`; a reload reads `webConfigFile()` as web.configFile (by default `file`). */
  async function start(
    file: string,
    options: { web?: WebSecurity; maxRequests?: number; webConfigFile?: () => string } = {},
  ): Promise<string> {
    const base = testConfig(dis.url, {}, [{ stream: 'orders', task: 'orders-to-obs' }]);
    const withWebConfig = (configFile: string) => ({
      ...base,
      // The logger's level: a reload applies the config's.
      log: { ...base.log, level: 'debug' as const },
      server: { ...base.server, maxRequests: options.maxRequests ?? 40 },
      web: { configFile },
    });
    const config = withWebConfig(file);
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    running = await startExporter(config, {
      clock,
      logger,
      readConfig: () => withWebConfig(options.webConfigFile?.() ?? file),
      ...(options.web === undefined ? {} : { web: options.web }),
    });
    return running.server.url;
  }

  const tlsConfig = (extra = '', cert = join(TLS, 'server.pem'), key = join(TLS, 'server-key.pem')) =>
    `tls_server_config:\n  cert_file: ${cert}\n  key_file: ${key}\n${extra}`;

  describe('TLS', () => {
    it('serves HTTPS; plain HTTP gets no answer', async () => {
      const url = await start(webConfig('tls.yml', tlsConfig()));
      expect(url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const response = await got(`${url}/metrics`, https());
      expect(response.statusCode).to.equal(200);
      expect(response.body).to.include('dis_exporter_build_info{version="0.0.0-test"');
      const plain = url.replace('https:', 'http:');
      expect(await outcome(`${plain}/metrics`)).to.equal('ECONNRESET');
      expect(await outcome(`${url}/metrics`)).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    it('the landing page over HTTPS: exact security headers, HSTS, and a CSP its inline style passes', async () => {
      const url = await start(webConfig('tls.yml', tlsConfig()));
      const response = await got(`${url}/`, https());
      expect(response.statusCode).to.equal(200);
      const { headers } = response;
      expect({
        csp: headers['content-security-policy'],
        referrer: headers['referrer-policy'],
        nosniff: headers['x-content-type-options'],
        frame: headers['x-frame-options'],
        hsts: headers['strict-transport-security'],
      }).to.deep.equal({
        csp: CSP,
        referrer: 'no-referrer',
        nosniff: 'nosniff',
        frame: 'DENY',
        hsts: 'max-age=31536000',
      });
      // The page's only resource is its <style>, and the policy names exactly its hash.
      const style = /<style>([\s\S]*)<\/style>/.exec(response.body)?.[1] ?? '';
      expect(response.body.match(/<(script|link|img|iframe)/g)).to.equal(null);
      expect(CSP).to.include(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    });

    describe('client certificates per client_auth_type', () => {
      const table: ReadonlyArray<[string, string, [number | string, number | string, number | string]]> = [
        // type, extra config, [no certificate, a certificate no CA signed, the client certificate from the CA]
        ['NoClientCert', '', [200, 200, 200]],
        ['RequestClientCert', `  client_auth_type: RequestClientCert\n`, [200, 200, 200]],
        ['RequireAnyClientCert', `  client_auth_type: RequireAnyClientCert\n`, ['ECONNRESET', 200, 200]],
        [
          'VerifyClientCertIfGiven',
          `  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ${join(TLS, 'ca.pem')}\n`,
          [200, 'ECONNRESET', 200],
        ],
        [
          'RequireAndVerifyClientCert',
          `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(TLS, 'ca.pem')}\n`,
          ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ECONNRESET', 200],
        ],
        [
          'RequireAndVerifyClientCert with client_allowed_sans that the client has',
          `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(TLS, 'ca.pem')}\n` +
            '  client_allowed_sans: [other.example, prometheus.monitoring.svc]\n',
          ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ECONNRESET', 200],
        ],
        [
          'RequireAnyClientCert with client_allowed_sans that no client has',
          `  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: [other.example]\n`,
          ['ECONNRESET', 'ECONNRESET', 'ECONNRESET'],
        ],
      ];
      for (const [name, extra, expected] of table) {
        it(name, async () => {
          const url = await start(webConfig('mtls.yml', tlsConfig(extra)));
          const results = [
            await outcome(`${url}/metrics`, https()),
            await outcome(`${url}/metrics`, https(STRANGER)),
            await outcome(`${url}/metrics`, https(CLIENT)),
          ];
          expect(results).to.deep.equal(expected);
        });
      }
    });

    it('rotation: new certificate files are served to the next connection, a broken pair keeps the old one', async () => {
      const cert = join(dir, 'rotating.pem');
      const key = join(dir, 'rotating-key.pem');
      copyFileSync(join(TLS, 'server.pem'), cert);
      copyFileSync(join(TLS, 'server-key.pem'), key);
      const url = await start(webConfig('rotating.yml', tlsConfig('', cert, key)));
      const first = loadWebConfig(join(dir, 'rotating.yml')).material?.fingerprint;
      const second = new (await import('node:crypto')).X509Certificate(pem('server2.pem')).fingerprint256;
      expect(await servedFingerprint(url)).to.equal(first);

      copyFileSync(join(TLS, 'server2.pem'), cert);
      copyFileSync(join(TLS, 'server2-key.pem'), key);
      // The files are looked at once a second at most.
      expect(await servedFingerprint(url)).to.equal(first);
      await clock.advance(1000);
      expect(await servedFingerprint(url)).to.equal(second);
      expect((await got(`${url}/-/healthy`, https())).statusCode).to.equal(200);
      expect(logs.filter((line) => line.msg === 'TLS certificate reloaded')).to.have.length(1);

      // Half a rotation: the new certificate with the old key.
      copyFileSync(join(TLS, 'server.pem'), cert);
      await clock.advance(1000);
      expect(await servedFingerprint(url)).to.equal(second);
      await clock.advance(1000);
      expect(await servedFingerprint(url)).to.equal(second);
      const rejected = logs.filter(
        (line) => line.msg === 'new TLS certificate files rejected; serving the previous ones',
      );
      expect(rejected.map((line) => line.problems)).to.deep.equal([
        [`tls_server_config.key_file: "${key}" is not the key of the certificate in cert_file`],
      ]);
      expect(rejected[0]?.level).to.equal(50);

      copyFileSync(join(TLS, 'server-key.pem'), key);
      await clock.advance(1000);
      expect(await servedFingerprint(url)).to.equal(first);
    });
  });

  describe('basic auth', () => {
    const users = `basic_auth_users:\n  prometheus: "${HASH}"\n`;

    it('401 with a Basic challenge without or with wrong credentials, 200 with the right ones', async () => {
      const url = await start(webConfig('auth.yml', users));
      const none = await got(`${url}/metrics`);
      expect([none.statusCode, none.headers['www-authenticate'], none.body]).to.deep.equal([
        401,
        'Basic realm="dis-exporter"',
        'unauthorized\n',
      ]);
      const wrong = await got(`${url}/metrics`, { headers: { authorization: basic('prometheus', 'nope') } });
      expect([wrong.statusCode, wrong.headers['www-authenticate']]).to.deep.equal([401, 'Basic realm="dis-exporter"']);
      const unknown = await got(`${url}/metrics`, { headers: { authorization: basic('root', PASSWORD) } });
      expect(unknown.statusCode).to.equal(401);
      const garbage = await got(`${url}/metrics`, { headers: { authorization: 'Bearer abc' } });
      expect(garbage.statusCode).to.equal(401);
      const right = await got(`${url}/metrics`, { headers: { authorization: basic('prometheus', PASSWORD) } });
      expect(right.statusCode).to.equal(200);
      expect(right.body).to.include('dis_exporter_targets 1');
    });

    it('guards the landing page, /-/reload and unknown paths; the probes stay open and say only their status', async () => {
      const url = await start(webConfig('auth.yml', users));
      const statuses = async (authorization?: string) => {
        const headers = authorization === undefined ? {} : { authorization };
        return [
          (await got(`${url}/`, { headers })).statusCode,
          (await got.post(`${url}/-/reload`, { headers })).statusCode,
          (await got(`${url}/nope`, { headers })).statusCode,
          (await got(`${url}/-/healthy/`, { headers })).statusCode,
        ];
      };
      expect(await statuses()).to.deep.equal([401, 401, 401, 401]);
      // /-/reload is left out: it answers 404 or 200 depending on whether the reload endpoint is built in.
      const authorized = await statuses(basic('prometheus', PASSWORD));
      expect([authorized[0], authorized[2], authorized[3]]).to.deep.equal([200, 404, 200]);
      const healthy = await got(`${url}/-/healthy`);
      expect([healthy.statusCode, healthy.body]).to.deep.equal([200, 'OK\n']);
      // The first poll cycle runs at start; /-/ready answers 200 once it is done, without credentials.
      let ready = await got(`${url}/-/ready`);
      for (let i = 0; i < 100 && ready.statusCode !== 200; i++) {
        expect([ready.statusCode, ready.body]).to.deep.equal([503, 'first poll cycle not finished\n']);
        await new Promise((resolve) => setImmediate(resolve));
        ready = await got(`${url}/-/ready`);
      }
      expect([ready.statusCode, ready.body]).to.deep.equal([200, 'Ready\n']);
      expect(healthy.headers['www-authenticate']).to.equal(undefined);
      expect(healthy.headers['x-content-type-options']).to.equal('nosniff');
    });

    it('caches a successful check: the second scrape does not run bcrypt again; a wrong or unknown user always does', async () => {
      const compared: string[] = [];
      const web = new WebSecurity(loadWebConfig(webConfig('auth.yml', users)), {
        clock,
        logger: pino({ level: 'silent' }),
        verify: async (password, hash) => {
          compared.push(hash === HASH ? `prometheus:${password}` : `unknown-user-hash:${password}`);
          return bcrypt.compare(password, hash);
        },
      });
      const url = await start(join(dir, 'auth.yml'), { web });
      const scrape = async (user: string, password: string) =>
        (await got(`${url}/metrics`, { headers: { authorization: basic(user, password) } })).statusCode;
      expect(await scrape('prometheus', PASSWORD)).to.equal(200);
      expect(await scrape('prometheus', PASSWORD)).to.equal(200);
      expect(await scrape('prometheus', 'wrong')).to.equal(401);
      expect(await scrape('prometheus', 'wrong')).to.equal(401);
      expect(await scrape('root', 'toor')).to.equal(401);
      expect(compared).to.deep.equal([
        `prometheus:${PASSWORD}`,
        'prometheus:wrong',
        'prometheus:wrong',
        'unknown-user-hash:toor',
      ]);
    });

    it('works together with TLS and client certificates', async () => {
      const extra = `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(TLS, 'ca.pem')}\n`;
      const url = await start(webConfig('both.yml', tlsConfig(extra) + users));
      expect(await outcome(`${url}/metrics`, https(CLIENT))).to.equal(401);
      expect(
        await outcome(`${url}/metrics`, {
          ...https(CLIENT),
          headers: { authorization: basic('prometheus', PASSWORD) },
        }),
      ).to.equal(200);
    });
  });

  describe('reload (POST /-/reload)', () => {
    /** POST /-/reload with the basic-auth user (needed once the web config has it): status and body. */
    const reload = async (url: string, options: OptionsOfTextResponseBody = {}) => {
      const headers = { authorization: basic('prometheus', PASSWORD) };
      const response = await got.post(`${url}/-/reload`, { ...options, headers });
      return [response.statusCode, response.body];
    };

    it('puts a new file in force, keeps the old one when the new one is bad, and cannot turn TLS on', async () => {
      const file = webConfig('reload.yml', '');
      let configFile = file;
      const url = await start(file, { webConfigFile: () => configFile });
      expect((await got(`${url}/metrics`)).statusCode).to.equal(200);

      writeFileSync(file, `basic_auth_users:\n  prometheus: "${HASH}"\n`);
      expect(await reload(url)).to.deep.equal([200, 'configuration reloaded\n']);
      expect((await got(`${url}/metrics`)).statusCode).to.equal(401);

      writeFileSync(file, 'basic_auth_users: [prometheus]\n');
      expect(await reload(url)).to.deep.equal([
        500,
        `web.configFile ${file}: basic_auth_users: must be a mapping of user names to bcrypt hashes (got a list)\n`,
      ]);
      expect((await got(`${url}/metrics`)).statusCode).to.equal(401);

      writeFileSync(file, tlsConfig());
      expect(await reload(url)).to.deep.equal([
        500,
        `web.configFile ${file}: tls_server_config: turning TLS on needs a restart\n`,
      ]);
      configFile = '';
      expect(await reload(url)).to.deep.equal([200, 'configuration reloaded\n']);
      expect((await got(`${url}/metrics`)).statusCode).to.equal(200);
      expect(logs.filter((line) => line.msg === 'reload rejected; the running configuration is kept')).to.have.length(
        2,
      );
    });

    it('cannot turn TLS off', async () => {
      let configFile = webConfig('reload-tls-off.yml', tlsConfig());
      const url = await start(configFile, { webConfigFile: () => configFile });
      configFile = '';
      expect(await reload(url, https())).to.deep.equal([
        500,
        'web.configFile "": tls_server_config: turning TLS off needs a restart\n',
      ]);
      expect(await outcome(`${url}/metrics`, https())).to.equal(200);
    });

    it('replaces the TLS settings of new connections', async () => {
      const file = webConfig('reload-tls.yml', tlsConfig());
      const url = await start(file);
      expect(await outcome(`${url}/metrics`, https())).to.equal(200);
      writeFileSync(
        file,
        tlsConfig(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(TLS, 'ca.pem')}\n`),
      );
      expect(await reload(url, https(CLIENT))).to.deep.equal([200, 'configuration reloaded\n']);
      expect(await outcome(`${url}/metrics`, https())).to.equal('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      expect(await outcome(`${url}/metrics`, https(CLIENT))).to.equal(200);
    });
  });

  describe('limits', () => {
    /** A raw request, as got would not send a body with GET. */
    function send(url: string, headers: Record<string, string>, body: string[]): Promise<[number, string]> {
      return new Promise((resolve, reject) => {
        const request = httpRequest(`${url}/metrics`, { method: 'POST', headers }, (response) => {
          let text = '';
          response.on('data', (chunk) => (text += String(chunk)));
          response.on('end', () => resolve([response.statusCode ?? 0, text]));
        });
        request.on('error', reject);
        for (const chunk of body) request.write(chunk);
        request.end();
      });
    }

    it('413 for a body over 4 KiB, by Content-Length or counted in chunks', async () => {
      const url = await start('');
      const big = 'x'.repeat(4097);
      expect(await send(url, { 'content-length': String(big.length) }, [big])).to.deep.equal([
        413,
        'request body too large\n',
      ]);
      expect(await send(url, { 'transfer-encoding': 'chunked' }, [big.slice(0, 3000), big.slice(3000)])).to.deep.equal([
        413,
        'request body too large\n',
      ]);
      expect(await send(url, { 'content-length': '2' }, ['{}'])).to.deep.equal([404, 'not found\n']);
    });

    it('rate_limit: 429 once the burst is spent, until a token comes back; probes are not limited', async () => {
      const url = await start(webConfig('rate.yml', 'rate_limit: { interval: 1s, burst: 2 }\n'));
      const status = async (path: string) => (await got(`${url}${path}`)).statusCode;
      expect([await status('/metrics'), await status('/'), await status('/metrics')]).to.deep.equal([200, 200, 429]);
      expect(await status('/-/healthy')).to.equal(200);
      await clock.advance(1000);
      expect([await status('/metrics'), await status('/metrics')]).to.deep.equal([200, 429]);
    });

    it('plain HTTP has the security headers but no HSTS', async () => {
      const url = await start('');
      const { headers } = await got(`${url}/metrics`);
      expect([
        headers['content-security-policy'],
        headers['referrer-policy'],
        headers['x-content-type-options'],
        headers['x-frame-options'],
        headers['strict-transport-security'],
      ]).to.deep.equal([CSP, 'no-referrer', 'nosniff', 'DENY', undefined]);
    });
  });
});
