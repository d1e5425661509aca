import { expect } from 'chai';
import { pino } from 'pino';
import type { AppSelector, Target } from '../../src/config/types.js';
import type { DisClient } from '../../src/dis/client.js';
import { DisHttpError } from '../../src/dis/errors.js';
import type { AppListing, ConsumerState } from '../../src/dis/types.js';
import { Poller, type PollerSettings } from '../../src/poll/poller.js';
import { SnapshotStore } from '../../src/poll/store.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock } from '../helpers/manual-clock.js';

// The poller's consumer apps (docs/configuration.md ("Consumer apps")): the app listing once per discovery interval,
// one consumption-state call per owned pair and cycle in the dump tasks' queue, stream details for app streams, and
// what a failed poll keeps. Over real HTTP: test/integration/apps.test.ts.

const START = Date.UTC(2024, 0, 1);

const STATE: ConsumerState = {
  partitions: [{ partitionId: 'shardId-0000000000', hasCheckpoint: true, checkpoint: 5, latestOffset: 9 }],
};

/** A DIS with one stream `s` (one task `t`), the apps of `listing`, and pairs whose consumption fails as `failing` says. */
function fakeDis(listing: () => AppListing, failing: Map<string, DisHttpError>) {
  const calls: string[] = [];
  const client: DisClient = {
    listStreams: async () => ['s'],
    listDumpTasks: async () => [{ taskName: 't' }],
    async getStream(stream) {
      calls.push(`stream ${stream}`);
      return { partitions: [] };
    },
    async getDumpTask(stream, task) {
      calls.push(`task ${stream}/${task}`);
      return { taskId: '', destinationType: '', destination: '', partitions: [] };
    },
    async listApps() {
      calls.push('list apps');
      return listing();
    },
    async getConsumerState(app, stream) {
      calls.push(`app ${app}/${stream}`);
      const failure = failing.get(`${app}/${stream}`);
      if (failure !== undefined) throw failure;
      return STATE;
    },
    close() {},
  };
  return { client, calls };
}

const LISTING: AppListing = {
  apps: [
    { appName: 'billing', appId: 'id-billing', streams: ['s', 'clicks'] },
    { appName: 'audit', appId: 'id-audit', streams: ['s'] },
  ],
};

function start(
  client: DisClient,
  apps: readonly AppSelector[],
  options: { targets?: Target[]; shard?: PollerSettings['shard']; logger?: pino.Logger } = {},
) {
  const clock = new ManualClock(START);
  const store = new SnapshotStore();
  const settings: PollerSettings = {
    projects: [{ projectId: 'p', selectors: options.targets ?? [], apps, client }],
    shard: options.shard ?? { index: 0, total: 1 },
    intervalMs: 60_000,
    concurrency: 2,
    discoveryIntervalMs: 300_000,
    lagRecords: true,
  };
  const p = new Poller({ ...settings, store, clock, logger: options.logger ?? pino({ level: 'silent' }) });
  return { p, store, clock, settings };
}

const pairsOf = (store: SnapshotStore) =>
  (store.current().apps ?? []).map((a) => `${a.pair.app}/${a.pair.stream} ${a.up ? 'up' : 'down'} ${a.appId ?? '-'}`);

