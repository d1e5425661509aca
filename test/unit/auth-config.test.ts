import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { renewedMethodOf, resolveCredentials, resolveCredentialsAsync } from '../../src/config/credentials.js';
import { describeConfig } from '../../src/config/describe.js';
import { loadConfig } from '../../src/config/load.js';
import type { AuthConfig } from '../../src/config/types.js';
import { renewalSchedule } from '../../src/dis/renewing-credential.js';
import { configErrorOf } from '../helpers/errors.js';
import { NO_AUTH, NO_OIDC, PROJECT_ID } from '../helpers/exporter.js';

const NONE: AuthConfig = NO_AUTH;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bW9uOmRpcyJ9.c2ln';
const IAM = {
  endpoint: 'https://iam.example.com',
  domain: 'acme',
  username: 'u',
  password: 'PASSWORD-1',
  passwordFile: '',
};

describe('resolveCredentials: one way to authenticate', () => {
  let dir: string;
  let tokenFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-auth-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${JWT}\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const oidc = (): AuthConfig['oidc'] => ({
    endpoint: 'https://iam.example.com',
    idpId: 'cce-idp',
    idTokenFile: tokenFile,
  });

  it('resolves workload identity to the token file, whose JWT it checks but does not keep', async () => {
    const expected = { kind: 'oidc', endpoint: 'https://iam.example.com', idpId: 'cce-idp', idTokenFile: tokenFile };
    expect(resolveCredentials({ ...NONE, oidc: oidc() })).to.deep.equal(expected);
    expect(await resolveCredentialsAsync({ ...NONE, oidc: oidc() })).to.deep.equal(expected);
    expect(JSON.stringify(resolveCredentials({ ...NONE, oidc: oidc() }))).not.to.include(JWT);
  });

  it('names each missing auth.oidc key and an unreadable or empty token file', async () => {
    const problems = (auth: AuthConfig) => configErrorOf(() => resolveCredentials(auth)).problems;
    expect(problems({ ...NONE, oidc: { ...NO_OIDC, idpId: 'cce-idp' } })).to.deep.equal([
      'auth.oidc.endpoint: is required for workload identity (OIDC)',
      'auth.oidc.idTokenFile: is required for workload identity (OIDC)',
    ]);
    const missing = join(dir, 'missing');
    expect(problems({ ...NONE, oidc: { ...oidc(), idTokenFile: missing } })).to.deep.equal([
      `auth.oidc.idTokenFile: cannot read "${missing}": ENOENT`,
    ]);
    writeFileSync(tokenFile, ' \n');
    expect(problems({ ...NONE, oidc: oidc() })).to.deep.equal([
      `auth.oidc.idTokenFile: cannot read "${tokenFile}": file is empty`,
    ]);
    writeFileSync(tokenFile, 'x'.repeat(16 * 1024 + 1));
    const error = await resolveCredentialsAsync({ ...NONE, oidc: oidc() }).catch((caught: unknown) => caught);
    expect(
      configErrorOf(() => {
        throw error;
      }).problems,
    ).to.deep.equal([`auth.oidc.idTokenFile: cannot read "${tokenFile}": file is larger than 16384 bytes`]);
  });

  it('resolves the metadata service when auth.metadata.enabled is true', () => {
    const metadata = { enabled: true, endpoint: 'http://169.254.169.254' };
    expect(resolveCredentials({ ...NONE, metadata })).to.deep.equal({
      kind: 'metadata',
      endpoint: 'http://169.254.169.254',
    });
    // The endpoint alone (its default) turns nothing on: AK/SK, whose keys are then missing.
    expect(configErrorOf(() => resolveCredentials(NONE)).problems).to.deep.equal([
      'auth.accessKey: is required (or auth.accessKeyFile)',
      'auth.secretKey: is required (or auth.secretKeyFile)',
    ]);
  });

  it('reads a static security token from auth.securityTokenFile, which wins over securityToken', () => {
    writeFileSync(join(dir, 'sts'), '  STS-FROM-FILE\n');
    const keys = { ...NONE, accessKey: 'AK', secretKey: 'SK', securityToken: 'STS-INLINE' };
    expect(resolveCredentials({ ...keys, securityTokenFile: join(dir, 'sts') })).to.deep.equal({
      kind: 'aksk',
      accessKey: 'AK',
      secretKey: 'SK',
      securityToken: 'STS-FROM-FILE',
    });
    writeFileSync(join(dir, 'sts'), 'STS-ROTATED');
    expect(resolveCredentials({ ...keys, securityTokenFile: join(dir, 'sts') })).to.deep.include({
      securityToken: 'STS-ROTATED',
    });
    expect(
      configErrorOf(() => resolveCredentials({ ...keys, securityTokenFile: join(dir, 'gone') })).problems,
    ).to.deep.equal([`auth.securityTokenFile: cannot read "${join(dir, 'gone')}": ENOENT`]);
  });

  it('refuses two or more ways at once, naming each and the settings that turned it on, and reads no file', () => {
    const metadata = { enabled: true, endpoint: 'http://169.254.169.254' };
    const problems = (auth: AuthConfig) => configErrorOf(() => resolveCredentials(auth)).problems;
    expect(problems({ ...NONE, oidc: oidc(), metadata })).to.deep.equal([
      'auth: set one way to authenticate, not 2: workload identity (auth.oidc) and agency keys from the metadata ' +
        'service (auth.metadata.enabled)',
    ]);
    expect(problems({ ...NONE, iam: IAM, oidc: { ...oidc(), idTokenFile: join(dir, 'missing') } })).to.deep.equal([
      'auth: set one way to authenticate, not 2: an IAM user (auth.iam) and workload identity (auth.oidc)',
    ]);
    expect(problems({ ...NONE, securityTokenFile: '/x', iam: IAM, oidc: oidc(), metadata })).to.deep.equal([
      'auth: set one way to authenticate, not 4: an AK/SK (auth.securityTokenFile), an IAM user (auth.iam), ' +
        'workload identity (auth.oidc) and agency keys from the metadata service (auth.metadata.enabled)',
    ]);
  });

  it('says which methods are renewed while running, and so have an expiry', () => {
    expect(renewedMethodOf({ kind: 'aksk', accessKey: 'AK', secretKey: 'SK', securityToken: 'T' })).to.equal(undefined);
    expect(renewedMethodOf({ kind: 'metadata', endpoint: 'http://x' })).to.equal('metadata');
    expect(renewedMethodOf({ kind: 'oidc', endpoint: 'http://x', idpId: 'i', idTokenFile: 'f' })).to.equal('oidc');
  });
});

