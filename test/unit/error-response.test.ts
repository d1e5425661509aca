import { expect } from 'chai';
import { DisClockSkewError } from '../../src/dis/clock-skew.js';
import { readErrorAnswer } from '../../src/dis/error-response.js';
import { DisHttpError } from '../../src/dis/errors.js';

const NOW = Date.UTC(2024, 0, 1);
const REQUEST = { method: 'GET', path: '/v2/p/streams/s1' } as const;
const THROTTLED = JSON.stringify({ error_code: 'APIGW.0308', error_msg: 'throttled', request_id: 'body-id' });
const AUTH = JSON.stringify({ error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' });

describe('reading an error answer (readErrorAnswer)', () => {
  it('builds the DisHttpError from the body, the request id from X-Request-Id before the body', () => {
    const { error, retryAfterMs } = readErrorAnswer(
      REQUEST,
      { statusCode: 429, headers: { 'x-request-id': 'header-id' }, body: THROTTLED },
      NOW,
      true,
    );
    expect(error).to.be.instanceOf(DisHttpError).and.not.instanceOf(DisClockSkewError);
    expect([error.message, error.reason, error.requestId, retryAfterMs]).to.deep.equal([
      'GET /v2/p/streams/s1: HTTP 429 APIGW.0308 (throttled) [request id header-id]',
      'throttled',
      'header-id',
      undefined,
    ]);
  });

  it('reads Retry-After (seconds or an HTTP-date) on a 429 or 503 only', () => {
    const answer = (statusCode: number, retryAfter: string) =>
      readErrorAnswer(REQUEST, { statusCode, headers: { 'retry-after': retryAfter }, body: '' }, NOW, true)
        .retryAfterMs;
    expect(answer(429, '7')).to.equal(7000);
    expect(answer(503, new Date(NOW + 30_000).toUTCString())).to.equal(30_000);
    expect(answer(503, new Date(NOW - 30_000).toUTCString())).to.equal(0);
    expect(answer(500, '7')).to.equal(undefined);
    expect(answer(400, '7')).to.equal(undefined);
    expect(answer(429, 'soon')).to.equal(undefined);
  });

  it('blames the host clock for an auth failure of a signed request whose Date is 20 minutes off', () => {
    const headers = { date: new Date(NOW - 20 * 60_000).toUTCString() };
    const signed = readErrorAnswer(REQUEST, { statusCode: 401, headers, body: AUTH }, NOW, true).error;
    expect(signed).to.be.instanceOf(DisClockSkewError);
    expect((signed as DisClockSkewError).skewSeconds).to.equal(1200);
    expect(signed.message).to.equal(
      'GET /v2/p/streams/s1: HTTP 401 APIGW.0301 (Incorrect IAM authentication information); ' +
        'the host clock is 1200 s ahead of the DIS Date header, off by more than 15 minutes; sync it with NTP',
    );
    // A request with an IAM token is never blamed on the clock.
    const withToken = readErrorAnswer(REQUEST, { statusCode: 401, headers, body: AUTH }, NOW, false).error;
    expect(withToken).to.be.instanceOf(DisHttpError).and.not.instanceOf(DisClockSkewError);
  });
});
