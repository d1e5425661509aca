import { expect } from 'chai';
import { pino } from 'pino';
import type { Target, TargetSelector } from '../../src/config/types.js';
import type { DisClient } from '../../src/dis/client.js';
import type { DumpTask } from '../../src/dis/types.js';
import { Poller, type PollProject } from '../../src/poll/poller.js';
import { ProjectClients } from '../../src/poll/project-clients.js';
import { SnapshotStore } from '../../src/poll/store.js';
import { NO_AUTH } from '../helpers/exporter.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';
import { NO_APPS } from '../helpers/no-apps.js';

// The poller and the client set with several projects (docs/configuration.md ("Several projects")): each project
// polled with its own client and its own concurrency, its streams, tracks and discoveries its own.

const START = Date.UTC(2024, 0, 1);

/** A project's DIS: one stream `s` with one partition whose end offset is `end`, its tasks dumped up to `offset`. */
function projectDis(end: number, offset: number, tasks: readonly string[], calls: string[]): DisClient {
  const task = (): DumpTask => ({
    taskId: '',
    destinationType: 'OBS',
    destination: 'b',
    partitions: [{ partitionId: 'shardId-0000000000', lastTransferOffset: offset }],
  });
  return {
    listStreams: async () => ['s'],
    async listDumpTasks(stream) {
      calls.push(`list ${stream}`);
      return tasks.map((taskName) => ({ taskName }));
    },
    ...NO_APPS,
    async getStream(stream) {
      calls.push(`stream ${stream}`);
      return { partitions: [{ partitionId: 'shardId-0000000000', startOffset: 0, endOffset: end }] };
    },
    async getDumpTask(stream, name) {
      calls.push(`task ${stream}/${name}`);
      return task();
    },
    close() {},
  };
}

function poller(projects: readonly PollProject[], clock: ManualClock, concurrency = 4) {
  const store = new SnapshotStore();
  const p = new Poller({
    projects,
    shard: { index: 0, total: 1 },
    intervalMs: 60_000,
    concurrency,
    discoveryIntervalMs: 300_000,
    lagRecords: true,
    store,
    clock,
    logger: pino({ level: 'silent' }),
    random: () => 0.5,
  });
  return { p, store };
}

const wildcard: TargetSelector[] = [{ stream: 's', task: '*' }];