describe('Poller: consumer apps', () => {
  it('makes no app call at all, and keeps apps out of the snapshot, without apps', async () => {
    const { client, calls } = fakeDis(() => LISTING, new Map());
    const { p, store } = start(client, [], { targets: [{ stream: 's', task: 't' }] });
    await p.runCycle();
    expect(calls).to.deep.equal(['task s/t', 'stream s']);
    expect(Object.hasOwn(store.current(), 'apps')).to.equal(false);
    expect(store.current().discovery).to.equal(undefined);
  });

  it('lists the apps once per discovery interval and polls each pair and its stream once per cycle', async () => {
    const { client, calls } = fakeDis(() => LISTING, new Map());
    const apps = [
      { app: 'billing', stream: '*' },
      { app: '*', stream: 's' },
      { app: 'gone', stream: 's' },
    ];
    const { p, store, clock } = start(client, apps, { targets: [{ stream: 's', task: 't' }] });
    await p.runCycle();
    // The stream `s` of the task and of the apps is fetched once; `clicks`, an app's only, too.
    expect(calls).to.deep.equal([
      'list apps',
      'task s/t',
      'stream s',
      'stream clicks',
      'app billing/s',
      'app billing/clicks',
      'app audit/s',
      'app gone/s',
    ]);
    expect(pairsOf(store)).to.deep.equal([
      'billing/s up id-billing',
      'billing/clicks up id-billing',
      'audit/s up id-audit',
      'gone/s up -',
    ]);
    expect(store.current().apps?.[0]?.state).to.equal(STATE);
    expect(store.current().discovery).to.deep.equal({ errors: 0, lastSuccessMs: START });
    calls.length = 0;
    await clock.advance(60_000);
    await p.runCycle();
    expect(calls.filter((call) => call.startsWith('list'))).to.deep.equal([]);
    expect(calls.filter((call) => call.startsWith('app'))).to.have.lengthOf(4);
    await clock.advance(240_000);
    calls.length = 0;
    await p.runCycle();
    expect(calls[0]).to.equal('list apps');
  });

  it("keeps a failing pair's state until staleAfter (up 0), drops it at once on not_found, and logs each once", async () => {
    const failing = new Map<string, DisHttpError>();
    const { client } = fakeDis(() => LISTING, failing);
    const { logger, lines } = logCapture();
    const { p, store, clock } = start(
      client,
      [
        { app: 'billing', stream: 's' },
        { app: 'audit', stream: 's' },
      ],
      { logger },
    );
    await p.runCycle();
    failing.set('billing/s', new DisHttpError({ method: 'GET', path: '/x', statusCode: 503 }));
    failing.set('audit/s', new DisHttpError({ method: 'GET', path: '/y', statusCode: 400, apiCode: 'DIS.4332' }));
    for (let i = 0; i < 2; i++) {
      await clock.advance(60_000);
      await p.runCycle();
    }
    const [billing, audit] = store.current().apps!;
    expect(billing).to.deep.include({ up: false, state: STATE, lastSuccessMs: START, errors: { server_error: 2 } });
    expect(audit).to.deep.include({ up: false, errors: { not_found: 2 } });
    expect(audit?.state).to.equal(undefined);
    expect(audit?.lastError).to.deep.equal({
      reason: 'not_found',
      message: 'GET /y: HTTP 400 DIS.4332',
      atMs: START + 120_000,
    });
    failing.clear();
    await clock.advance(60_000);
    await p.runCycle();
    expect(pairsOf(store)).to.deep.equal(['billing/s up id-billing', 'audit/s up id-audit']);
    expect(store.current().apps?.[0]?.errors).to.deep.equal({ server_error: 2 });
    expect(lines.map((line) => [line['msg'], line['app'], line['reason']])).to.deep.equal([
      ['app poll failed', 'billing', 'server_error'],
      ['app poll failed', 'audit', 'not_found'],
      ['app recovered', 'billing', undefined],
      ['app recovered', 'audit', undefined],
    ]);
  });

  it('keeps the last listing when a listing fails, and counts the failure as a discovery error', async () => {
    let fail = false;
    const { client } = fakeDis(() => {
      if (fail) throw new DisHttpError({ method: 'GET', path: '/apps', statusCode: 500 });
      return LISTING;
    }, new Map());
    const { p, store, clock } = start(client, [{ app: '*', stream: '*' }]);
    await p.runCycle();
    fail = true;
    await clock.advance(300_000);
    await p.runCycle();
    expect(pairsOf(store)).to.deep.equal([
      'billing/s up id-billing',
      'billing/clicks up id-billing',
      'audit/s up id-audit',
    ]);
    expect(store.current().discovery).to.deep.include({ errors: 1, lastSuccessMs: START });
  });

  it('polls only the apps of its shard, every pair of an app on the same replica', async () => {
    const { client } = fakeDis(() => LISTING, new Map());
    const owned = await Promise.all(
      [0, 1, 2].map(async (index) => {
        const { p, store } = start(client, [{ app: '*', stream: '*' }], { shard: { index, total: 3 } });
        await p.runCycle();
        return (store.current().apps ?? []).map((a) => `${a.pair.app}/${a.pair.stream}`);
      }),
    );
    expect(owned.flat().sort()).to.deep.equal(['audit/s', 'billing/clicks', 'billing/s']);
    const shardsOfApp = (app: string) =>
      owned.flatMap((pairs, i) => (pairs.some((p) => p.startsWith(`${app}/`)) ? [i] : []));
    expect([shardsOfApp('billing'), shardsOfApp('audit')].map((shards) => shards.length)).to.deep.equal([1, 1]);
  });

  it('lists the apps again at the next cycle after a reload changes them, and forgets removed apps', async () => {
    const { client, calls } = fakeDis(() => LISTING, new Map());
    const { p, store, clock, settings } = start(client, [{ app: 'audit', stream: 's' }]);
    await p.runCycle();
    p.reconfigure({ ...settings, projects: [{ ...settings.projects[0]!, apps: [{ app: 'billing', stream: '*' }] }] });
    calls.length = 0;
    await clock.advance(60_000);
    await p.runCycle();
    expect(calls[0]).to.equal('list apps');
    expect(pairsOf(store)).to.deep.equal(['billing/s up id-billing', 'billing/clicks up id-billing']);
    p.reconfigure({ ...settings, projects: [{ ...settings.projects[0]!, apps: [] }] });
    await clock.advance(60_000);
    await p.runCycle();
    expect(Object.hasOwn(store.current(), 'apps')).to.equal(false);
  });
});