describe('loadConfig: authentication and proxy keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-auth-load-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const base = { HUAWEICLOUD_SDK_PROJECT_ID: PROJECT_ID, DIS_TARGETS: 'orders/orders-to-obs' };

  it('takes workload identity from the SDK environment variables', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, JWT);
    const config = loadConfig({
      env: {
        ...base,
        DIS_OIDC_IAM_ENDPOINT: 'https://iam.cn-north-4.myhuaweicloud.com/',
        HUAWEICLOUD_SDK_IDP_ID: 'cce-idp',
        HUAWEICLOUD_SDK_ID_TOKEN_FILE: tokenFile,
      },
    });
    expect(config.auth.oidc).to.deep.equal({
      endpoint: 'https://iam.cn-north-4.myhuaweicloud.com',
      idpId: 'cce-idp',
      idTokenFile: tokenFile,
    });
  });

  it('refuses two ways to authenticate from file and environment together, naming both', () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, `auth: { metadata: { enabled: true } }\n`);
    expect(
      configErrorOf(() => loadConfig({ file, env: { ...base, HUAWEICLOUD_SDK_AK: 'AK-1' } })).problems,
    ).to.deep.equal([
      'auth: set one way to authenticate, not 2: an AK/SK (auth.accessKey) and agency keys from the metadata ' +
        'service (auth.metadata.enabled)',
    ]);
  });

  it('checks dis.proxy and the proxy environment without ever quoting a password', () => {
    const keys = { ...base, HUAWEICLOUD_SDK_AK: 'AK-1', HUAWEICLOUD_SDK_SK: 'SK-1' };
    const problems = (env: Record<string, string>) =>
      configErrorOf(() => loadConfig({ env: { ...keys, ...env } })).problems;
    expect(problems({ DIS_PROXY: 'socks5://user:pa55word@proxy:1080' })).to.deep.equal([
      'dis.proxy: must use http:// or https:// (got "socks5") (set by DIS_PROXY)',
    ]);
    expect(problems({ DIS_PROXY: 'http://user:pa55word@proxy:3128/path' })).to.deep.equal([
      'dis.proxy: must be only a scheme, an optional user:password@, a host and a port, like ' +
        'http://proxy.example.com:3128 (set by DIS_PROXY)',
    ]);
    expect(problems({ https_proxy: 'http://user:pa55word@[' })).to.deep.equal([
      'HTTPS_PROXY: must be an http:// or https:// URL like http://proxy.example.com:3128 (from the environment; ' +
        'or set dis.proxy)',
    ]);
    // dis.proxy wins, so a bad variable it replaces does not matter.
    const config = loadConfig({
      env: { ...keys, DIS_PROXY: 'http://user:pa55word@proxy:3128', HTTPS_PROXY: 'ftp://x', NO_PROXY: '.svc' },
    });
    expect(config.proxy).to.deep.equal({
      httpsProxy: 'http://user:pa55word@proxy:3128/',
      httpProxy: 'http://user:pa55word@proxy:3128/',
      noProxy: '.svc',
    });
    const text = describeConfig(config);
    expect(text).to.include('  proxy: http://user:[REDACTED]@proxy:3128/\n');
    expect(text).not.to.include('pa55word');
  });
});

describe('renewalSchedule', () => {
  const timings = { failureBackoffMs: 60_000, refreshAheadMs: 3_600_000 };
  const HOUR = 3_600_000;

  it('refreshes an IAM token an hour ahead and stops using it 5 minutes before it expires', () => {
    expect(
      renewalSchedule({ startedMs: 0, expiresAtMs: 24 * HOUR, previousExpiresAtMs: undefined }, timings, 300_000),
    ).to.deep.equal({ refreshAtMs: 23 * HOUR, staleAtMs: 24 * HOUR - 300_000 });
  });

  it('keeps within half and a tenth of a short lifetime', () => {
    expect(
      renewalSchedule({ startedMs: 0, expiresAtMs: 600_000, previousExpiresAtMs: undefined }, timings, 300_000),
    ).to.deep.equal({ refreshAtMs: 300_000, staleAtMs: 540_000 });
  });

  it('waits the back-off before asking again when the source handed out the same credential', () => {
    const metadata = { failureBackoffMs: 60_000, refreshAheadMs: 600_000 };
    const fetched = { startedMs: 3_000_000, expiresAtMs: HOUR, previousExpiresAtMs: HOUR };
    expect(renewalSchedule(fetched, metadata, 60_000)).to.deep.equal({
      refreshAtMs: 3_060_000,
      staleAtMs: HOUR - 60_000,
    });
    // Never later than when it goes stale.
    expect(renewalSchedule({ ...fetched, startedMs: 3_560_000 }, metadata, 60_000)).to.deep.equal({
      refreshAtMs: 3_596_000,
      staleAtMs: 3_596_000,
    });
  });
});
