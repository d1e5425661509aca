import { expect } from 'chai';
import { DisHttpError, DisRequestError, DisResponseError, type DisError } from '../../src/dis/errors.js';
import { calculateRetryDelay, STOP, type RetryInput } from '../../src/dis/retry-policy.js';

const NOW = Date.UTC(2024, 0, 1);
const SERVER_ERROR = new DisHttpError({ method: 'GET', path: '/v2/p/streams', statusCode: 503 });
const TIMEOUT = new DisRequestError({ method: 'GET', path: '/v2/p/streams', reason: 'timeout', detail: 'no response' });

/** A random source that fails the test when the policy draws from it. */
const noDraw = (): number => {
  throw new Error('drew a back-off although it should not have');
};

/** The first retry of a call on a 503, with 3 retries allowed, no Retry-After, no deadline. */
function input(overrides: Partial<RetryInput> = {}): RetryInput {
  return {
    error: SERVER_ERROR,
    retry: 0,
    retries: 3,
    retryAfterMs: undefined,
    maxRetryAfterMs: 60_000,
    deadlineMs: undefined,
    nowMs: NOW,
    random: () => 0.5,
    ...overrides,
  };
}

describe('retry policy (calculateRetryDelay)', () => {
  it('draws a full-jitter back-off: up to 250 ms doubled per retry, capped at 10 s', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 10].map((retry) => calculateRetryDelay(input({ retry, retries: 20 })));
    expect(delays).to.deep.equal([125, 250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(calculateRetryDelay(input({ retry: 6, retries: 20, random: () => 0.999_999 }))).to.equal(10_000);
    expect(calculateRetryDelay(input({ random: () => 0 }))).to.equal(0);
    // Rounded to whole milliseconds.
    expect(calculateRetryDelay(input({ random: () => 0.123_456 }))).to.equal(31);
  });

  it('retries network trouble, timeouts, 5xx and throttling', () => {
    const retryable: DisError[] = [
      TIMEOUT,
      new DisRequestError({ method: 'GET', path: '/x', reason: 'network', detail: 'ECONNRESET: socket hang up' }),
      SERVER_ERROR,
      new DisHttpError({ method: 'GET', path: '/x', statusCode: 429 }),
      new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4305' }),
    ];
    expect(retryable.map((error) => calculateRetryDelay(input({ error })))).to.deep.equal([125, 125, 125, 125, 125]);
  });

  it('stops at once on an error another attempt would not fix, without drawing', () => {
    const final: DisError[] = [
      new DisHttpError({ method: 'GET', path: '/x', statusCode: 401, apiCode: 'APIGW.0301' }),
      new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4354' }),
      new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4117' }),
      new DisResponseError('partitions', 'must be an array'),
    ];
    expect(final.map((error) => calculateRetryDelay(input({ error, random: noDraw })))).to.deep.equal([
      STOP,
      STOP,
      STOP,
      STOP,
    ]);
  });

  it('stops once the call has made `retries` retries', () => {
    expect(calculateRetryDelay(input({ retry: 2, retries: 3 }))).to.equal(500);
    expect(calculateRetryDelay(input({ retry: 3, retries: 3, random: noDraw }))).to.equal(STOP);
    expect(calculateRetryDelay(input({ retry: 0, retries: 0, random: noDraw }))).to.equal(STOP);
  });

  it('waits what Retry-After asks instead of a back-off, up to maxRetryAfterMs, and stops on a longer one', () => {
    expect(calculateRetryDelay(input({ retryAfterMs: 7000, random: noDraw }))).to.equal(7000);
    expect(calculateRetryDelay(input({ retryAfterMs: 0, random: noDraw }))).to.equal(0);
    expect(calculateRetryDelay(input({ retryAfterMs: 60_000, random: noDraw }))).to.equal(60_000);
    expect(calculateRetryDelay(input({ retryAfterMs: 60_001, random: noDraw }))).to.equal(STOP);
  });

  it('stops when the wait would end at or after the deadline', () => {
    expect(calculateRetryDelay(input({ retryAfterMs: 5000, deadlineMs: NOW + 5001 }))).to.equal(5000);
    expect(calculateRetryDelay(input({ retryAfterMs: 5000, deadlineMs: NOW + 5000 }))).to.equal(STOP);
    expect(calculateRetryDelay(input({ retry: 2, deadlineMs: NOW + 501 }))).to.equal(500);
    expect(calculateRetryDelay(input({ retry: 2, deadlineMs: NOW + 500 }))).to.equal(STOP);
    // A deadline already past stops even a retry without a wait.
    expect(calculateRetryDelay(input({ retryAfterMs: 0, deadlineMs: NOW }))).to.equal(STOP);
  });
});
