import { expect } from 'chai';
import { pino } from 'pino';
import type { Target } from '../../src/config/types.js';
import type { DisClient } from '../../src/dis/client.js';
import { DisHttpError, DisRequestError } from '../../src/dis/errors.js';
import { parseDumpTask, parseStreamDetailsPage } from '../../src/dis/parse.js';
import type { DumpTask } from '../../src/dis/types.js';
import { Poller, type PollerOptions } from '../../src/poll/poller.js';
import { SnapshotStore } from '../../src/poll/store.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';
import { NO_APPS } from '../helpers/no-apps.js';

const START = Date.UTC(2024, 0, 1);

function task(): DumpTask {
  return { taskId: '', destinationType: 'OBS', destination: 'b', partitions: [] };
}

/** A fake client whose answers the test controls, recording calls and concurrency. */
function fakeClient(answer: (stream: string, task: string) => Promise<DumpTask>) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: DisClient = {
    listStreams: async () => [],
    listDumpTasks: async () => [],
    getStream: async () => ({ partitions: [] }),
    ...NO_APPS,
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

function poller(
  targets: Target[],
  client: DisClient,
  clock: ManualClock,
  extra: { concurrency?: number; random?: () => number; logger?: pino.Logger; lagRecords?: boolean } = {},
) {
  const store = new SnapshotStore();
  const cycles: number[] = [];
  const p = new Poller({
    projects: [{ projectId: 'p', selectors: targets, client }],
    shard: { index: 0, total: 1 },
    discoveryIntervalMs: 300_000,
    lagRecords: extra.lagRecords ?? false,
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
  it('lets every request in flight listen for the stop without a MaxListenersExceededWarning', async () => {
    const clock = new ManualClock(START);
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const release: Array<() => void> = [];
      const { client } = fakeClient(async () => task());
      const listening: DisClient = {
        ...client,
        getDumpTask: (_stream, _name, signal) =>
          new Promise((resolve, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
            release.push(() => resolve(task()));
          }),
      };
      const targets = Array.from({ length: 20 }, (_, i) => ({ stream: 's', task: `t${i}` }));
      const { p, store } = poller(targets, listening, clock, { concurrency: 20 });
      p.start();
      await until(() => release.length === 20);
      for (const done of release) done();
      await until(() => store.current().cyclesCompleted === 1);
      await p.stop();
      await flush();
      expect(warnings).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('polls at start, then once per interval, and replaces the snapshot each cycle', async () => {
    const clock = new ManualClock(START);
    const { client, calls } = fakeClient(async () => task());
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
      const { client } = fakeClient(async () => task());
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
    const { client, calls } = fakeClient(async () => {
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return task();
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
    const fake = fakeClient(async () => {
      await flush();
      return task();
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
    const { client } = fakeClient(async () => {
      if (mode === 'down') {
        throw new DisRequestError({ method: 'GET', path: '/x', reason: 'timeout', detail: 'no response within 10 ms' });
      }
      if (mode === 'gone') throw new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4354' });
      return task();
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
    expect(store.current().targets[0]!.task).to.deep.equal(task());
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
    const { client } = fakeClient(async () => {
      if (failing) throw new DisHttpError({ method: 'GET', path: '/x', statusCode: 500, apiCode: 'DIS.5000' });
      return task();
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

describe('Poller: odd fields of DIS answers', () => {
  const WARNING = 'ignored an odd field of a DIS answer';
  /** A dump task's details as DIS sends them; `offset` is partition 0's last_transfer_offset. */
  const body = (offset: number) => ({
    stream_name: 's',
    task_name: 't',
    partitions: [
      { partitionId: 'shardId-0000000000', discard: 0, last_transfer_offset: offset },
      { partitionId: 'shardId-0000000001', discard: 0, last_transfer_offset: 7 },
    ],
  });

  it('keeps a target whose partition reports -1 up, drops that field and warns once until it comes back', async () => {
    const clock = new ManualClock(START);
    const { logger, lines } = logCapture();
    const answers: Array<number | 'timeout'> = [-1, -1, 'timeout', -1, 5, 5, -1];
    const { client } = fakeClient(async (stream, name) => {
      const answer = answers.shift();
      if (answer === 'timeout') {
        throw new DisRequestError({ method: 'GET', path: '/x', reason: 'timeout', detail: 'no response within 10 ms' });
      }
      // What the real client does with the body: parse it at its clock's time, for the names it asked for.
      return parseDumpTask(body(answer ?? 0), { stream, task: name, nowMs: clock.now() });
    });
    const { p, store } = poller([{ stream: 's', task: 't' }], client, clock, { logger });
    await p.runCycle();
    const first = store.current().targets[0]!;
    expect([first.up, first.task?.partitions]).to.deep.equal([
      true,
      [
        { partitionId: 'shardId-0000000000', discard: 0 },
        { partitionId: 'shardId-0000000001', discard: 0, lastTransferOffset: 7 },
      ],
    ]);
    for (let cycle = 2; cycle <= 7; cycle++) await p.runCycle();
    const warning = {
      level: 'warn',
      projectId: 'p',
      stream: 's',
      task: 't',
      field: 'partitions[shardId-0000000000].last_transfer_offset',
      problem: 'is -1 (DIS\'s "none")',
      msg: WARNING,
    };
    // -1 three times with a failed poll between: one warning; gone for two polls, back: a second one
    expect(lines.map(({ msg }) => msg)).to.deep.equal([WARNING, 'poll failed', 'target recovered', WARNING]);
    expect([lines[0], lines[3]]).to.deep.equal([warning, warning]);
    expect(store.current().targets[0]?.up).to.equal(true);
  });

  it('warns once per stream and field about odd stream details, and again after they went away', async () => {
    const clock = new ManualClock(START);
    const { logger, lines } = logCapture();
    const echoes = ['other', 'other', 's', 'other'];
    const { client } = fakeClient(async () => task());
    const echoing: DisClient = {
      ...client,
      getStream: async (stream) => {
        const page = parseStreamDetailsPage(
          { stream_name: echoes.shift(), partitions: [{ partition_id: 0, sequence_number_range: '[0 : 5]' }] },
          { stream },
        );
        return { partitions: page.partitions, ...(page.fieldIssues ? { fieldIssues: page.fieldIssues } : {}) };
      },
    };
    const { p, store } = poller([{ stream: 's', task: 't' }], echoing, clock, { logger, lagRecords: true });
    for (let cycle = 1; cycle <= 4; cycle++) await p.runCycle();
    const warning = {
      level: 'warn',
      projectId: 'p',
      stream: 's',
      field: 'stream_name',
      problem: 'is "other" where "s" was asked for; the series keep "s"',
      msg: WARNING,
    };
    expect(lines).to.deep.equal([warning, warning]);
    expect(store.current().streams[0]?.details?.partitions).to.deep.equal([
      { partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 5 },
    ]);
  });
});

describe('Poller: discovery, sharding and stream details', () => {
  function pollerWith(client: DisClient, clock: ManualClock, extra: Partial<PollerOptions> = {}) {
    const store = new SnapshotStore();
    const p = new Poller({
      projects: [{ projectId: 'p', selectors: [{ stream: 's', task: '*' }], client }],
      shard: { index: 0, total: 1 },
      discoveryIntervalMs: 300_000,
      lagRecords: true,
      store,
      clock,
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      concurrency: 4,
      random: () => 0.5,
      ...extra,
    });
    return { p, store };
  }

  function listingClient(tasks: () => string[], calls: string[], clock?: ManualClock): DisClient {
    return {
      listStreams: async () => ['s'],
      async listDumpTasks(stream) {
        calls.push(`list ${stream}`);
        return tasks().map((taskName) => ({ taskName }));
      },
      ...NO_APPS,
      async getStream(stream) {
        calls.push(`stream ${stream}`);
        await flush(); // answers after the task calls: the cycle ends later than the tasks were polled
        await clock?.advance(5);
        return { partitions: [{ partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 100 }] };
      },
      async getDumpTask(stream, name) {
        calls.push(`task ${stream}/${name}`);
        await clock?.advance(7); // time passes during a cycle, as it does for real
        return {
          ...task(),
          partitions: [{ partitionId: 'shardId-0000000000', lastTransferOffset: 40 }],
        };
      },
      close() {},
    };
  }

  it('lists on discovery.interval, not every poll; a task that vanishes is dropped at the next discovery', async () => {
    const clock = new ManualClock(START);
    const calls: string[] = [];
    let tasks = ['a', 'b'];
    const { p, store } = pollerWith(
      listingClient(() => tasks, calls),
      clock,
    );
    await p.runCycle();
    expect(calls).to.deep.equal(['list s', 'task s/a', 'task s/b', 'stream s']);
    expect(store.current().targets.map((t) => t.target.task)).to.deep.equal(['a', 'b']);
    expect(store.current().discovery).to.deep.equal({ errors: 0, lastSuccessMs: START });
    tasks = ['b', 'c'];
    calls.length = 0;
    await clock.advance(60_000);
    await p.runCycle();
    expect(calls).to.deep.equal(['task s/a', 'task s/b', 'stream s']); // no list call yet
    await clock.advance(240_000);
    calls.length = 0;
    await p.runCycle();
    expect(calls).to.deep.equal(['list s', 'task s/b', 'task s/c', 'stream s']);
    expect(store.current().targets.map((t) => t.target.task)).to.deep.equal(['b', 'c']);
  });

  it('keeps the previous targets when discovery fails, and counts the failure', async () => {
    const clock = new ManualClock(START);
    const calls: string[] = [];
    let failing = false;
    const client = listingClient(() => ['a'], calls);
    const { p, store } = pollerWith(
      {
        ...client,
        async listDumpTasks(stream, signal) {
          if (failing) throw new DisHttpError({ method: 'GET', path: '/l', statusCode: 503 });
          return client.listDumpTasks(stream, signal);
        },
      },
      clock,
      { discoveryIntervalMs: 60_000 },
    );
    await p.runCycle();
    failing = true;
    await clock.advance(60_000);
    await p.runCycle();
    expect(store.current().targets.map((t) => t.target.task)).to.deep.equal(['a']);
    expect(store.current().discovery).to.deep.equal({
      errors: 1,
      lastSuccessMs: START,
      lastError: { reason: 'server_error', message: 'GET /l: HTTP 503', atMs: START + 60_000 },
    });
  });

  it('fetches each stream once per cycle and tracks each joined partition', async () => {
    const clock = new ManualClock(START);
    const calls: string[] = [];
    const { p, store } = pollerWith(
      listingClient(() => ['a', 'b'], calls, clock),
      clock,
    );
    await p.runCycle();
    expect(calls.filter((c) => c.startsWith('stream'))).to.deep.equal(['stream s']);
    expect(store.current().streams).to.deep.equal([
      {
        projectId: 'p',
        stream: 's',
        lastSuccessMs: START + 19, // every call moved the clock: 7 + 7 + 5
        details: { partitions: [{ partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 100 }] },
      },
    ]);
    expect(store.current().targets[0]?.tracks).to.deep.equal({
      // observed at the task's own poll time, not at the end of the cycle
      'shardId-0000000000': { recent: [{ atMs: START + 14, offset: 40, lagRecords: 60 }], waitingSinceMs: START + 14 },
    });
  });

  it('polls only the targets of its own shard', async () => {
    const clock = new ManualClock(START);
    const seen: string[][] = [];
    for (const index of [0, 1]) {
      const calls: string[] = [];
      const tasks = Array.from({ length: 10 }, (_, i) => `t${i}`);
      const { p, store } = pollerWith(
        listingClient(() => tasks, calls),
        clock,
        {
          shard: { index, total: 2 },
          lagRecords: false,
        },
      );
      await p.runCycle();
      seen.push(store.current().targets.map((t) => t.target.task));
    }
    expect([...seen[0]!, ...seen[1]!].sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
    expect(seen[0]!.filter((t) => seen[1]!.includes(t))).to.deep.equal([]);
    expect(seen[0]!.length).to.be.greaterThan(0);
    expect(seen[1]!.length).to.be.greaterThan(0);
  });
});

describe('Poller.reconfigure (a reload)', () => {
  const settings = (client: DisClient, targets: Target[], intervalMs = 60_000) => ({
    projects: [{ projectId: 'p', selectors: targets, client }],
    shard: { index: 0, total: 1 },
    intervalMs,
    concurrency: 8,
    discoveryIntervalMs: 300_000,
    lagRecords: false,
  });

  it('polls the new target list from the next cycle on; the cycle under way keeps the old one', async () => {
    const clock = new ManualClock(START);
    let release: (() => void) | undefined;
    const { client, calls } = fakeClient(async (_s, t) => {
      if (t === 'slow') await new Promise<void>((resolve) => (release = resolve));
      return task();
    });
    const { p, store } = poller(
      [
        { stream: 's', task: 'slow' },
        { stream: 's', task: 'kept' },
      ],
      client,
      clock,
    );
    const underWay = p.runCycle();
    await until(() => release !== undefined);
    p.reconfigure(
      settings(client, [
        { stream: 's', task: 'kept' },
        { stream: 's', task: 'added' },
      ]),
    );
    release!();
    await underWay;
    expect(store.current().targets.map((t) => t.target.task)).to.deep.equal(['slow', 'kept']);
    await p.runCycle();
    expect(calls).to.deep.equal(['s/slow', 's/kept', 's/kept', 's/added']);
    expect(store.current().targets.map((t) => [t.target.task, t.lastSuccessMs])).to.deep.equal([
      ['kept', START],
      ['added', START],
    ]);
  });

  it('counts a new interval from the start of the last cycle: shorter starts the next one early, longer later', async () => {
    const clock = new ManualClock(START);
    const { client, calls } = fakeClient(async () => task());
    const targets = [{ stream: 's', task: 't' }];
    const { p, store } = poller(targets, client, clock);
    p.start();
    await until(() => store.current().cyclesCompleted === 1);
    await clock.advance(5_000);
    p.reconfigure(settings(client, targets, 60_000));
    await flush();
    expect([clock.sleeping, clock.nextWake]).to.deep.equal([1, START + 60_000]);
    p.reconfigure(settings(client, targets, 10_000));
    await until(() => clock.nextWake === START + 10_000);
    expect(clock.sleeping).to.equal(1);
    await clock.advance(5_000);
    await until(() => store.current().cyclesCompleted === 2);
    expect(calls).to.have.length(2);
    await clock.advance(5_000);
    p.reconfigure(settings(client, targets, 120_000));
    await until(() => clock.nextWake === START + 130_000);
    p.reconfigure(settings(client, targets, 1_000));
    // already overdue: the next cycle starts at once
    await until(() => store.current().cyclesCompleted === 3);
    expect(clock.now()).to.equal(START + 15_000);
    await p.stop();
    expect(p.isAlive()).to.equal(false);
  });

  it('discovers a changed selector list at the next cycle; a kept selector whose listing fails keeps its tasks', async () => {
    const clock = new ManualClock(START);
    const calls: string[] = [];
    const failing = new Set<string>();
    const tasksOf: Record<string, string[]> = { s: ['a', 'b'], s2: ['x'] };
    const client: DisClient = {
      listStreams: async () => Object.keys(tasksOf),
      async listDumpTasks(stream) {
        calls.push(`list ${stream}`);
        if (failing.has(stream)) throw new DisHttpError({ method: 'GET', path: '/l', statusCode: 503 });
        return (tasksOf[stream] ?? []).map((taskName) => ({ taskName }));
      },
      getStream: async () => ({ partitions: [] }),
      ...NO_APPS,
      getDumpTask: async () => task(),
      close() {},
    };
    const { p, store } = poller([{ stream: 's', task: '*' }], client, clock);
    const tasks = () => store.current().targets.map((t) => `${t.target.stream}/${t.target.task}`);
    await p.runCycle();
    expect([calls, tasks()]).to.deep.equal([['list s'], ['s/a', 's/b']]);

    failing.add('s');
    p.reconfigure(
      settings(client, [
        { stream: 's', task: '*' },
        { stream: 's2', task: '*' },
      ]),
    );
    await clock.advance(60_000); // well within discovery.interval (5m)
    await p.runCycle();
    expect(calls).to.deep.equal(['list s', 'list s', 'list s2']);
    expect(tasks()).to.deep.equal(['s/a', 's/b', 's2/x']);
    expect(store.current().discovery?.errors).to.equal(1);

    p.reconfigure(settings(client, [{ stream: 's2', task: '*' }]));
    await p.runCycle();
    expect(calls.slice(3)).to.deep.equal(['list s2']);
    expect(tasks()).to.deep.equal(['s2/x']);

    // an unchanged list is not listed again before discovery.interval
    p.reconfigure(settings(client, [{ stream: 's2', task: '*' }], 30_000));
    await p.runCycle();
    expect(calls.slice(4)).to.deep.equal([]);

    p.reconfigure(settings(client, [{ stream: 's', task: 'a' }]));
    await p.runCycle();
    expect([calls.slice(4), tasks(), store.current().discovery]).to.deep.equal([[], ['s/a'], undefined]);
  });
});
