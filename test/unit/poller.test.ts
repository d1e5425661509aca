import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import type { Target } from '../../src/config/types.js';
import type { DisClient } from '../../src/dis/client.js';
import { DisHttpError, DisRequestError } from '../../src/dis/errors.js';
import type { DumpTask } from '../../src/dis/types.js';
import { Poller } from '../../src/poller.js';
import { SnapshotStore } from '../../src/store.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const START = Date.UTC(2024, 0, 1);

function task(stream: string, name: string): DumpTask {
  return { streamName: stream, taskName: name, taskId: '', destinationType: 'OBS', destination: 'b', partitions: [] };
}

/** A fake client whose answers the test controls, recording calls and concurrency. */
function fakeClient(answer: (stream: string, task: string) => Promise<DumpTask>) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: DisClient = {
    async getDumpTask(stream, name) {
      calls.push(`${stream}/${name}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await answer(stream, name);
      } finally {
        inFlight--;
      }
    },
    close() {},
  };
  return { client, calls, maxInFlight: () => maxInFlight };
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function poller(
  targets: Target[],
  client: DisClient,
  clock: ManualClock,
  extra: { concurrency?: number; random?: () => number; logger?: pino.Logger } = {},
) {
  const store = new SnapshotStore();
  const cycles: number[] = [];
  const p = new Poller({
    targets,
    client,
    store,
    clock,
    logger: extra.logger ?? pino({ level: 'silent' }),
    intervalMs: 60_000,
    concurrency: extra.concurrency ?? 8,
    random: extra.random ?? (() => 0.5),
    onCycle: (s) => cycles.push(s),
  });
  return { p, store, cycles };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await flush();
  expect(condition()).to.equal(true);
}

describe('Poller', () => {
  it('polls at start, then once per interval, and replaces the snapshot each cycle', async () => {
    const clock = new ManualClock(START);
    const { client, calls } = fakeClient(async (s, t) => task(s, t));
    const { p, store } = poller([{ stream: 's', task: 't' }], client, clock);
    p.start();
    await until(() => store.current().cyclesCompleted === 1);
    expect(calls).to.deep.equal(['s/t']);
    expect(store.current().targets[0]).to.deep.include({ up: true, lastSuccessMs: START });
    expect(clock.nextWake).to.equal(START + 60_000); // random 0.5 → no jitter
    await clock.advance(59_999);
    expect(calls.length).to.equal(1);
    await clock.advance(1);
    await until(() => store.current().cyclesCompleted === 2);
    expect(calls).to.deep.equal(['s/t', 's/t']);
    expect(Object.isFrozen(store.current().targets[0])).to.equal(true);
    await p.stop();
    expect(p.isAlive()).to.equal(false);
  });

  it('jitters the wait by at most ±5% of the interval', async () => {
    for (const [random, expected] of [
      [0, 57_000],
      [0.999999, 62_999.94],
    ] as const) {
      const clock = new ManualClock(START);
      const { client } = fakeClient(async (s, t) => task(s, t));
      const { p, store } = poller([{ stream: 's', task: 't' }], client, clock, { random: () => random });
      p.start();
      await until(() => store.current().cyclesCompleted === 1);
      expect(clock.nextWake).to.equal(START + Math.round(expected));
      await p.stop();
    }
  });

  it('never overlaps cycles: an overrunning cycle delays the next one', async () => {
    const clock = new ManualClock(START);
    let release: () => void = () => {};
    const { client, calls } = fakeClient(async (s, t) => {
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return task(s, t);
    });
    const { p, store } = poller([{ stream: 's', task: 't' }], client, clock);
    p.start();
    await flush();
    await clock.advance(150_000); // the first cycle is still running, 2.5 intervals later
    expect(calls.length).to.equal(1);
    expect(clock.sleeping).to.equal(0);
    release();
    // overran: the next cycle starts at once (no 60 s wait), and only after the first one ended
    await until(() => calls.length === 2);
    expect(store.current().cyclesCompleted).to.be.at.least(1);
    expect(clock.now()).to.equal(START + 150_000);
    await p.stop();
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const clock = new ManualClock(START);
    const fake = fakeClient(async (s, t) => {
      await flush();
      return task(s, t);
    });
    const targets = Array.from({ length: 20 }, (_, i) => ({ stream: 's', task: `t${i}` }));
    const { p, store } = poller(targets, fake.client, clock, { concurrency: 3 });
    await p.runCycle();
    expect(fake.maxInFlight()).to.equal(3);
    expect(store.current().targets.map((t) => t.target.task)).to.deep.equal(targets.map((t) => t.task));
  });

  it('records each failure reason, keeps stale data on errors and drops it at once on not_found', async () => {
    const clock = new ManualClock(START);
    let mode: 'ok' | 'down' | 'gone' = 'ok';
    const { client } = fakeClient(async (s, t) => {
      if (mode === 'down') {
        throw new DisRequestError({ method: 'GET', path: '/x', reason: 'timeout', detail: 'no response within 10 ms' });
      }
      if (mode === 'gone') throw new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4354' });
      return task(s, t);
    });
    const { p, store } = poller([{ stream: 's', task: 't' }], client, clock);
    await p.runCycle();
    mode = 'down';
    await clock.advance(60_000);
    await p.runCycle();
    expect(store.current().targets[0]).to.deep.include({
      up: false,
      lastSuccessMs: START,
      lastError: { reason: 'timeout', message: 'GET /x: no response within 10 ms', atMs: START + 60_000 },
      errors: { timeout: 1 },
    });
    expect(store.current().targets[0]!.task).to.deep.equal(task('s', 't'));
    mode = 'gone';
    await p.runCycle();
    const gone = store.current().targets[0]!;
    expect(gone.task).to.equal(undefined);
    expect(gone.errors).to.deep.equal({ timeout: 1, not_found: 1 });
    expect(gone.lastError?.message).to.equal('GET /x: HTTP 400 DIS.4354');
  });

  it('logs a failure once per change of state, not once per cycle', async () => {
    const clock = new ManualClock(START);
    const { logger, lines } = logCapture();
    let failing = true;
    const { client } = fakeClient(async (s, t) => {
      if (failing) throw new DisHttpError({ method: 'GET', path: '/x', statusCode: 500, apiCode: 'DIS.5000' });
      return task(s, t);
    });
    const { p } = poller([{ stream: 's', task: 't' }], client, clock, { logger });
    await p.runCycle();
    await p.runCycle();
    await p.runCycle();
    failing = false;
    await p.runCycle();
    await p.runCycle();
    expect(lines.map((l) => [l.msg, l.reason, l.stream, l.task])).to.deep.equal([
      ['poll failed', 'server_error', 's', 't'],
      ['target recovered', undefined, 's', 't'],
    ]);
  });
});
