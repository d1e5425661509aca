import { expect } from 'chai';
import type { IamPasswordCredentials } from '../../src/config/types.js';
import {
  createDisClient,
  type ApiRequestEvent,
  type CredentialEvent,
  type DisClientOptions,
} from '../../src/dis/client.js';
import { DisError } from '../../src/dis/errors.js';
import { IamTokenError } from '../../src/dis/iam-token.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { failureOf } from '../helpers/errors.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const PROJECT = '0123456789abcdef0123456789abcdef';
const USER = { domain: 'acme', name: 'dis-monitor', password: 'Monitor-Password-1' };
const OTHER = { domain: 'acme', name: 'dis-reader', password: 'Reader-Password-2' };

/** Runs the client against the simulator with IAM credentials the test may swap. */
async function harness(extra: Partial<DisClientOptions> = {}) {
  const clock = new ManualClock(T0);
  const dis = await startFakeDis({
    clock,
    scenario: parseScenario({
      projectId: PROJECT,
      epochMs: T0,
      iam: { users: [USER, OTHER] },
      streams: [
        {
          name: 's1',
          partitions: [{ initialRecords: 10 }],
          tasks: [{ name: 'to-obs', destinationType: 'OBS', destination: { obs_bucket_path: 'b' } }],
        },
      ],
    }),
  });
  let credentials: IamPasswordCredentials = {
    kind: 'iam',
    endpoint: dis.url,
    domain: USER.domain,
    username: USER.name,
    password: USER.password,
  };
  const requests: ApiRequestEvent[] = [];
  // Failures as the log reports them: the first of each kind.
  const tokenEvents: CredentialEvent[] = [];
  const client = createDisClient({
    endpoint: dis.url,
    projectId: PROJECT,
    credentials: () => credentials,
    timeoutMs: 2000,
    retries: 0,
    maxSockets: 4,
    clock,
    userAgent: 'dis-exporter/test',
    onRequest: (event) => requests.push(event),
    onCredentials: (event) => {
      if (event.kind === 'obtained' || event.firstOfKind) tokenEvents.push(event);
    },
    credentialsFailureBackoffMs: 60_000,
    ...extra,
  });
  return {
    clock,
    dis,
    client,
    tokenEvents,
    setCredentials(next: Partial<IamPasswordCredentials>) {
      credentials = { ...credentials, ...next };
    },
    /** `operation code` of every request the client reported, in order. */
    sent: () => requests.map((event) => `${event.operation} ${event.code}`),
    call: () => client.getDumpTask('s1', 'to-obs'),
    close: async () => {
      client.close();
      await dis.close();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await flush();
  expect(condition(), 'condition reached').to.equal(true);
}

describe('DIS client with IAM token authentication (against the simulator)', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  afterEach(() => h.close());

  it('gets one token, scoped to the project, shares its request among concurrent calls and reuses it', async () => {
    h = await harness();
    await Promise.all([h.call(), h.call(), h.call()]);
    await h.call();
    expect(h.sent()).to.deep.equal([
      'iam_token 201',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'show_transfer_task 200',
    ]);
    expect(h.dis.control.requests()[0]).to.deep.include({
      method: 'POST',
      path: '/v3/auth/tokens',
      query: 'nocatalog=true',
    });
    expect(h.tokenEvents).to.deep.equal([
      { kind: 'obtained', method: 'iam', expiresAtMs: T0 + 24 * HOUR, recovered: false },
    ]);
  });

  it('refreshes the token in the background an hour before it expires, without making the call wait', async () => {
    h = await harness();
    await h.call();
    await h.clock.advance(23 * HOUR - 1);
    await h.call();
    expect(h.dis.control.issuedIamTokens()).to.have.length(1);
    // From 23 h on, a call still uses the current token while a new one is fetched; IAM takes 5 s to answer.
    h.dis.control.addFault({ match: { operation: 'iam_token' }, kind: 'latency', latencyMs: 5_000 });
    await h.clock.advance(1);
    await h.call();
    expect(h.sent().slice(-1)).to.deep.equal(['show_transfer_task 200']);
    // The token request is held in IAM's latency while the call has finished.
    await until(() => h.clock.sleeping === 1);
    expect(h.tokenEvents).to.have.length(1);
    await h.clock.advance(5_000);
    await until(() => h.tokenEvents.length === 2);
    // IAM's issued_at and expires_at are 24 h apart; counted from the request (not the late answer), to err early.
    expect(h.tokenEvents[1]).to.deep.equal({
      kind: 'obtained',
      method: 'iam',
      expiresAtMs: T0 + 47 * HOUR,
      recovered: false,
    });
    // Past the first token's expiry the calls go on with the new one: no 401, no further token request.
    await h.clock.advance(HOUR);
    await h.call();
    expect(h.sent()).to.deep.equal([
      'iam_token 201',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'iam_token 201',
      'show_transfer_task 200',
    ]);
  });

  it('waits for a new token once the current one is within 5 minutes of expiry', async () => {
    h = await harness();
    await h.call();
    await h.clock.advance(24 * HOUR - 5 * 60_000);
    await h.call();
    expect(h.sent()).to.deep.equal([
      'iam_token 201',
      'show_transfer_task 200',
      'iam_token 201',
      'show_transfer_task 200',
    ]);
  });

  it('on a 401 from DIS drops the token, gets one new token and retries once, outside poll.retries', async () => {
    h = await harness();
    await h.call();
    h.dis.control.revokeIamTokens();
    // Four calls at once all meet the revoked token: one new token between them, no auth cool-down.
    await Promise.all([h.call(), h.call(), h.call(), h.call()]);
    expect(h.sent().filter((line) => line.startsWith('iam_token'))).to.deep.equal(['iam_token 201', 'iam_token 201']);
    expect(h.sent().filter((line) => line === 'show_transfer_task 401')).to.have.length(4);
    expect(h.sent().filter((line) => line === 'show_transfer_task 200')).to.have.length(5);
    expect(h.client.cooldownUntilMs()).to.equal(undefined);
    expect(h.dis.control.issuedIamTokens()).to.have.length(2);
  });

  it('retries only once: a second 401 with the fresh token fails the call with reason auth', async () => {
    h = await harness();
    await h.call();
    h.dis.control.addFault({ match: { operation: 'show_transfer_task' }, kind: 'status', status: 401, times: 2 });
    const error = await failureOf(h.call());
    expect([error.reason, error.message]).to.deep.equal([
      'auth',
      `GET /v2/${PROJECT}/streams/s1/transfer-tasks/to-obs: HTTP 401 APIGW.0301 ` +
        '(Incorrect IAM authentication information: injected fault) [request id 00000000000000000000000000000005]',
    ]);
    expect(h.sent()).to.deep.equal([
      'iam_token 201',
      'show_transfer_task 200',
      'show_transfer_task 401',
      'iam_token 201',
      'show_transfer_task 401',
    ]);
  });

  it('takes a new token back-off from reconfigure (a reload of poll.interval)', async () => {
    h = await harness();
    h.setCredentials({ password: 'wrong-password' });
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401']);
    h.client.reconfigure({ timeoutMs: 2000, retries: 0, maxSockets: 4, credentialsFailureBackoffMs: 300_000 });
    // The failure already recorded keeps its retry time; the next one waits the new back-off.
    await h.clock.advance(60_000);
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401', 'iam_token 401']);
    await h.clock.advance(299_999);
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401', 'iam_token 401']);
    await h.clock.advance(1);
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401', 'iam_token 401', 'iam_token 401']);
  });

  it('names the IAM user, not an AK/SK, in a cool-down after DIS.4309', async () => {
    h = await harness();
    h.dis.control.addFault({
      match: { operation: 'show_transfer_task' },
      kind: 'status',
      status: 400,
      body: { errorCode: 'DIS.4309', message: 'Too many request failures. [dis-x][y]' },
      times: 1,
    });
    await failureOf(h.call());
    const blocked = await failureOf(h.call());
    expect([blocked.reason, blocked.message]).to.deep.equal([
      'auth',
      'DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:10:00.000Z; ' +
        'check the IAM user, its password and the project id',
    ]);
    expect(h.sent()).to.deep.equal(['iam_token 201', 'show_transfer_task 400']);
  });

  it('fails every call with reason auth on a rejected password, reports it once, and asks IAM once per back-off', async () => {
    h = await harness();
    h.setCredentials({ password: 'wrong-password' });
    const expected =
      `no IAM token: POST ${h.dis.url}/v3/auth/tokens: HTTP 401 IAM.0005 (The username or password is wrong.) ` +
      '[request id 00000000000000000000000000000001]; IAM rejected user "dis-monitor" of domain "acme": ' +
      'check auth.iam.domain, auth.iam.username and auth.iam.password (or auth.iam.passwordFile)';
    const failures = await Promise.all([failureOf(h.call()), failureOf(h.call())]);
    failures.push(await failureOf(h.client.listStreams()));
    for (const error of failures) {
      expect(error).to.be.instanceOf(IamTokenError);
      expect([error.code, error.reason, error.reported, error.message]).to.deep.equal([
        'ERR_IAM_TOKEN',
        'auth',
        true,
        expected,
      ]);
    }
    expect(h.sent()).to.deep.equal(['iam_token 401']);
    await h.clock.advance(59_999);
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401']);
    await h.clock.advance(1);
    await failureOf(h.call());
    expect(h.sent()).to.deep.equal(['iam_token 401', 'iam_token 401']);
    expect(h.tokenEvents.map((e) => (e.kind === 'failed' ? [e.error.message, e.retryAtMs] : e))).to.deep.equal([
      [expected, T0 + 60_000],
    ]);
    // A changed credential is tried at once, back-off or not.
    h.setCredentials({ password: USER.password });
    await h.call();
    expect(h.sent().slice(2)).to.deep.equal(['iam_token 201', 'show_transfer_task 200']);
    expect(h.tokenEvents.slice(1)).to.deep.equal([
      { kind: 'obtained', method: 'iam', expiresAtMs: T0 + 60_000 + 24 * HOUR, recovered: true },
    ]);
  });

  it('drops a valid cached token when the credentials change (a reload)', async () => {
    h = await harness();
    await h.call();
    h.setCredentials({ username: OTHER.name, password: OTHER.password });
    await h.call();
    await h.call();
    expect(h.sent()).to.deep.equal([
      'iam_token 201',
      'show_transfer_task 200',
      'iam_token 201',
      'show_transfer_task 200',
      'show_transfer_task 200',
    ]);
  });

  const unreachable: ReadonlyArray<[string, Parameters<FakeDis['control']['addFault']>[0], string, string]> = [
    [
      'a 503 from IAM',
      { match: { operation: 'iam_token' }, kind: 'status', status: 503 },
      'server_error',
      'no IAM token: POST <iam>/v3/auth/tokens: HTTP 503 DIS.5000 (System error. [fault][00000000000000000000000000000001]) ' +
        '[request id 00000000000000000000000000000001]',
    ],
    [
      'a connection reset by IAM',
      { match: { operation: 'iam_token' }, kind: 'reset' },
      'network',
      'no IAM token: POST <iam>/v3/auth/tokens: ECONNRESET: socket hang up; check auth.iam.endpoint and the network path to it',
    ],
    [
      'a 201 without X-Subject-Token',
      { match: { operation: 'iam_token' }, kind: 'status', status: 201, body: { token: {} } },
      'bad_response',
      'no IAM token: POST <iam>/v3/auth/tokens: X-Subject-Token: header is missing; check auth.iam.endpoint, ' +
        'which must be an IAM endpoint like https://iam.cn-north-4.myhuaweicloud.com',
    ],
  ];
  for (const [name, fault, reason, message] of unreachable) {
    it(`fails the calls with reason ${reason} on ${name}, and tries again after the back-off`, async () => {
      h = await harness();
      h.dis.control.addFault(fault);
      const error = await failureOf(h.call());
      expect([error.reason, error.message]).to.deep.equal([reason, message.replace('<iam>', h.dis.url)]);
      expect(error.message).not.to.include(USER.password);
      await failureOf(h.call());
      expect(h.dis.control.requests()).to.have.length(1);
      h.dis.control.clearFaults();
      await h.clock.advance(60_000);
      await h.call();
      expect(h.dis.control.requests().map((r) => [r.operation, r.status])).to.deep.equal([
        ['iam_token', reason === 'network' ? 0 : fault.status],
        ['iam_token', 201],
        ['show_transfer_task', 200],
      ]);
    });
  }

  it('keeps the current token when a background refresh fails, and reports the failure once', async () => {
    h = await harness();
    await h.call();
    await h.clock.advance(23 * HOUR);
    h.dis.control.addFault({ match: { operation: 'iam_token' }, kind: 'status', status: 500 });
    await h.call();
    await until(() => h.tokenEvents.length === 2);
    await h.call();
    await h.clock.advance(60_000);
    await h.call();
    await until(() => h.sent().length === 7);
    // The background token requests race the calls that started them; the counts are exact.
    expect([...h.sent()].sort()).to.deep.equal([
      'iam_token 201',
      'iam_token 500',
      'iam_token 500',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'show_transfer_task 200',
      'show_transfer_task 200',
    ]);
    expect(h.tokenEvents.map((e) => e.kind)).to.deep.equal(['obtained', 'failed']);
  });

  it('never puts the password or the token in an error', async () => {
    h = await harness();
    await h.call();
    const [token] = h.dis.control.issuedIamTokens();
    h.dis.control.addFault({ match: { operation: 'show_transfer_task' }, kind: 'status', status: 401 });
    const error = await failureOf(h.call());
    expect(error).to.be.instanceOf(DisError);
    const text = JSON.stringify({ message: error.message, cause: String(error.cause), stack: error.stack });
    expect(text).not.to.include(String(token));
    expect(text).not.to.include(USER.password);
  });
});
