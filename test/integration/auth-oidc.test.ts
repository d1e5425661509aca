import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { serviceAccountJwt } from '../../src/simulator/fake-dis.js';
import { startAuthHarness, type AuthHarness } from '../helpers/auth-harness.js';
import { PROJECT_ID, scrape, seriesOf } from '../helpers/exporter.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const IDP = 'cce-cluster-idp';
const SUBJECT = 'system:serviceaccount:monitoring:dis-exporter';
const EXPIRY = 'dis_exporter_credentials_expiry_timestamp_seconds';
const FAILURES = 'dis_exporter_credentials_refresh_failures_total';
const LABELS = `project_id="${PROJECT_ID}",method="oidc"`;

/** A projected token as the kubelet writes it: valid for a day from `issuedAtMs`, numbered to tell them apart. */
function jwt(issuedAtMs: number, audience = 'dis-exporter'): string {
  return serviceAccountJwt({ subject: SUBJECT, audience, issuedAtMs, expiresAtMs: issuedAtMs + 24 * HOUR });
}

describe('CCE workload identity: the service-account JWT traded for an IAM token (real HTTP)', () => {
  let dir: string;
  let tokenFile: string;
  let h: AuthHarness | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-oidc-'));
    tokenFile = join(dir, 'token');
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The exporter with workload identity; IAM tokens live 2 h, the IdP is `idpId`. */
  function start(idpId = IDP): Promise<AuthHarness> {
    return startAuthHarness(T0, { iam: { identityProviders: [IDP], tokenLifetimeMs: 2 * HOUR } }, (dis) => ({
      kind: 'oidc',
      endpoint: dis.url,
      idpId,
      idTokenFile: tokenFile,
    }));
  }

  const requests = (text: string) => seriesOf(text, 'dis_exporter_api_requests_total').sort();

  it('exchanges the JWT once, then polls with the token, and exposes its expiry', async () => {
    writeFileSync(tokenFile, `${jwt(T0)}\n`);
    h = await start();
    await h.nextCycle();
    expect(h.dis.control.presentedIdTokens()).to.deep.equal([jwt(T0)]);
    const text = await scrape(h.server);
    expect(requests(text)).to.deep.equal([
      'dis_exporter_api_requests_total{operation="oidc_token",code="201"} 1',
      'dis_exporter_api_requests_total{operation="show_stream",code="200"} 4',
      'dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 4',
    ]);
    expect(seriesOf(text, EXPIRY, FAILURES)).to.deep.equal([
      `${EXPIRY}{${LABELS}} ${(T0 + 2 * HOUR) / 1000}`,
      `${FAILURES}{${LABELS}} 0`,
    ]);
  });

  it('reads the rotated JWT for the next exchange: a refresh ahead of expiry presents the new one', async () => {
    writeFileSync(tokenFile, jwt(T0));
    h = await start();
    // The kubelet rotates the file; the token in hand is still used until the refresh is due (1 h before expiry).
    const rotated = jwt(T0 + 30 * 60_000);
    writeFileSync(tokenFile, rotated);
    for (let minute = 1; minute < 60; minute++) await h.nextCycle();
    expect(h.dis.control.presentedIdTokens()).to.deep.equal([jwt(T0)]);
    await h.nextCycle(); // 1 h: due
    for (let i = 0; i < 100 && h.dis.control.presentedIdTokens().length < 2; i++) await h.nextCycle();
    expect(h.dis.control.presentedIdTokens()).to.deep.equal([jwt(T0), rotated]);
    const text = await scrape(h.server);
    expect(seriesOf(text, EXPIRY)).to.deep.equal([`${EXPIRY}{${LABELS}} ${(T0 + 3 * HOUR) / 1000}`]);
    expect(requests(text).filter((line) => line.includes('code="401"'))).to.deep.equal([]);
  });

  it('on a 401 from DIS exchanges the current file again and retries, so no target fails', async () => {
    writeFileSync(tokenFile, jwt(T0));
    h = await start();
    const rotated = jwt(T0 + 60_000);
    writeFileSync(tokenFile, rotated);
    h.dis.control.revokeIamTokens();
    await h.nextCycle();
    expect(h.dis.control.presentedIdTokens()).to.deep.equal([jwt(T0), rotated]);
    const text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
    expect(requests(text)).to.include('dis_exporter_api_requests_total{operation="oidc_token",code="201"} 2');
  });

  it('fails with reason auth on a refused JWT, counts every refused exchange, logs once, and recovers', async () => {
    writeFileSync(tokenFile, jwt(T0 - 25 * HOUR)); // expired an hour ago
    h = await start();
    await h.nextCycle();
    await h.nextCycle();
    let text = await scrape(h.server);
    expect(seriesOf(text, FAILURES)).to.deep.equal([`${FAILURES}{${LABELS}} 3`]);
    expect(seriesOf(text, EXPIRY)).to.deep.equal([]);
    expect(text).to.include(
      `dis_exporter_target_errors_total{project_id="${PROJECT_ID}",stream="orders",task="orders-to-obs",reason="auth"} 3`,
    );
    const errors = h.logs.filter((line) => line['level'] === 'error');
    expect(
      errors.map(({ component, method, reason, error, msg }) => ({ component, method, reason, error, msg })),
    ).to.deep.equal([
      {
        component: 'iam',
        method: 'oidc',
        reason: 'auth',
        error:
          `no IAM token for the OIDC ID token: POST ${h.dis.url}/v3.0/OS-AUTH/id-token/tokens: HTTP 401 IAM.0402 ` +
          '(The id_token has expired.) [request id 00000000000000000000000000000001]; IAM rejected the ' +
          `service-account token for identity provider "${IDP}": check auth.oidc.idpId, the provider's signing ` +
          "key (the cluster's JWKS) and that the token's audience is the provider's client ID",
        msg: 'cannot get an IAM token',
      },
    ]);
    writeFileSync(tokenFile, jwt(T0 + 2 * 60_000));
    await h.nextCycle();
    text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
    expect(seriesOf(text, EXPIRY)).to.deep.equal([`${EXPIRY}{${LABELS}} ${(T0 + 3 * 60_000 + 2 * HOUR) / 1000}`]);
    expect(h.logs.filter((line) => line['msg'] === 'IAM token obtained again')).to.have.length(1);
  });

  it('names a missing token file in the error, and an unknown identity provider', async () => {
    h = await start();
    let text = await scrape(h.server);
    const page = await h.everythingShown();
    expect(page).to.include(
      `no IAM token for the OIDC ID token: cannot read auth.oidc.idTokenFile \\"${tokenFile}\\": ENOENT; check ` +
        'auth.oidc.idTokenFile and the projected service-account token volume that provides it',
    );
    expect(requests(text)).to.deep.equal([]);
    await h.close();
    writeFileSync(tokenFile, jwt(T0));
    h = await start('another-idp');
    text = await scrape(h.server);
    expect(requests(text)).to.deep.equal(['dis_exporter_api_requests_total{operation="oidc_token",code="401"} 1']);
  });

  it('never shows the JWT or the IAM token in logs (trace level), /metrics or the landing page', async () => {
    const token = jwt(T0);
    writeFileSync(tokenFile, token);
    h = await start();
    h.dis.control.revokeIamTokens();
    await h.nextCycle();
    const shown = await h.everythingShown();
    const [claims] = token.split('.').slice(1);
    for (const secret of [token, claims!, ...h.dis.control.issuedIamTokens()]) expect(shown).not.to.include(secret);
  });
});
