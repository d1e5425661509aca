import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadWebConfig } from '../../src/web/load-web-config.js';
import { parseWebConfig } from '../../src/web/parse-web-config.js';
import { securityHeaders } from '../../src/web/security-headers.js';
import { configErrorOf } from '../helpers/errors.js';

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const CERT = join(TLS, 'server.pem');
const KEY = join(TLS, 'server-key.pem');
const CA = join(TLS, 'ca.pem');
// A real bcrypt hash (of "secret", cost 4).
const HASH = '$2b$04$NYyNnJV7u4hUYgJyXx8jb.CvA16Gq6IrZGEOFs4dYSHbJGSFWgpMG';

describe('web config file', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-web-'));
    file = join(dir, 'web.yml');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const load = (text: string) => {
    writeFileSync(file, text);
    return loadWebConfig(file);
  };
  const problems = (text: string) => {
    writeFileSync(file, text);
    return configErrorOf(() => loadWebConfig(file)).problems;
  };

  describe('loads', () => {
    it('an empty file: plain HTTP, no users', () => {
      expect(load('')).to.deep.equal({ file, config: { headers: {}, basicAuthUsers: new Map() } });
    });

    it('every toolkit setting, with Node names for versions, ciphers and curves', () => {
      const loaded = load(`
tls_server_config:
  cert_file: ${CERT}
  key_file: ${KEY}
  client_ca_file: ${CA}
  client_auth_type: RequireAndVerifyClientCert
  client_allowed_sans: [prometheus.monitoring.svc]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: sameorigin
    Strict-Transport-Security: ""
basic_auth_users:
  alice: "${HASH}"
rate_limit: { interval: 100ms, burst: 5 }
`);
      expect(loaded.config).to.deep.equal({
        tls: {
          cert: { file: CERT },
          key: { file: KEY },
          clientCa: { file: CA },
          clientAuthType: 'RequireAndVerifyClientCert',
          clientAllowedSans: ['prometheus.monitoring.svc'],
          minVersion: 'TLSv1.3',
          maxVersion: 'TLSv1.3',
          ciphers:
            'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
          honorCipherOrder: false,
          ecdhCurve: 'X25519:P-256',
        },
        headers: { 'X-Frame-Options': 'sameorigin', 'Strict-Transport-Security': '' },
        basicAuthUsers: new Map([['alice', HASH]]),
        rateLimit: { intervalMs: 100, burst: 5 },
      });
      expect(loaded.material?.fingerprint).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(loaded.material?.options.cert).to.equal(readFileSync(CERT, 'utf8'));
    });

    it('relative file names from the web config file’s folder, inline PEM, and the toolkit defaults', () => {
      writeFileSync(join(dir, 'cert.pem'), readFileSync(CERT));
      const loaded = load(
        `tls_server_config: { cert_file: cert.pem, key: ${JSON.stringify(readFileSync(KEY, 'utf8'))} }\n`,
      );
      expect(loaded.config.tls).to.deep.equal({
        cert: { file: join(dir, 'cert.pem') },
        key: { inline: readFileSync(KEY, 'utf8') },
        clientAuthType: 'NoClientCert',
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.3',
        honorCipherOrder: true,
      });
    });

    it('the old name RequireClientCert as RequireAnyClientCert', () => {
      const text = `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_auth_type: RequireClientCert }\n`;
      expect(load(text).config.tls?.clientAuthType).to.equal('RequireAnyClientCert');
    });
  });

  describe('rejects, one line per problem naming the file and the key', () => {
    const cases: ReadonlyArray<[string, string, (file: string) => string[]]> = [
      ['a list', '- a\n', (f) => [`web.configFile ${f}: must contain a mapping of settings (got a list)`]],
      [
        'YAML it cannot parse',
        'a: [\n',
        (f) => [
          `web.configFile ${f}:2:1: invalid YAML: flow sequence in block collection must be sufficiently indented and end with a ]`,
        ],
      ],
      [
        'unknown keys at every level',
        'tls_config: {}\nhttp_server_config: { http3: true }\nrate_limit: { every: 1s }\n',
        (f) => [
          `web.configFile ${f}: tls_config: unknown key`,
          `web.configFile ${f}: http_server_config.http3: unknown key`,
          `web.configFile ${f}: rate_limit.every: unknown key`,
        ],
      ],
      [
        'a certificate file that cannot be read',
        `tls_server_config: { cert_file: /nope.pem, key_file: ${KEY} }\n`,
        (f) => [`web.configFile ${f}: tls_server_config.cert_file: cannot read "/nope.pem": ENOENT`],
      ],
      [
        'a key file that cannot be read',
        `tls_server_config: { cert_file: ${CERT}, key_file: /nope-key.pem }\n`,
        (f) => [`web.configFile ${f}: tls_server_config.key_file: cannot read "/nope-key.pem": ENOENT`],
      ],
      [
        'a certificate file with no certificate',
        `tls_server_config: { cert_file: ${KEY}, key_file: ${KEY} }\n`,
        (f) => [`web.configFile ${f}: tls_server_config.cert_file: "${KEY}" holds no PEM certificate`],
      ],
      [
        'a key file with no key',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${CERT} }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.key_file: "${CERT}" holds no PEM private key (or it is encrypted)`,
        ],
      ],
      [
        'the key of another certificate',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${join(TLS, 'server2-key.pem')} }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.key_file: "${join(TLS, 'server2-key.pem')}" is not the key of the certificate in cert_file`,
        ],
      ],
      [
        'a client CA file with no certificate',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_ca_file: ${KEY}, client_auth_type: RequireAndVerifyClientCert }\n`,
        (f) => [`web.configFile ${f}: tls_server_config.client_ca_file: "${KEY}" holds no PEM certificate`],
      ],
      [
        'a TLS section without certificate and key',
        'tls_server_config: { min_version: TLS13 }\n',
        (f) => [
          `web.configFile ${f}: tls_server_config.cert_file: is required`,
          `web.configFile ${f}: tls_server_config.key_file: is required`,
        ],
      ],
      [
        'cert and cert_file both',
        `tls_server_config: { cert: x, cert_file: ${CERT}, key_file: ${KEY} }\n`,
        (f) => [`web.configFile ${f}: tls_server_config: set cert or cert_file, not both`],
      ],
      [
        'settings of the wrong kind, without echoing them',
        `tls_server_config: { cert_file: [a], key: 12345, prefer_server_cipher_suites: maybe }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.cert_file: must be a string (got a list)`,
          `web.configFile ${f}: tls_server_config.key: must be a string (got a number)`,
          `web.configFile ${f}: tls_server_config.prefer_server_cipher_suites: must be true or false (got "maybe")`,
        ],
      ],
      [
        'an unknown client_auth_type',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_auth_type: Always }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.client_auth_type: must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert (got "Always")`,
        ],
      ],
      [
        'a client CA without a client auth type',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_ca_file: ${CA} }\n`,
        (f) => [`web.configFile ${f}: tls_server_config.client_ca_file: is set but client_auth_type is NoClientCert`],
      ],
      [
        'verifying client certificates without a client CA',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_auth_type: RequireAndVerifyClientCert }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.client_ca_file: is required with client_auth_type RequireAndVerifyClientCert (the CA that signs the client certificates)`,
        ],
      ],
      [
        'client_allowed_sans when a client may send no certificate',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, client_auth_type: RequestClientCert, client_allowed_sans: [a] }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (got RequestClientCert)`,
        ],
      ],
      [
        'unknown TLS versions, ciphers and curves, and versions the wrong way round',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, min_version: TLS13, max_version: TLS12, cipher_suites: [TLS_RSA_WITH_RC4_128_SHA], curve_preferences: [CurveP224] }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.min_version: TLS13 is above max_version TLS12`,
          `web.configFile ${f}: tls_server_config.cipher_suites: unknown cipher suite "TLS_RSA_WITH_RC4_128_SHA"`,
          `web.configFile ${f}: tls_server_config.curve_preferences: unknown curve "CurveP224" (known: CurveP256, CurveP384, CurveP521, X25519)`,
        ],
      ],
      [
        'a TLS version by another name',
        `tls_server_config: { cert_file: ${CERT}, key_file: ${KEY}, min_version: TLSv1.2 }\n`,
        (f) => [
          `web.configFile ${f}: tls_server_config.min_version: must be one of TLS10, TLS11, TLS12, TLS13 (got "TLSv1.2")`,
        ],
      ],
      [
        'HTTP/2, which is not served',
        'http_server_config: { http2: true }\n',
        (f) => [
          `web.configFile ${f}: http_server_config.http2: HTTP/2 is not supported; dis-exporter serves HTTP/1.1 (set false)`,
        ],
      ],
      [
        'headers the toolkit does not let a config set, or values it does not take',
        'http_server_config:\n  headers: { Server: x, X-Frame-Options: DENY, X-Content-Type-Options: none, Content-Security-Policy: 3 }\n',
        (f) => [
          `web.configFile ${f}: http_server_config.headers.Server: this header cannot be set (only Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection)`,
          `web.configFile ${f}: http_server_config.headers.X-Frame-Options: must be one of deny, sameorigin (got "DENY")`,
          `web.configFile ${f}: http_server_config.headers.X-Content-Type-Options: must be one of nosniff (got "none")`,
          `web.configFile ${f}: http_server_config.headers.Content-Security-Policy: must be a string (got 3)`,
        ],
      ],
      [
        'users whose hash is not bcrypt, never showing the hash',
        'basic_auth_users:\n  alice: plain-password\n  bob: "$1$abc$0123456789"\n  carol: "$2y$03$yI2WQ9VlbnVSpUa1FhuSQePaJ4y5k4XvM7tnUkHn/MhUsEsctdcwC"\n  "a:b": x\n',
        (f) => [
          `web.configFile ${f}: basic_auth_users.alice: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)`,
          `web.configFile ${f}: basic_auth_users.bob: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)`,
          `web.configFile ${f}: basic_auth_users.carol: bcrypt cost must be from 4 to 31 (got 3)`,
          `web.configFile ${f}: basic_auth_users: a user name must not contain ":" or "$" (not shown, as it may be a secret)`,
        ],
      ],
      [
        'basic_auth_users that is not a mapping',
        'basic_auth_users: [alice]\n',
        (f) => [`web.configFile ${f}: basic_auth_users: must be a mapping of user names to bcrypt hashes (got a list)`],
      ],
      [
        'a rate limit without a usable interval or burst',
        'rate_limit: { interval: 1.5s, burst: 2 }\n',
        (f) => [`web.configFile ${f}: rate_limit.interval: must be a duration like 100ms or 1s (got "1.5s")`],
      ],
      [
        'a rate limit interval without a unit, as a number',
        'rate_limit: { interval: 100, burst: 2 }\n',
        (f) => [`web.configFile ${f}: rate_limit.interval: 100 has no unit: write 100s or 100ms`],
      ],
      [
        'a rate limit interval without a unit, as text',
        'rate_limit: { interval: "250", burst: 2 }\n',
        (f) => [`web.configFile ${f}: rate_limit.interval: 250 has no unit: write 250s or 250ms`],
      ],
      [
        'a rate limit without a burst',
        'rate_limit: { interval: 1s }\n',
        (f) => [`web.configFile ${f}: rate_limit.burst: must be a whole number of at least 1 (got null)`],
      ],
    ];
    for (const [name, text, expected] of cases) {
      it(name, () => expect(problems(text)).to.deep.equal(expected(file)));
    }

    it('a web config file that cannot be read', () => {
      expect(configErrorOf(() => loadWebConfig(join(dir, 'missing.yml'))).problems).to.deep.equal([
        `web.configFile ${join(dir, 'missing.yml')}: cannot read: ENOENT`,
      ]);
    });
  });

  it('a rate limit with interval 0 is off', () => {
    expect(parseWebConfig({ rate_limit: { interval: 0, burst: 0 } }, '/')).to.deep.equal({
      config: { headers: {}, basicAuthUsers: new Map() },
    });
  });
});

describe('security headers', () => {
  const CSP =
    "default-src 'none'; style-src 'sha256-8MHILhqBdTyuL4rihWz/LvLTBkJcO5ZDiX+xMsUa3Xs='; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'";

  it('over HTTP: CSP, no-referrer, nosniff, DENY and no HSTS', () => {
    expect(securityHeaders({}, false)).to.deep.equal({
      'Content-Security-Policy': CSP,
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    });
  });

  it('over HTTPS with HSTS; the web config replaces a header or drops it with ""', () => {
    expect(securityHeaders({ 'X-Frame-Options': 'sameorigin', 'Content-Security-Policy': '' }, true)).to.deep.equal({
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'sameorigin',
      'Strict-Transport-Security': 'max-age=31536000',
    });
  });
});