describe('Poller with several projects', () => {
  it('discovers and polls each project with its own client, the same stream and task kept apart', async () => {
    const clock = new ManualClock(START);
    const aCalls: string[] = [];
    const bCalls: string[] = [];
    const { p, store } = poller(
      [
        { projectId: 'a', selectors: wildcard, client: projectDis(100, 40, ['t'], aCalls) },
        { projectId: 'b', selectors: wildcard, client: projectDis(9000, 1000, ['t', 'u'], bCalls) },
      ],
      clock,
    );
    await p.runCycle();
    expect(aCalls).to.deep.equal(['list s', 'task s/t', 'stream s']);
    expect(bCalls).to.deep.equal(['list s', 'task s/t', 'task s/u', 'stream s']);
    const snapshot = store.current();
    expect(snapshot.targets.map((t) => `${t.projectId} ${t.target.stream}/${t.target.task}`)).to.deep.equal([
      'a s/t',
      'b s/t',
      'b s/u',
    ]);
    expect(snapshot.streams.map((s) => [s.projectId, s.stream, s.details?.partitions[0]?.endOffset])).to.deep.equal([
      ['a', 's', 100],
      ['b', 's', 9000],
    ]);
    // Each track joins its own project's stream: 100 - 40 waiting in a, 9000 - 1000 in b.
    const waiting = snapshot.targets.map((t) => t.tracks?.['shardId-0000000000']?.recent[0]?.lagRecords);
    expect(waiting).to.deep.equal([60, 8000, 8000]);
    expect(snapshot.discovery).to.deep.equal({ errors: 0, lastSuccessMs: START });
  });

  it('gives each project its own poll.concurrency: one whose requests hang holds up no other', async () => {
    const clock = new ManualClock(START);
    const calls: string[] = [];
    let release: (() => void) | undefined;
    const hanging: DisClient = {
      ...projectDis(10, 10, [], []),
      async getDumpTask(stream, name) {
        calls.push(`a ${stream}/${name}`);
        await new Promise<void>((resolve) => (release = resolve));
        return { taskId: '', destinationType: 'OBS', destination: 'b', partitions: [] };
      },
    };
    const pairs = (names: string[]): Target[] => names.map((task) => ({ stream: 's', task }));
    const { p, store } = poller(
      [
        { projectId: 'a', selectors: pairs(['x', 'y']), client: hanging },
        { projectId: 'b', selectors: pairs(['x', 'y', 'z']), client: projectDis(10, 10, [], calls) },
      ],
      clock,
      1,
    );
    const cycle = p.runCycle();
    for (let i = 0; i < 50; i++) await flush();
    // a waits on its one request in flight; b has gone through all of its own, one at a time
    expect(calls).to.deep.equal(['a s/x', 'task s/x', 'task s/y', 'task s/z', 'stream s']);
    expect(store.current().cyclesCompleted).to.equal(0);
    release!();
    for (let i = 0; i < 50 && calls.length < 6; i++) await flush();
    release!();
    await cycle;
    expect(store.current().targets.map((t) => `${t.projectId} ${t.target.task} ${t.up}`)).to.deep.equal([
      'a x true',
      'a y true',
      'b x true',
      'b y true',
      'b z true',
    ]);
  });

  it('forgets what a removed project discovered, and lists a project added by a reload at once', async () => {
    const clock = new ManualClock(START);
    const aCalls: string[] = [];
    const bCalls: string[] = [];
    const a: PollProject = { projectId: 'a', selectors: wildcard, client: projectDis(10, 10, ['t'], aCalls) };
    const b: PollProject = { projectId: 'b', selectors: wildcard, client: projectDis(10, 10, ['v'], bCalls) };
    const { p, store } = poller([a], clock);
    await p.runCycle();
    const settings = (projects: PollProject[]) => ({
      projects,
      shard: { index: 0, total: 1 },
      intervalMs: 60_000,
      concurrency: 4,
      discoveryIntervalMs: 300_000,
      lagRecords: true,
    });
    p.reconfigure(settings([a, b]));
    await clock.advance(60_000);
    await p.runCycle();
    expect(bCalls).to.deep.equal(['list s', 'task s/v', 'stream s']);
    expect(store.current().targets.map((t) => `${t.projectId} ${t.target.task}`)).to.deep.equal(['a t', 'b v']);
    p.reconfigure(settings([b]));
    await clock.advance(60_000);
    await p.runCycle();
    expect(store.current().targets.map((t) => `${t.projectId} ${t.target.task}`)).to.deep.equal(['b v']);
    expect(store.current().streams.map((s) => s.projectId)).to.deep.equal(['b']);
  });
});

describe('ProjectClients', () => {
  const project = (projectId: string, endpoint: string) => ({
    projectId,
    endpoint,
    region: 'cn-north-4',
    targets: [],
    apps: [],
    auth: { ...NO_AUTH, accessKey: 'AK', secretKey: 'SK' },
    authKey: 'auth',
  });

  it('keeps a client while the project and endpoint stay, and closes a replaced one only after the cycle', () => {
    const made: string[] = [];
    const closed: string[] = [];
    const clients = new ProjectClients((p) => {
      const name = `${p.projectId}@${p.endpoint}`;
      made.push(name);
      return { ...projectDis(1, 1, [], []), close: () => closed.push(name) };
    });
    clients.update([project('a', 'http://one'), project('b', 'http://one')]);
    const a = clients.clientOf('a');
    clients.update([project('a', 'http://one'), project('b', 'http://two'), project('c', 'http://one')]);
    expect(clients.clientOf('a')).to.equal(a);
    expect(made).to.deep.equal(['a@http://one', 'b@http://one', 'b@http://two', 'c@http://one']);
    expect(closed).to.deep.equal([]);
    clients.closeRetired();
    expect(closed).to.deep.equal(['b@http://one']);
    clients.update([project('c', 'http://one')]);
    expect(() => clients.clientOf('a')).to.throw('no DIS client for project a');
    clients.close();
    expect(closed).to.deep.equal(['b@http://one', 'a@http://one', 'b@http://two', 'c@http://one']);
  });

  it('never closes a client that is shared with a project still current', () => {
    let closes = 0;
    const shared: DisClient = { ...projectDis(1, 1, [], []), close: () => closes++ };
    const clients = new ProjectClients(() => shared);
    clients.update([project('a', 'http://one'), project('b', 'http://one')]);
    clients.update([project('b', 'http://one')]);
    clients.closeRetired();
    expect(closes).to.equal(0);
    clients.close();
    expect(closes).to.equal(1);
  });
});
