import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import { run, type CliIo } from '../../src/cli.js';
import type { RunningServer } from '../../src/http/server.js';
import { createFakeDisApp, parseScenario, type FakeDisControl } from '../../src/simulator/fake-dis.js';
import { cyclesCompleted, scrape, seriesOf, startExporterOnFile, withoutDurations } from '../helpers/exporter.js';
import { golden } from '../helpers/golden.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';

// Several projects in one exporter (docs/configuration.md ("Several projects")), over real HTTP: two simulated
// regions, each a fake DIS with its own project ID, AK/SK and address, and the exporter with `projects:` of both.

const T0 = Date.UTC(2024, 0, 1);
const START = T0 + 90_000;
const NORTH = {
  projectId: '0123456789abcdef0123456789abcdef',
  keys: { accessKey: 'NORTHACCESSKEY000000', secretKey: 'north-sk' },
};
const SOUTH = {
  projectId: 'fedcba9876543210fedcba9876543210',
  keys: { accessKey: 'SOUTHACCESSKEY000000', secretKey: 'south-sk' },
};
const obs = { destinationType: 'OBS', destination: { obs_bucket_path: 'archive', deliver_time_interval: 60 } };

/** cn-north-4: orders and clicks, both dumping; the same stream and task names as in ap-southeast-1. */
const NORTH_SCENARIO = {
  projectId: NORTH.projectId,
  credentials: [NORTH.keys],
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      partitions: [{ initialRecords: 1000, recordsPerSecond: 10 }],
      tasks: [{ name: 'orders-to-obs', id: 'north-orders', ...obs }],
    },
    {
      name: 'clicks',
      partitions: [{ initialRecords: 500, recordsPerSecond: 1 }],
      tasks: [{ name: 'clicks-to-dli', id: 'north-clicks', ...obs }],
    },
  ],
};

/** ap-southeast-1: an orders stream of another size whose dump is stuck, and a payments stream. */
const SOUTH_SCENARIO = {
  projectId: SOUTH.projectId,
  credentials: [SOUTH.keys],
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      partitions: [{ initialRecords: 50_000, recordsPerSecond: 0 }],
      tasks: [
        {
          name: 'orders-to-obs',
          id: 'south-orders',
          ...obs,
          partitions: { 'shardId-0000000000': { stalled: true, sinceMsAgo: 0, behindRecords: 2000 } },
        },
      ],
    },
    {
      name: 'payments',
      partitions: [{ initialRecords: 10, recordsPerSecond: 0 }],
      tasks: [{ name: 'payments-to-obs', id: 'south-payments', ...obs }],
    },
  ],
};

/** One request as the region's server saw it. */
type Seen = Readonly<{ host: string; accessKey: string; path: string }>;

/** A simulated region: a fake DIS on its own loopback address, and every request it received. */
type Region = Readonly<{ url: string; host: string; control: FakeDisControl; seen: Seen[] }>;

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

