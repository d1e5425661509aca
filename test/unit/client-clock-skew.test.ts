import { expect } from 'chai';
import { DisClockSkewError } from '../../src/dis/clock-skew.js';
import { DisHttpError } from '../../src/dis/errors.js';
import { TASK_PATH, BAD_AUTH, withCaptureServer, iamUser, client } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';

describe('DIS client on APIGW.0303 (clock skew)', () => {
  const cases: ReadonlyArray<[string, string | undefined, string, number | undefined]> = [
    [
      'a host 20 minutes ahead',
      'Sun, 31 Dec 2023 23:40:00 GMT',
      'the host clock is 1200 s ahead of the DIS Date header, off by more than 15 minutes',
      1200,
    ],
    [
      'a host 16 minutes behind',
      'Mon, 01 Jan 2024 00:16:00 GMT',
      'the host clock is 960 s behind the DIS Date header, off by more than 15 minutes',
      -960,
    ],
    [
      'a host only 5 s behind',
      'Mon, 01 Jan 2024 00:00:05 GMT',
      'the host clock is 5 s behind the DIS Date header, yet DIS says it is off by more than 15 minutes',
      -5,
    ],
    ['no Date header', undefined, 'the host clock is off by more than 15 minutes', undefined],
  ];
  for (const [name, date, clockText, skew] of cases) {
    it(`says the host clock is off and to run NTP: ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => {
          if (date === undefined) {
            res.removeHeader('Date');
            res.sendDate = false;
          } else {
            res.set('Date', date);
          }
          res
            .status(401)
            .set('X-Request-Id', 'req-9')
            .json({ error_code: 'APIGW.0303', error_msg: 'Signature expired' });
        });
        const skews: number[] = [];
        const { c } = client(server, { onClockSkew: (s) => skews.push(s) });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisClockSkewError);
        expect(error).to.be.instanceOf(DisHttpError);
        expect([error.code, error.reason]).to.deep.equal(['ERR_DIS_HTTP', 'auth']);
        expect(error.message).to.equal(
          `GET ${TASK_PATH}: HTTP 401 APIGW.0303 (Signature expired) [request id req-9]; ${clockText}; sync it with NTP`,
        );
        expect((error as DisClockSkewError).skewSeconds).to.equal(skew);
        expect(skews).to.deep.equal(skew === undefined ? [] : [skew]);
      });
    });
  }
});

describe('DIS client on other auth failures (clock skew from the Date header or the message)', () => {
  const EXPIRED = 'Incorrect IAM authentication information: calc ak sk signature fail:signature expired';
  const VERIFY_FAILED = 'Incorrect IAM authentication information: verify aksk signature fail';
  const AHEAD_20_MIN = 'Sun, 31 Dec 2023 23:40:00 GMT';
  const cases: ReadonlyArray<{
    name: string;
    status: number;
    /** The JSON body; none: a text body. */
    body?: object;
    /** None: no Date header. */
    date?: string;
    /** What the message says before the clock. */
    head: string;
    /** What it adds about the clock; none: the clock is not blamed. */
    clock?: string;
    skew?: number;
  }> = [
    {
      name: 'a 401 APIGW.0301 "signature expired" from a host 20 minutes ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: AHEAD_20_MIN,
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is 1200 s ahead of the DIS Date header, off by more than 15 minutes',
      skew: 1200,
    },
    {
      name: 'a 401 APIGW.0301 "verify aksk signature fail" from a host 20 minutes behind',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: VERIFY_FAILED },
      date: 'Mon, 01 Jan 2024 00:20:00 GMT',
      head: `HTTP 401 APIGW.0301 (${VERIFY_FAILED})`,
      clock: 'the host clock is 1200 s behind the DIS Date header, off by more than 15 minutes',
      skew: -1200,
    },
    {
      name: 'a bare 401 from a host 5 min 1 s behind',
      status: 401,
      date: 'Mon, 01 Jan 2024 00:05:01 GMT',
      head: 'HTTP 401',
      clock: 'the host clock is 301 s behind the DIS Date header',
      skew: -301,
    },
    {
      name: 'a 401 APIGW.0301 "signature expired" from a host 10 minutes ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: 'Sun, 31 Dec 2023 23:50:00 GMT',
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is 600 s ahead of the DIS Date header, yet DIS says it is off by more than 15 minutes',
      skew: 600,
    },
    {
      name: 'APIGW.0301 "signature expired" on a 400 without a Date header',
      status: 400,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      head: `HTTP 400 APIGW.0301 (${EXPIRED})`,
      clock: 'the host clock is off by more than 15 minutes',
    },
    {
      name: 'a 401 APIGW.0301 from a host exactly 5 minutes ahead',
      status: 401,
      body: BAD_AUTH,
      date: 'Sun, 31 Dec 2023 23:55:00 GMT',
      head: `HTTP 401 APIGW.0301 (${BAD_AUTH.error_msg})`,
    },
    {
      // A temporary AK/SK past its expiry gets "signature expired" too; a Date header close to the host clears the clock.
      name: 'a 401 APIGW.0301 "signature expired" from a host 30 s ahead',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: EXPIRED },
      date: 'Sun, 31 Dec 2023 23:59:30 GMT',
      head: `HTTP 401 APIGW.0301 (${EXPIRED})`,
    },
    {
      name: 'a 403 DIS.4116 from a host 20 minutes ahead (the signature passed)',
      status: 403,
      body: { errorCode: 'DIS.4116', message: 'Invalid RBAC.' },
      date: AHEAD_20_MIN,
      head: 'HTTP 403 DIS.4116 (Invalid RBAC.)',
    },
  ];
  for (const { name, status, body, date, head, clock, skew } of cases) {
    it(`${clock === undefined ? 'leaves' : 'blames'} the host clock on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => {
          if (date === undefined) {
            res.removeHeader('Date');
            res.sendDate = false;
          } else {
            res.set('Date', date);
          }
          res.status(status).set('X-Request-Id', 'req-9');
          if (body === undefined) res.type('text').send('Unauthorized');
          else res.json(body);
        });
        const skews: number[] = [];
        const { c } = client(server, { onClockSkew: (s) => skews.push(s) });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error instanceof DisClockSkewError).to.equal(clock !== undefined);
        expect(error.reason).to.equal('auth');
        const message = `GET ${TASK_PATH}: ${head} [request id req-9]`;
        expect(error.message).to.equal(clock === undefined ? message : `${message}; ${clock}; sync it with NTP`);
        expect(skews).to.deep.equal(skew === undefined ? [] : [skew]);
      });
    });
  }

  it('leaves the clock out of a 401 to a request that carried an IAM token, whatever the Date header', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        if (req.method === 'POST') {
          const token = { issued_at: '2024-01-01T00:00:00.000000Z', expires_at: '2024-01-02T00:00:00.000000Z' };
          res.status(201).set('X-Subject-Token', 'token-1').json({ token });
        } else {
          res.set('Date', AHEAD_20_MIN).status(401).set('X-Request-Id', 'req-9').json(BAD_AUTH);
        }
      });
      const skews: number[] = [];
      const { c } = client(server, { credentials: iamUser(server.url), onClockSkew: (s) => skews.push(s) });
      const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(error).not.to.be.instanceOf(DisClockSkewError);
      expect(error.message).to.equal(
        `GET ${TASK_PATH}: HTTP 401 APIGW.0301 (Incorrect IAM authentication information) [request id req-9]`,
      );
      expect(skews).to.deep.equal([]);
    });
  });
});
