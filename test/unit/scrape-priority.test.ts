import { expect } from 'chai';
import type { DisClient } from '../../src/dis/client.js';
import { ScrapeFirstClient } from '../../src/poll/scrape-first-client.js';
import { MAX_HOLD_MS, ScrapePriority } from '../../src/poll/scrape-priority.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);

/** A scrape body that produces one chunk each time `next` is called from outside. */
function controlledBody(): { chunks: AsyncGenerator<string>; next: () => void; end: () => void } {
  const steps: Array<(more: boolean) => void> = [];
  const wait = (): Promise<boolean> => new Promise((resolve) => steps.push(resolve));
  return {
    chunks: (async function* () {
      while (await wait()) yield 'chunk';
    })(),
    next: () => steps.shift()?.(true),
    end: () => steps.shift()?.(false),
  };
}

/** Starts rendering a scrape through `priority` (it holds requests back from now on); `end` finishes it. */
async function startScrape(priority: ScrapePriority): Promise<{ end: () => Promise<void> }> {
  const body = controlledBody();
  const reading = (async () => {
    for await (const _ of priority.first(body.chunks)) {
      // rendering
    }
  })();
  await flush();
  return {
    end: async () => {
      body.end();
      await reading;
    },
  };
}

describe('ScrapePriority: a scrape goes before new DIS requests', () => {
  it('lets a request through at once when no scrape is being rendered', async () => {
    const priority = new ScrapePriority(new ManualClock(T0));
    let passed = false;
    void priority.turn().then(() => (passed = true));
    await flush();
    expect(passed).to.equal(true);
  });

  it('holds requests while a scrape is rendered, and lets them go when it ends', async () => {
    const clock = new ManualClock(T0);
    const priority = new ScrapePriority(clock);
    const body = controlledBody();
    const reading = (async () => {
      for await (const chunk of priority.first(body.chunks)) expect(chunk).to.equal('chunk');
    })();
    await flush();
    let passed = 0;
    for (let i = 0; i < 3; i++) void priority.turn().then(() => (passed += 1));
    body.next();
    await flush();
    expect(passed).to.equal(0);
    body.end();
    await reading;
    await flush();
    expect(passed).to.equal(3);
    expect(clock.sleeping).to.equal(0);
  });

  it(`holds requests for ${MAX_HOLD_MS} ms at most, however long the scrape takes`, async () => {
    const clock = new ManualClock(T0);
    const priority = new ScrapePriority(clock);
    const slowScrape = await startScrape(priority);
    let passed = false;
    void priority.turn().then(() => (passed = true));
    await clock.advance(MAX_HOLD_MS - 1);
    expect(passed).to.equal(false);
    await clock.advance(1);
    await flush();
    expect(passed).to.equal(true);
    // later requests of the same scrape are not held again
    let later = false;
    void priority.turn().then(() => (later = true));
    await flush();
    expect(later).to.equal(true);
    await slowScrape.end();
  });

  it('leaves polling at least half of the time: a scrape soon after a hold takes turns instead', async () => {
    const clock = new ManualClock(T0);
    const priority = new ScrapePriority(clock);
    const scrapeFor = async (ms: number): Promise<void> => {
      const scrape = await startScrape(priority);
      await clock.advance(ms);
      await scrape.end();
    };
    const held = async (): Promise<boolean> => {
      const scrape = await startScrape(priority);
      let passed = false;
      void priority.turn().then(() => (passed = true));
      await flush();
      const blocked = !passed;
      await scrape.end();
      return blocked;
    };
    await scrapeFor(400); // held requests for 400 ms
    await clock.advance(399);
    expect(await held()).to.equal(false);
    await clock.advance(1);
    expect(await held()).to.equal(true);
  });

  it('gives scrapes that overlap one hold of at most a second in all', async () => {
    const clock = new ManualClock(T0);
    const priority = new ScrapePriority(clock);
    const first = controlledBody();
    const second = controlledBody();
    const readings = [first, second].map((body) =>
      (async () => {
        for await (const _ of priority.first(body.chunks)) {
          // rendering
        }
      })(),
    );
    await flush();
    await clock.advance(600);
    first.end();
    await readings[0];
    let passed = false;
    void priority.turn().then(() => (passed = true));
    await clock.advance(399);
    expect(passed).to.equal(false);
    await clock.advance(1);
    await flush();
    expect(passed).to.equal(true);
    second.end();
    await readings[1];
  });

  it('releases held requests when a scrape is abandoned (the scraper hung up)', async () => {
    const priority = new ScrapePriority(new ManualClock(T0));
    const body = controlledBody();
    const iterator = priority.first(body.chunks)[Symbol.asyncIterator]();
    const first = iterator.next();
    body.next();
    await first;
    let passed = false;
    void priority.turn().then(() => (passed = true));
    await flush();
    expect(passed).to.equal(false);
    const returned = iterator.return(undefined);
    body.end();
    await returned;
    await flush();
    expect(passed).to.equal(true);
  });
});