describe('several projects in one exporter (real HTTP against two simulated regions)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startRegion(scenario: unknown, address: string, clock: ManualClock): Promise<Region> {
    const { app, control } = createFakeDisApp({ scenario: parseScenario(scenario), clock });
    const seen: Seen[] = [];
    const server: Server = createServer((req, res) => {
      const accessKey = /Access=([^\s,]+)/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      seen.push({ host: req.headers.host ?? '', accessKey, path: req.url ?? '' });
      app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const host = `${address}:${(server.address() as AddressInfo).port}`;
    return { url: `http://${host}`, host, control, seen };
  }

  type Harness = Readonly<{
    clock: ManualClock;
    north: Region;
    south: Region;
    app: App;
    server: RunningServer;
    writeConfig: (projects: readonly unknown[]) => void;
  }>;

  /** Both regions, and the exporter on a config file of `projects` (both by default), loaded as the CLI loads it. */
  async function setUp(projects?: (north: Region, south: Region) => readonly unknown[]): Promise<Harness> {
    const clock = new ManualClock(START);
    const north = await startRegion(NORTH_SCENARIO, '127.0.0.1', clock);
    const south = await startRegion(SOUTH_SCENARIO, '127.0.0.2', clock);
    const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-projects-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    const writeConfig = (list: readonly unknown[]): void =>
      writeFileSync(
        file,
        JSON.stringify({
          server: { host: '127.0.0.1', port: 0 },
          log: { level: 'fatal' },
          // The top-level auth: the north project has none of its own.
          auth: NORTH.keys,
          projects: list,
          poll: { interval: '60s', timeout: '2s', concurrency: 4, retries: 0, maxRequestsPerSecond: 0 },
          lag: { stallAfter: '60s' },
        }),
      );
    writeConfig(projects?.(north, south) ?? bothProjects(north, south));
    const { app, server } = await startExporterOnFile(file, clock);
    cleanups.push(() => app.stop());
    return { clock, north, south, app, server, writeConfig };
  }

  function northProject(north: Region) {
    return {
      projectId: NORTH.projectId,
      endpoint: north.url,
      region: 'cn-north-4',
      targets: [
        { stream: 'orders', task: 'orders-to-obs' },
        { stream: 'clicks', task: '*' },
      ],
    };
  }

  function southProject(south: Region) {
    return {
      projectId: SOUTH.projectId,
      endpoint: south.url,
      region: 'ap-southeast-1',
      targets: [{ stream: '*' }],
      auth: SOUTH.keys,
    };
  }

  function bothProjects(north: Region, south: Region) {
    return [northProject(north), southProject(south)];
  }

  async function nextCycle({ clock, app }: Harness): Promise<void> {
    const done = app.store.current().cyclesCompleted;
    await clock.advance(60_000);
    await cyclesCompleted(app, done + 1);
  }

  /** Each request a region received, as `operation path`, sorted: the poll order within a cycle is concurrent. */
  const paths = (region: Region): string[] => region.seen.map(({ path }) => path.replace(/\?.*$/, '')).sort();

  it("sends each region only its own project's requests: its project ID, its AK, its host", async () => {
    const h = await setUp();
    await cyclesCompleted(h.app, 1);
    await nextCycle(h);
    for (const [region, project] of [
      [h.north, NORTH],
      [h.south, SOUTH],
    ] as const) {
      expect(region.seen.length).to.be.greaterThan(0);
      expect(region.seen.filter((seen) => !seen.path.startsWith(`/v2/${project.projectId}/`))).to.deep.equal([]);
      expect(new Set(region.seen.map(({ accessKey, host }) => `${accessKey} ${host}`))).to.deep.equal(
        new Set([`${project.keys.accessKey} ${region.host}`]),
      );
      // every request was answered: signed with the keys this region knows, for the project it serves
      expect(region.control.requests().filter((r) => r.status !== 200)).to.deep.equal([]);
    }
    const north = `/v2/${NORTH.projectId}`;
    const south = `/v2/${SOUTH.projectId}`;
    // Discovery per project: north lists the tasks of clicks only; south lists its streams and each one's tasks.
    expect(paths(h.north)).to.deep.equal(
      [
        `${north}/streams/clicks`,
        `${north}/streams/clicks`,
        `${north}/streams/clicks/transfer-tasks`,
        `${north}/streams/clicks/transfer-tasks/clicks-to-dli`,
        `${north}/streams/clicks/transfer-tasks/clicks-to-dli`,
        `${north}/streams/orders`,
        `${north}/streams/orders`,
        `${north}/streams/orders/transfer-tasks/orders-to-obs`,
        `${north}/streams/orders/transfer-tasks/orders-to-obs`,
      ].sort(),
    );
    expect(paths(h.south)).to.deep.equal(
      [
        `${south}/streams`,
        `${south}/streams/orders`,
        `${south}/streams/orders`,
        `${south}/streams/orders/transfer-tasks`,
        `${south}/streams/orders/transfer-tasks/orders-to-obs`,
        `${south}/streams/orders/transfer-tasks/orders-to-obs`,
        `${south}/streams/payments`,
        `${south}/streams/payments`,
        `${south}/streams/payments/transfer-tasks`,
        `${south}/streams/payments/transfer-tasks/payments-to-obs`,
        `${south}/streams/payments/transfer-tasks/payments-to-obs`,
      ].sort(),
    );
  });

  it('serves both projects, the same stream and task kept apart, as the golden exposition; promtool agrees', async function () {
    const h = await setUp();
    await cyclesCompleted(h.app, 1);
    await nextCycle(h);
    const text = withoutDurations(await scrape(h.server));
    expect(text).to.equal(golden('integration-two-projects.prom', text));
    const orders = (projectId: string, name: string) =>
      seriesOf(text, name).filter((line) => line.includes(`project_id="${projectId}",stream="orders",`));
    // The same orders/orders-to-obs in both: each with the lag in records and the verdict of its own stream. North's
    // end offset is 1000 + 10/s × 150 s = 2500, its dump delivered up to the minute (T0 + 120 s, 2200): 300 waiting;
    // south's dump stands 2000 records behind a stream that does not grow.
    expect(orders(NORTH.projectId, 'dis_dump_task_partition_lag_records')).to.deep.equal([
      `dis_dump_task_partition_lag_records{project_id="${NORTH.projectId}",stream="orders",task="orders-to-obs",partition="shardId-0000000000"} 300`,
    ]);
    expect(orders(SOUTH.projectId, 'dis_dump_task_partition_lag_records')).to.deep.equal([
      `dis_dump_task_partition_lag_records{project_id="${SOUTH.projectId}",stream="orders",task="orders-to-obs",partition="shardId-0000000000"} 2000`,
    ]);
    const verdict = (projectId: string) =>
      orders(projectId, 'dis_dump_task_partition_status').filter((line) => line.endsWith(' 1'));
    expect(verdict(NORTH.projectId)).to.have.length(1);
    expect(verdict(NORTH.projectId)[0]).to.include('status="progressing"');
    expect(verdict(SOUTH.projectId)).to.have.length(1);
    expect(verdict(SOUTH.projectId)[0]).to.include('status="stalled"');
    expect(seriesOf(text, 'dis_exporter_project_info')).to.deep.equal([
      `dis_exporter_project_info{project_id="${NORTH.projectId}",region="cn-north-4"} 1`,
      `dis_exporter_project_info{project_id="${SOUTH.projectId}",region="ap-southeast-1"} 1`,
    ]);
    requireTool(this, 'promtool');
    expect(promtoolCheckMetrics(text)).to.deep.equal({ status: 0, output: '' });
  });

  it('shows the tasks and the streams of each project in tables of their own on the landing page', async () => {
    const h = await setUp();
    await cyclesCompleted(h.app, 1);
    const page = (await got(`${h.server.url}/`)).body;
    const tasksSection = page.slice(page.indexOf('<section id="tasks">'), page.indexOf('<section id="attention">'));
    const tables = tasksSection.split('<h3>').slice(1);
    expect(tables.map((table) => table.slice(0, table.indexOf('</h3>')))).to.deep.equal([
      `Project ${NORTH.projectId} · cn-north-4`,
      `Project ${SOUTH.projectId} · ap-southeast-1`,
    ]);
    const tasks = (table: string) =>
      [...table.matchAll(/<tr data-key="([^"]*)">.*?<td class="ok">up</g)].map((m) => m[1]);
    expect(tables.map(tasks)).to.deep.equal([
      ['orders/orders-to-obs', 'clicks/clicks-to-dli'],
      ['orders/orders-to-obs', 'payments/payments-to-obs'],
    ]);
    expect(page).to.include(`2 projects · as of `);
    const streamsStart = page.indexOf('<section id="streams">');
    const streamsSection = page.slice(streamsStart, page.indexOf('</section>', streamsStart));
    const streams = streamsSection
      .split('<h3>')
      .slice(1)
      .map((table) => [...table.matchAll(/<tr data-key="([^"]*)">/g)].map((m) => m[1]));
    expect(streams).to.deep.equal([
      ['orders', 'clicks'],
      ['orders', 'payments'],
    ]);
  });

  it('drops a project removed by a reload, series and all, at the next cycle, and sends its region nothing more', async () => {
    const h = await setUp();
    await cyclesCompleted(h.app, 1);
    h.writeConfig([northProject(h.north)]);
    const reload = await got.post(`${h.server.url}/-/reload`);
    expect([reload.statusCode, reload.body]).to.deep.equal([200, 'configuration reloaded\n']);
    // At once: project_info; the south series go with the next cycle.
    let text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_project_info')).to.deep.equal([
      `dis_exporter_project_info{project_id="${NORTH.projectId}",region="cn-north-4"} 1`,
    ]);
    expect(text).to.include(`project_id="${SOUTH.projectId}"`);
    const southRequests = h.south.seen.length;
    await nextCycle(h);
    text = await scrape(h.server);
    expect(text).not.to.include(SOUTH.projectId);
    expect(text).to.include('dis_exporter_targets 2\n');
    expect(h.south.seen.length).to.equal(southRequests);
    expect((await got(`${h.server.url}/`)).body).not.to.include(SOUTH.projectId);
  });

  it('runs from the command line with each project signing with its own keys; --check-config hides them', async () => {
    const clock = new ManualClock(START);
    const north = await startRegion(NORTH_SCENARIO, '127.0.0.1', clock);
    const south = await startRegion(SOUTH_SCENARIO, '127.0.0.2', clock);
    const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-projects-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 0 },
        auth: NORTH.keys,
        projects: [northProject(north), southProject(south)],
      }),
    );
    let stdout = '';
    let stop: ((signal: string) => void) | undefined;
    let url: string | undefined;
    const { logger, lines } = logCapture();
    const io: CliIo = {
      stdout: (text) => (stdout += text),
      stderr: () => {},
      stopSignal: () => new Promise((resolve) => (stop = resolve)),
      onReloadSignal: () => () => {},
      clock,
      logger,
      onListening: (listening) => (url = listening),
    };
    expect(await run(['--check-config', '--config', file], {}, io)).to.equal(0);
    expect(stdout).to.include(`  - projectId: ${SOUTH.projectId}\n`);
    expect(stdout).to.include('    auth:\n      accessKey: "[REDACTED]"\n      secretKey: "[REDACTED]"\n');
    expect(stdout).not.to.include(SOUTH.keys.secretKey);

    const exit = run(['--config', file], {}, io);
    try {
      for (let i = 0; i < 500 && (url === undefined || north.seen.length < 5 || south.seen.length < 6); i++) {
        await flush();
      }
      expect(new Set(north.seen.map(({ accessKey }) => accessKey))).to.deep.equal(new Set([NORTH.keys.accessKey]));
      expect(new Set(south.seen.map(({ accessKey }) => accessKey))).to.deep.equal(new Set([SOUTH.keys.accessKey]));
      expect(lines.find((line) => line.msg === 'dis-exporter started')).to.deep.include({ projects: 2, targets: 3 });
    } finally {
      stop!('SIGTERM');
    }
    expect(await exit).to.equal(0);
  });

  it('adds a project by a reload, and moves one to another endpoint with new keys, without a restart', async () => {
    const h = await setUp((north) => [northProject(north)]);
    await cyclesCompleted(h.app, 1);
    expect(h.south.seen).to.deep.equal([]);
    // South added; north moved: the south region's address serves north's project too once it knows north's keys.
    h.writeConfig(bothProjects(h.north, h.south));
    expect((await got.post(`${h.server.url}/-/reload`)).statusCode).to.equal(200);
    await nextCycle(h);
    expect(seriesOf(await scrape(h.server), 'dis_exporter_target_up')).to.deep.equal([
      `dis_exporter_target_up{project_id="${NORTH.projectId}",stream="orders",task="orders-to-obs"} 1`,
      `dis_exporter_target_up{project_id="${NORTH.projectId}",stream="clicks",task="clicks-to-dli"} 1`,
      `dis_exporter_target_up{project_id="${SOUTH.projectId}",stream="orders",task="orders-to-obs"} 1`,
      `dis_exporter_target_up{project_id="${SOUTH.projectId}",stream="payments",task="payments-to-obs"} 1`,
    ]);

    // A third region takes over the north project, with keys of its own: a new client, the old region left alone.
    const moved = { accessKey: 'MOVEDACCESSKEY000000', secretKey: 'moved-sk' };
    const third = await startRegion({ ...NORTH_SCENARIO, credentials: [moved] }, '127.0.0.3', h.clock);
    h.writeConfig([{ ...northProject(third), auth: moved }, southProject(h.south)]);
    expect((await got.post(`${h.server.url}/-/reload`)).statusCode).to.equal(200);
    const northRequests = h.north.seen.length;
    await nextCycle(h);
    expect(h.north.seen.length).to.equal(northRequests);
    expect(new Set(third.seen.map(({ accessKey, host }) => `${accessKey} ${host}`))).to.deep.equal(
      new Set([`${moved.accessKey} ${third.host}`]),
    );
    expect(third.control.requests().filter((r) => r.status !== 200)).to.deep.equal([]);
    const up = seriesOf(await scrape(h.server), 'dis_exporter_target_up');
    expect(up.filter((line) => line.endsWith(' 1'))).to.have.length(4);
  });
});
