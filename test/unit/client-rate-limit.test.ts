import { expect } from 'chai';
import { NOW, SYSTEM_ERROR, BLACKLISTED, withCaptureServer, client, sequence, ok } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';
import { ManualClock, until } from '../helpers/manual-clock.js';

describe('DIS client rate limit', () => {
  it('spaces the requests of concurrent calls to maxRequestsPerSecond on the injected clock', async () => {
    await withCaptureServer(async (server) => {
      server.answer(ok);
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 2, rateLimitBurst: 1 });
      const calls = [1, 2, 3].map(() => c.getDumpTask('my-stream', 'my_task'));
      await until(() => server.requests.length === 1 && clock.sleeping === 2);
      expect(clock.nextWake).to.equal(NOW + 500);
      await clock.advance(499);
      expect(server.requests).to.have.length(1);
      await clock.advance(1);
      await until(() => server.requests.length === 2);
      await clock.advance(500);
      await Promise.all(calls);
      expect(server.requests).to.have.length(3);
    });
  });

  it('takes a token for every retry too', async () => {
    await withCaptureServer(async (server) => {
      server.answer(sequence((res) => res.status(503).json(SYSTEM_ERROR), ok));
      const clock = new ManualClock(NOW);
      const { c, events } = client(server, {
        clock,
        retries: 1,
        random: () => 0,
        maxRequestsPerSecond: 4,
        rateLimitBurst: 1,
      });
      const pending = c.getDumpTask('my-stream', 'my_task');
      // a back-off of 0 ms, then 250 ms for the next token
      await until(() => clock.sleeping === 1);
      expect(clock.nextWake).to.equal(NOW + 250);
      await clock.advance(250);
      await pending;
      expect(events.map((e) => e.code)).to.deep.equal(['503', '200']);
    });
  });

  it('sends nothing for a call that got its token after another call started a cool-down', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.status(400).json(BLACKLISTED));
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 2, rateLimitBurst: 1 });
      const first = failureOf(c.listStreams());
      const waiting = failureOf(c.getStream('s'));
      await until(() => clock.sleeping === 1);
      expect((await first).code).to.equal('ERR_DIS_HTTP');
      await clock.advance(500);
      expect((await waiting).code).to.equal('ERR_DIS_COOLDOWN');
      expect(server.requests).to.have.length(1);
    });
  });

  it('gives up waiting for a token when the signal aborts, sending nothing', async () => {
    await withCaptureServer(async (server) => {
      server.answer(ok);
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, maxRequestsPerSecond: 1, rateLimitBurst: 1 });
      await c.getDumpTask('my-stream', 'my_task');
      const controller = new AbortController();
      const pending = c.getDumpTask('my-stream', 'my_task', controller.signal).then(
        () => expect.fail('should have failed'),
        (e: unknown) => e as Error,
      );
      await until(() => clock.sleeping === 1);
      controller.abort(new Error('cycle over'));
      expect((await pending).message).to.equal('cycle over');
      expect(server.requests).to.have.length(1);
    });
  });
});
