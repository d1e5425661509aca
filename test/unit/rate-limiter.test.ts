import { expect } from 'chai';
import { createRateLimiter } from '../../src/dis/rate-limiter.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const NOW = Date.UTC(2024, 0, 1);

/** Starts `count` acquires and returns the order in which they resolved (by index), as it grows. */
function acquireAll(acquire: () => Promise<void>, count: number): number[] {
  const done: number[] = [];
  for (let i = 0; i < count; i++) void acquire().then(() => done.push(i));
  return done;
}

describe('token-bucket rate limiter', () => {
  it('lets a burst through at once, then one request per 1/rate seconds, in arrival order', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 20, burst: 3, clock });
    const done = acquireAll(() => limiter.acquire(), 6);
    await flush();
    expect(done).to.deep.equal([0, 1, 2]);
    expect(clock.sleeping).to.equal(3);
    expect(clock.nextWake).to.equal(NOW + 50);
    await clock.advance(49);
    expect(done).to.deep.equal([0, 1, 2]);
    await clock.advance(1);
    expect(done).to.deep.equal([0, 1, 2, 3]);
    await clock.advance(50);
    expect(done).to.deep.equal([0, 1, 2, 3, 4]);
    await clock.advance(50);
    expect(done).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(clock.sleeping).to.equal(0);
  });

  it('refills at the rate but never holds more than the burst', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 2, clock });
    await limiter.acquire();
    await limiter.acquire();
    await clock.advance(60_000); // a quiet minute refills 2 tokens, not 600
    const done = acquireAll(() => limiter.acquire(), 3);
    await flush();
    expect(done).to.deep.equal([0, 1]);
    expect(clock.nextWake).to.equal(NOW + 60_000 + 100);
    await clock.advance(100);
    expect(done).to.deep.equal([0, 1, 2]);
    // 50 ms after the debt is paid the bucket holds half a token: the next one is due 50 ms later
    await clock.advance(50);
    const late = acquireAll(() => limiter.acquire(), 1);
    await flush();
    expect(clock.nextWake).to.equal(NOW + 60_000 + 200);
    await clock.advance(50);
    expect(late).to.deep.equal([0]);
  });

  it('rounds a fractional wait up to whole milliseconds', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 3, burst: 1, clock });
    await limiter.acquire();
    void limiter.acquire();
    await flush();
    expect(clock.nextWake).to.equal(NOW + 334);
  });

  it('treats a burst below 1 as 1, and a slow rate as seconds between requests', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 0.5, burst: 0, clock });
    await limiter.acquire();
    void limiter.acquire();
    await flush();
    expect(clock.nextWake).to.equal(NOW + 2000);
  });

  for (const rate of [0, Infinity, -1, Number.NaN]) {
    it(`is off at ${rate} requests per second: 1000 acquires never wait`, async () => {
      const clock = new ManualClock(NOW);
      const limiter = createRateLimiter({ requestsPerSecond: rate, burst: 1, clock });
      await Promise.all(Array.from({ length: 1000 }, () => limiter.acquire()));
      expect(clock.sleeping).to.equal(0);
    });
  }

  describe('setRate (a reload)', () => {
    it('turns a limit on with a full bucket, then paces at the new rate', async () => {
      const clock = new ManualClock(NOW);
      const limiter = createRateLimiter({ requestsPerSecond: 0, burst: 1, clock });
      await limiter.acquire();
      limiter.setRate({ requestsPerSecond: 10, burst: 2 });
      const done = acquireAll(() => limiter.acquire(), 3);
      await flush();
      expect(done).to.deep.equal([0, 1]);
      expect(clock.nextWake).to.equal(NOW + 100);
    });

    it('keeps what refilled at the old rate up to the new burst, and a debt its waiters are sleeping off', async () => {
      const clock = new ManualClock(NOW);
      const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 5, clock });
      limiter.setRate({ requestsPerSecond: 1, burst: 1 });
      const done = acquireAll(() => limiter.acquire(), 3);
      await flush();
      // one token of the five is left; the second waits a second, the third two
      expect(done).to.deep.equal([0]);
      expect(clock.nextWake).to.equal(NOW + 1000);
      limiter.setRate({ requestsPerSecond: 2, burst: 1 });
      const late = acquireAll(() => limiter.acquire(), 1);
      await flush();
      // the debt of two tokens is paid at 2/s from now: the newcomer's token is due in 1.5 s
      await clock.advance(1000);
      expect([done, late]).to.deep.equal([[0, 1], []]);
      await clock.advance(500);
      expect(late).to.deep.equal([0]);
      await clock.advance(500);
      expect(done).to.deep.equal([0, 1, 2]);
    });

    it('turns the limit off: nothing waits from then on', async () => {
      const clock = new ManualClock(NOW);
      const limiter = createRateLimiter({ requestsPerSecond: 1, burst: 1, clock });
      await limiter.acquire();
      limiter.setRate({ requestsPerSecond: 0, burst: 1 });
      await Promise.all(Array.from({ length: 100 }, () => limiter.acquire()));
      expect(clock.sleeping).to.equal(0);
    });
  });

  it('rejects an aborted wait with the reason, gives its token back, and keeps the others in line', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 1, clock });
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    const second = acquireAll(() => limiter.acquire(), 1);
    await flush();
    expect(clock.nextWake).to.equal(NOW + 100);
    controller.abort(new Error('cycle over'));
    expect(((await aborted) as Error).message).to.equal('cycle over');
    // The second waiter keeps its slot (200 ms); the returned token serves the next newcomer at 200 ms too.
    const third = acquireAll(() => limiter.acquire(), 1);
    await flush();
    expect(clock.sleeping).to.equal(2);
    await clock.advance(199);
    expect([second, third]).to.deep.equal([[], []]);
    await clock.advance(1);
    expect([second, third]).to.deep.equal([[0], [0]]);
  });

  it('rejects at once, taking no token, when the signal has already aborted', async () => {
    const clock = new ManualClock(NOW);
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 1, clock });
    const error = await limiter.acquire(AbortSignal.abort(new Error('stopped'))).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.equal('stopped');
    await limiter.acquire();
    expect(clock.sleeping).to.equal(0);
  });

  it('refills nothing when the clock steps back, and resumes from the new time', async () => {
    let now = NOW;
    const sleeps: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void sleeps.push(ms) };
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 1, clock });
    await limiter.acquire();
    now = NOW - 3_600_000;
    await limiter.acquire();
    now += 100;
    await limiter.acquire();
    expect(sleeps).to.deep.equal([100, 100]);
  });
});
