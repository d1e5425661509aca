import { expect } from 'chai';
import baseGot from 'got';
import { signRequest } from '../../src/dis/signer.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { ManualClock } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);
const PROJECT = 'aaaabbbbccccddddeeeeffff00001111';
const CREDS = { accessKey: 'TESTACCESSKEY', secretKey: 'test-secret-key' };
const TASK_PATH = `/v2/${PROJECT}/streams/s1/transfer-tasks/to-obs`;
const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

function tokenRequest(user: { domain: string; name: string; password: string }, projectId = PROJECT): string {
  return JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user.name, password: user.password, domain: { name: user.domain } } },
      },
      scope: { project: { id: projectId } },
    },
  });
}

const USER = { domain: 'acme', name: 'dis-monitor', password: 'Monitor-Password-1' };

describe('simulator IAM endpoint (POST /v3/auth/tokens on the fake DIS)', () => {
  let clock: ManualClock;
  let dis: FakeDis;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    dis = await startFakeDis({
      clock,
      scenario: parseScenario({
        projectId: PROJECT,
        credentials: [CREDS],
        epochMs: T0,
        iam: { users: [USER, { domain: 'acme', name: 'other', password: 'Other-Password-2' }] },
        streams: [
          {
            name: 's1',
            partitions: [{ initialRecords: 10 }],
            tasks: [{ name: 'to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } }],
          },
        ],
      }),
    });
  });
  afterEach(() => dis.close());

  const issue = (body: string) =>
    got.post(`${dis.url}/v3/auth/tokens?nocatalog=true`, {
      body,
      headers: { 'content-type': 'application/json;charset=utf8' },
    });
  const withToken = (token: string) => got(`${dis.url}${TASK_PATH}`, { headers: { 'x-auth-token': token } });

  it('answers 201 with the token in X-Subject-Token and the documented body', async () => {
    const response = await issue(tokenRequest(USER));
    expect(response.statusCode).to.equal(201);
    const token = response.headers['x-subject-token'];
    expect(token)
      .to.be.a('string')
      .and.match(/^MIIsim[\w-]{43}$/);
    expect(dis.control.issuedIamTokens()).to.deep.equal([token]);
    const domain = { id: '6b556de81dfcb40c4676343edf01af83', name: 'acme' };
    expect(JSON.parse(response.body)).to.deep.equal({
      token: {
        expires_at: '2024-01-02T00:00:00.000000Z',
        issued_at: '2024-01-01T00:00:00.000000Z',
        methods: ['password'],
        user: { domain, id: '9ca511739f196e7043c1f6081b8e3c88', name: 'dis-monitor', password_expires_at: '' },
        project: { domain, id: PROJECT, name: 'cn-north-4' },
        roles: [{ id: '08054f6cb5b12c9ef42dcd092b8265a3', name: 'dis_adm' }],
      },
    });
    expect(dis.control.requests().map((r) => [r.method, r.path, r.query, r.operation, r.status])).to.deep.equal([
      ['POST', '/v3/auth/tokens', 'nocatalog=true', 'iam_token', 201],
    ]);
  });

  const refused: ReadonlyArray<[string, string, number, unknown]> = [
    [
      'a wrong password',
      tokenRequest({ ...USER, password: 'wrong' }),
      401,
      { error_msg: 'The username or password is wrong.', error_code: 'IAM.0005' },
    ],
    [
      'an unknown user',
      tokenRequest({ ...USER, name: 'nobody' }),
      401,
      { error_msg: 'The username or password is wrong.', error_code: 'IAM.0005' },
    ],
    [
      'a user of another domain',
      tokenRequest({ ...USER, domain: 'other-account' }),
      401,
      { error_msg: 'The username or password is wrong.', error_code: 'IAM.0005' },
    ],
    [
      'another project',
      tokenRequest(USER, 'ffffffffffffffffffffffffffffffff'),
      403,
      { error_msg: 'No permission to access project ffffffffffffffffffffffffffffffff.', error_code: 'IAM.0006' },
    ],
    ['a body that is not JSON', '{"auth":', 400, { error_msg: 'Request body is invalid.', error_code: 'IAM.0011' }],
    [
      'a body without the password method',
      JSON.stringify({ auth: { identity: { methods: ['token'] }, scope: { project: { id: PROJECT } } } }),
      400,
      { error_msg: 'Request body is invalid.', error_code: 'IAM.0011' },
    ],
    [
      'a body without a project scope',
      JSON.stringify({ auth: { identity: JSON.parse(tokenRequest(USER)).auth.identity } }),
      400,
      { error_msg: 'Request body is invalid.', error_code: 'IAM.0011' },
    ],
  ];
  for (const [name, body, status, expected] of refused) {
    it(`answers ${status} to ${name}, issuing nothing`, async () => {
      const response = await issue(body);
      expect([response.statusCode, JSON.parse(response.body)]).to.deep.equal([status, expected]);
      expect(response.headers['x-subject-token']).to.equal(undefined);
      expect(dis.control.issuedIamTokens()).to.deep.equal([]);
    });
  }

  it('lets a DIS call through with a valid token, and answers 401 APIGW.0301 once it is unknown, expired or revoked', async () => {
    const first = String((await issue(tokenRequest(USER))).headers['x-subject-token']);
    expect((await withToken(first)).statusCode).to.equal(200);
    const rejection = async (token: string) => {
      const response = await withToken(token);
      const body = JSON.parse(response.body) as { error_code: string; error_msg: string };
      return [response.statusCode, body.error_code, body.error_msg];
    };
    expect(await rejection('MIIsim-not-issued')).to.deep.equal([
      401,
      'APIGW.0301',
      'Incorrect IAM authentication information: decrypt token fail',
    ]);
    await clock.advance(24 * 3_600_000 - 1);
    expect((await withToken(first)).statusCode).to.equal(200);
    await clock.advance(1);
    expect(await rejection(first)).to.deep.equal([
      401,
      'APIGW.0301',
      'Incorrect IAM authentication information: token expired',
    ]);
    const second = String((await issue(tokenRequest(USER))).headers['x-subject-token']);
    expect(second).not.to.equal(first);
    expect((await withToken(second)).statusCode).to.equal(200);
    dis.control.revokeIamTokens();
    expect(await rejection(second)).to.deep.equal([
      401,
      'APIGW.0301',
      'Incorrect IAM authentication information: token has been revoked',
    ]);
    expect(dis.control.issuedIamTokens()).to.deep.equal([first, second]);
  });

  it('still takes AK/SK-signed calls, and an unsigned call without a token is refused', async () => {
    const url = new URL(`${dis.url}${TASK_PATH}`);
    const signed = signRequest({ method: 'GET', url, headers: {} }, CREDS, clock.now());
    expect((await got(url, { headers: signed })).statusCode).to.equal(200);
    const unsigned = await got(url);
    expect([unsigned.statusCode, JSON.parse(unsigned.body).error_code]).to.deep.equal([401, 'APIGW.0301']);
  });

  it('injects faults into token requests matched by operation iam_token', async () => {
    dis.control.addFault({ match: { operation: 'iam_token' }, kind: 'status', status: 503, times: 1 });
    expect((await issue(tokenRequest(USER))).statusCode).to.equal(503);
    expect((await issue(tokenRequest(USER))).statusCode).to.equal(201);
    expect(dis.control.requests().map((r) => [r.operation, r.status, r.faults])).to.deep.equal([
      ['iam_token', 503, ['status']],
      ['iam_token', 201, []],
    ]);
  });

  it('takes users and the token lifetime from the scenario, and checks them', () => {
    const iam = (value: unknown) =>
      parseScenario({ projectId: PROJECT, iam: value, streams: [{ name: 's', partitions: [{}] }] }).iam;
    expect(iam(undefined)).to.deep.equal({ users: [], identityProviders: [], tokenLifetimeMs: 86_400_000 });
    expect(iam({ users: [USER], identityProviders: ['cce-idp'], tokenLifetimeMs: 3_600_000 })).to.deep.equal({
      users: [USER],
      identityProviders: ['cce-idp'],
      tokenLifetimeMs: 3_600_000,
    });
    expect(() =>
      iam({ users: [USER, { domain: 'acme', name: 'dis-monitor', password: 2 }, { name: 'x' }], ttl: 1 }),
    ).to.throw(
      [
        'scenario: iam.ttl: unknown key',
        'scenario: iam.users[1].password: must be a non-empty string',
        'scenario: iam.users[2].domain: is required',
        'scenario: iam.users[2].password: is required',
        'scenario: iam.users[1].name: duplicate "acme/dis-monitor"',
      ].join('\n'),
    );
  });
});
