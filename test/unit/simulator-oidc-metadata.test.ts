import { expect } from 'chai';
import baseGot from 'got';
import { parseScenario, serviceAccountJwt, type FakeDis } from '../../src/simulator/fake-dis.js';
import { PROJECT, T0, simulatorPerTest } from '../helpers/simulator.js';

const STREAMS = [{ name: 's', partitions: [{}] }];
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

describe('simulator: the ID-token exchange and the metadata service', () => {
  const sim = simulatorPerTest();
  let dis: FakeDis | undefined;

  async function start(agency: Record<string, unknown>) {
    dis = await sim.start({
      projectId: PROJECT,
      epochMs: T0,
      iam: { identityProviders: ['idp'] },
      agency,
      streams: STREAMS,
    });
    return { clock: sim.clock, dis };
  }

  it('checks agency settings: renewal before the end of a key, a known session token mode', () => {
    const parse = (agency: unknown) => () => parseScenario({ projectId: PROJECT, agency, streams: STREAMS });
    expect(parse({})().agency).to.deep.equal({
      keyLifetimeMs: 3_600_000,
      renewBeforeMs: 600_000,
      sessionTokens: 'optional',
    });
    expect(parse({ keyLifetimeMs: 60_000, renewBeforeMs: 60_000, sessionTokens: 'always' })).to.throw(
      'scenario: agency.renewBeforeMs: must be less than keyLifetimeMs\n' +
        'scenario: agency.sessionTokens: must be one of required, optional, unsupported',
    );
  });

  it('serves session tokens and keys: 401 without a token where one is required, 400 for a bad TTL', async () => {
    const { clock } = await start({ sessionTokens: 'required', keyLifetimeMs: 600_000, renewBeforeMs: 120_000 });
    const base = dis!.metadataUrl!;
    expect((await got(`${base}/openstack/latest/securitykey`)).statusCode).to.equal(401);
    expect(
      (await got.put(`${base}/meta-data/latest/api/token`, { headers: { 'x-metadata-token-ttl-seconds': '0' } }))
        .statusCode,
    ).to.equal(400);
    const session = (
      await got.put(`${base}/meta-data/latest/api/token`, { headers: { 'x-metadata-token-ttl-seconds': '600' } })
    ).body;
    const key = async () =>
      JSON.parse(
        (await got(`${base}/openstack/latest/securitykey`, { headers: { 'x-metadata-token': session } })).body,
      ) as {
        credential: Record<string, string>;
      };
    const first = (await key()).credential;
    expect(first['expires_at']).to.equal('2023-11-14T22:23:20.000000Z');
    await clock.advance(479_999);
    expect((await key()).credential['access']).to.equal(first['access']);
    await clock.advance(1); // 8 minutes: the renewal window
    expect((await key()).credential['expires_at']).to.equal('2023-11-14T22:31:20.000000Z');
    await clock.advance(120_000); // 10 minutes: the session token has expired
    expect(
      (await got(`${base}/openstack/latest/securitykey`, { headers: { 'x-metadata-token': session } })).statusCode,
    ).to.equal(401);
    expect(dis!.control.requests().map((r) => `${r.operation} ${r.status}`)).to.deep.equal([
      'metadata_securitykey 401',
      'metadata_token 400',
      'metadata_token 200',
      'metadata_securitykey 200',
      'metadata_securitykey 200',
      'metadata_securitykey 200',
      'metadata_securitykey 401',
    ]);
  });

  it('answers 404 to the session token request where the service has none', async () => {
    await start({ sessionTokens: 'unsupported' });
    const answer = await got.put(`${dis!.metadataUrl!}/meta-data/latest/api/token`, {
      headers: { 'x-metadata-token-ttl-seconds': '60' },
    });
    expect(answer.statusCode).to.equal(404);
  });

  it('trades an ID token for a project token, refusing another project (403) or a revoked JWT (401)', async () => {
    await start({});
    const jwt = serviceAccountJwt({
      subject: 'system:serviceaccount:m:d',
      audience: 'a',
      issuedAtMs: T0,
      expiresAtMs: T0 + 3_600_000,
    });
    const exchange = (project: string) =>
      got.post(`${dis!.url}/v3.0/OS-AUTH/id-token/tokens`, {
        headers: { 'x-idp-id': 'idp', 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { id_token: { id: jwt }, scope: { project: { id: project } } } }),
      });
    const granted = await exchange(PROJECT);
    expect([granted.statusCode, typeof granted.headers['x-subject-token']]).to.deep.equal([201, 'string']);
    expect((await exchange('another')).statusCode).to.equal(403);
    dis!.control.revokeIdToken(jwt);
    const refused = await exchange(PROJECT);
    expect([refused.statusCode, JSON.parse(refused.body)]).to.deep.equal([
      401,
      { error_msg: 'The id_token has been revoked.', error_code: 'IAM.0402' },
    ]);
    expect(dis!.control.presentedIdTokens()).to.deep.equal([jwt, jwt, jwt]);
  });
});