describe('ScrapeFirstClient: the DIS client whose calls wait their turn behind scrapes', () => {
  it('gates the DIS calls of a client and passes everything else through', async () => {
    const clock = new ManualClock(T0);
    const priority = new ScrapePriority(clock);
    const calls: string[] = [];
    const client: DisClient = {
      getDumpTask: async (stream, task) => {
        calls.push(`task ${stream}/${task}`);
        return { taskId: `${stream}/${task}`, destinationType: '', destination: '', partitions: [] };
      },
      getStream: async (stream) => {
        calls.push(`stream ${stream}`);
        return { partitions: [{ partitionId: stream }] };
      },
      listStreams: async () => ['s'],
      listDumpTasks: async () => [],
      listApps: async () => ({ apps: [] }),
      getConsumerState: async () => ({ partitions: [] }),
      cooldownUntilMs: () => 42,
      close: () => calls.push('close'),
    };
    const gated = new ScrapeFirstClient(client, priority);
    const scrape = await startScrape(priority);
    const task = gated.getDumpTask('s', 't');
    const stream = gated.getStream('s');
    expect(gated.cooldownUntilMs?.()).to.equal(42);
    gated.close();
    await flush();
    expect(calls).to.deep.equal(['close']);
    await scrape.end();
    expect((await task).taskId).to.equal('s/t');
    expect((await stream).partitions).to.deep.equal([{ partitionId: 's' }]);
    expect(calls).to.deep.equal(['close', 'task s/t', 'stream s']);
  });

  it('holds each of the six DIS calls, with its arguments, until the scrape ends', async () => {
    const priority = new ScrapePriority(new ManualClock(T0));
    const calls: string[] = [];
    const signal = new AbortController().signal;
    const call = { deadlineMs: T0 + 60_000 };
    const seen = (name: string, passedSignal: AbortSignal | undefined, options: object | undefined): void => {
      calls.push(`${name} ${passedSignal === signal && options === call ? 'with' : 'without'} signal and options`);
    };
    const client: DisClient = {
      getDumpTask: async (_stream, _task, s, o) => {
        seen('getDumpTask', s, o);
        return { taskId: '', destinationType: '', destination: '', partitions: [] };
      },
      getStream: async (_stream, s, o) => {
        seen('getStream', s, o);
        return { partitions: [] };
      },
      listStreams: async (s, o) => {
        seen('listStreams', s, o);
        return [];
      },
      listDumpTasks: async (_stream, s, o) => {
        seen('listDumpTasks', s, o);
        return [];
      },
      listApps: async (s, o) => {
        seen('listApps', s, o);
        return { apps: [] };
      },
      getConsumerState: async (_app, _stream, s, o) => {
        seen('getConsumerState', s, o);
        return { partitions: [] };
      },
      close: () => undefined,
    };
    const gated = new ScrapeFirstClient(client, priority);
    const scrape = await startScrape(priority);
    const pending = Promise.all([
      gated.getDumpTask('s', 't', signal, call),
      gated.getStream('s', signal, call),
      gated.listStreams(signal, call),
      gated.listDumpTasks('s', signal, call),
      gated.listApps(signal, call),
      gated.getConsumerState('a', 's', signal, call),
    ]);
    await flush();
    expect(calls).to.deep.equal([]);
    expect(gated.cooldownUntilMs()).to.equal(undefined);
    await scrape.end();
    await pending;
    expect(calls).to.deep.equal([
      'getDumpTask with signal and options',
      'getStream with signal and options',
      'listStreams with signal and options',
      'listDumpTasks with signal and options',
      'listApps with signal and options',
      'getConsumerState with signal and options',
    ]);
  });
});
