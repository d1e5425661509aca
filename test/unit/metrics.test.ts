import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseDumpTask, parseJsonBody } from '../../src/dis/parse.js';
import { createExposition, type TranslationOptions } from '../../src/metrics/exposition.js';
import { renderExposition, renderMetrics } from '../../src/metrics/render.js';
import { registerSelfMetrics } from '../../src/metrics/self.js';
import { isServable } from '../../src/poll/lag-and-staleness.js';
import type { Snapshot, TargetStatus } from '../../src/poll/store.js';
import { registerDisMetrics } from '../reference/collector.js';
import { toSamples } from '../reference/samples.js';
import { seriesOf } from '../helpers/exporter.js';
import { golden } from '../helpers/golden.js';
import { largeSnapshot } from '../helpers/large-snapshot.js';
import { SCRAPE_MS, fixedSnapshot, ordersTask } from '../helpers/snapshots.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';

/** When the golden files' exporter loaded its configuration: at start, 10 minutes before the scrape. */
const CONFIG_LOADED_MS = SCRAPE_MS - 600_000;
const OPTIONS = { projectId: '0123456789abcdef0123456789abcdef', staleAfterMs: 300_000 };
const silent = pino({ level: 'silent' });

/** The reference: prom-client instruments refilled from toSamples at scrape time, and the self-metrics. */
function fixedRegistry(
  snapshot: Snapshot = fixedSnapshot,
  nowMs = SCRAPE_MS,
  options: TranslationOptions = OPTIONS,
): Registry {
  const registry = new Registry();
  registerDisMetrics(registry, {
    pollIntervalMs: 60_000,
    logger: silent,
    compute: () => toSamples(snapshot, nowMs, options),
    ...(options.stateSets === undefined ? {} : { stateSets: options.stateSets }),
  });
  addSelfMetrics(registry);
  return registry;
}

/** The self-metrics of the golden files, with the same requests and poll cycle recorded. */
function addSelfMetrics(registry: Registry): Registry {
  const self = registerSelfMetrics(
    registry,
    { version: '1.2.3', revision: 'abc123', nodejsVersion: 'v20.0.0' },
    { index: 1, total: 3 },
    CONFIG_LOADED_MS,
  );
  self.recordApiRequest({ operation: 'show_transfer_task', code: '200', durationSeconds: 0.042 });
  self.recordApiRequest({ operation: 'show_transfer_task', code: 'error', durationSeconds: 10 });
  self.recordPollCycle(1.5);
  return registry;
}

/** What /metrics serves: the data families rendered from the snapshot, then the self-metrics registry. */
function served(
  options: TranslationOptions & { sliceMs?: number } = OPTIONS,
  registry = addSelfMetrics(new Registry()),
): (snapshot: Snapshot, nowMs: number, openMetrics?: boolean) => Promise<string> {
  const exposition = createExposition({ ...options, pollIntervalMs: 60_000, logger: silent });
  return async (snapshot, nowMs, openMetrics = false) => {
    const source = { exposition, registry, snapshot: () => snapshot, now: () => nowMs };
    let text = '';
    for await (const chunk of renderExposition(source, openMetrics)) text += chunk;
    return text;
  };
}

describe('metrics translation and rendering', () => {
  it('renders the fixed snapshot exactly as the golden exposition', async () => {
    const text = await fixedRegistry().metrics();
    expect(text).to.equal(golden('fixed-snapshot.prom', text));
  });

  it('serves the golden exposition from the snapshot itself, in both formats', async () => {
    const render = served();
    const text = await render(fixedSnapshot, SCRAPE_MS);
    expect(text).to.equal(golden('fixed-snapshot.prom', text));
    const openMetrics = await render(fixedSnapshot, SCRAPE_MS, true);
    expect(openMetrics).to.equal(golden('fixed-snapshot.om.txt', openMetrics));
    // OpenMetrics must not change a later text scrape (prom-client's counter renaming pitfall)
    expect(await render(fixedSnapshot, SCRAPE_MS)).to.equal(text);
  });

  it('serves only the current state of each state set with stateSets current (golden)', async () => {
    const options: TranslationOptions = { ...OPTIONS, stateSets: 'current' };
    const text = await served(options)(fixedSnapshot, SCRAPE_MS);
    expect(text).to.equal(golden('fixed-snapshot.current.prom', text));
    expect(text).to.equal(await fixedRegistry(fixedSnapshot, SCRAPE_MS, options).metrics());
    const states = text.split('\n').filter((line) => /^dis_dump_task_(partition_)?(state|status)\{/.test(line));
    expect(states.every((line) => line.endsWith(' 1'))).to.equal(true);
    expect(states.filter((line) => line.includes('task="orders-to-obs",state='))).to.deep.equal([
      'dis_dump_task_state{project_id="0123456789abcdef0123456789abcdef",stream="orders",task="orders-to-obs",state="RUNNING"} 1',
    ]);
  });

  for (const stateSets of ['all', 'current'] as const) {
    it(`renders a large snapshot byte for byte as prom-client renders toSamples (stateSets ${stateSets})`, async () => {
      const options: TranslationOptions = { ...OPTIONS, stateSets };
      const snapshot = largeSnapshot({ tasks: 600, partitions: 4 }, SCRAPE_MS);
      const render = served(options);
      // at the poll, then once failing targets and streams went stale and more partitions count as stalled
      for (const nowMs of [SCRAPE_MS, SCRAPE_MS + 250_000]) {
        const reference = fixedRegistry(snapshot, nowMs, options);
        const text = await render(snapshot, nowMs);
        expect(text.length).to.be.greaterThan(500_000);
        expect(text === (await reference.metrics()), `text at ${nowMs}`).to.equal(true);
        expect(
          (await render(snapshot, nowMs, true)) === (await renderMetrics(reference, true)),
          'OpenMetrics',
        ).to.equal(true);
      }
    });
  }

  it('builds the label text once per snapshot, not once per scrape', async () => {
    let reads = 0;
    const counted = (status: TargetStatus): TargetStatus =>
      new Proxy(status, {
        get(target, property, receiver) {
          if (property === 'target') reads += 1;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
    const snapshot: Snapshot = { ...fixedSnapshot, targets: fixedSnapshot.targets.map(counted) };
    const render = served();
    const first = await render(snapshot, SCRAPE_MS);
    const perSnapshot = reads;
    expect(perSnapshot).to.be.greaterThan(0);
    expect(await render(snapshot, SCRAPE_MS)).to.equal(first);
    expect(await render(snapshot, SCRAPE_MS + 30_000, true)).to.include('dis_dump_task_lag_seconds{');
    expect(reads).to.equal(perSnapshot);
    // a new snapshot (the next poll cycle) gets new text
    await render({ ...snapshot }, SCRAPE_MS);
    expect(reads).to.equal(2 * perSnapshot);
  });

  it('builds the label text ahead of the first scrape when asked to (after each poll cycle)', async () => {
    let reads = 0;
    const snapshot: Snapshot = {
      ...fixedSnapshot,
      targets: fixedSnapshot.targets.map(
        (status) =>
          new Proxy(status, {
            get(target, property, receiver) {
              if (property === 'target') reads += 1;
              return Reflect.get(target, property, receiver) as unknown;
            },
          }),
      ),
    };
    const exposition = createExposition({ ...OPTIONS, pollIntervalMs: 60_000, logger: silent });
    await exposition.prepare(snapshot);
    const prepared = reads;
    expect(prepared).to.be.greaterThan(0);
    let text = '';
    for await (const chunk of exposition.chunks(snapshot, SCRAPE_MS, false)) text += chunk;
    expect(reads).to.equal(prepared);
    const reference = new Registry();
    registerDisMetrics(reference, {
      pollIntervalMs: 60_000,
      logger: silent,
      compute: () => toSamples(snapshot, SCRAPE_MS, OPTIONS),
    });
    expect(`${text}\n`).to.equal(await reference.metrics());
  });

  it('lets timers and I/O run while it builds and renders a large snapshot', async () => {
    const snapshot = largeSnapshot({ tasks: 3000, partitions: 4 }, SCRAPE_MS);
    let ticks = 0;
    let done = false;
    const tick = (): void => {
      ticks += 1;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    // with no time slice, every batch of 512 items yields
    const text = await served({ ...OPTIONS, sliceMs: 0 })(snapshot, SCRAPE_MS);
    done = true;
    expect(text.length).to.be.greaterThan(30_000_000);
    // 3000 targets with 12,000 partitions: a dozen batches in each of the 18 target and partition families
    expect(ticks).to.be.at.least(18 * 12);
  });

  it('keeps serving the self-metrics and every family header when the snapshot cannot be read', async () => {
    const broken = {
      ...fixedSnapshot,
      get targets(): readonly TargetStatus[] {
        throw new Error('boom');
      },
    };
    const text = await served()(broken, SCRAPE_MS);
    expect(text).to.include('# TYPE dis_exporter_target_up gauge');
    expect(text).to.include('dis_exporter_build_info{version="1.2.3",revision="abc123",nodejs_version="v20.0.0"} 1');
    expect(
      text.split('\n').filter((line) => line.startsWith('dis_') && !line.startsWith('dis_exporter_')),
    ).to.deep.equal([]);
  });

  it('renders a lone data family set when the registry is empty, ending as prom-client ends', async () => {
    const render = served(OPTIONS, new Registry());
    const reference = new Registry();
    registerDisMetrics(reference, {
      pollIntervalMs: 60_000,
      logger: silent,
      compute: () => toSamples(fixedSnapshot, SCRAPE_MS, OPTIONS),
    });
    expect(await render(fixedSnapshot, SCRAPE_MS)).to.equal(await reference.metrics());
    expect(await render(fixedSnapshot, SCRAPE_MS, true)).to.equal(await renderMetrics(reference, true));
  });

  it('renders OpenMetrics exactly as the golden file, and a text scrape after it is unchanged', async () => {
    const registry = fixedRegistry();
    const before = await registry.metrics();
    const openMetrics = await renderMetrics(registry, true);
    expect(openMetrics).to.equal(golden('fixed-snapshot.om.txt', openMetrics));
    expect(await renderMetrics(registry, false)).to.equal(before);
    expect(before).to.include('dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 1');
  });

  it('passes promtool check metrics, with either stateSets', async function () {
    requireTool(this, 'promtool');
    for (const stateSets of ['all', 'current'] as const) {
      const result = promtoolCheckMetrics(await served({ ...OPTIONS, stateSets })(fixedSnapshot, SCRAPE_MS));
      expect(result.output).to.equal('');
      expect(result.status).to.equal(0);
    }
  });

  it('computes lag against the scrape time, not the poll time', () => {
    const later = toSamples(fixedSnapshot, SCRAPE_MS + 30_000, OPTIONS);
    const lag = later.taskLag.find((s) => s.labels.task === 'orders-to-obs');
    expect(lag?.value).to.equal(120.5);
  });

  it('drops a failing target’s data exactly when staleAfter has passed', () => {
    const status = fixedSnapshot.targets[3]!;
    const lastSuccess = status.lastSuccessMs!;
    expect(isServable(status, lastSuccess + 300_000, 300_000)).to.equal(true);
    expect(isServable(status, lastSuccess + 300_001, 300_000)).to.equal(false);
  });

  it('never exposes a series with task="*" or labels beyond those docs/metrics.md lists', () => {
    const samples = toSamples(fixedSnapshot, SCRAPE_MS, OPTIONS);
    const labelSets = Object.values(samples)
      .flat()
      .map((s) => Object.keys(s.labels).sort().join(','));
    expect([...new Set(labelSets)].sort()).to.deep.equal([
      '',
      'destination,destination_type,project_id,stream,task,task_id',
      'partition,project_id,state,stream,task',
      'partition,project_id,status,stream,task',
      'partition,project_id,stream',
      'partition,project_id,stream,task',
      'project_id,reason,stream,task',
      'project_id,state,stream,task',
      'project_id,stream,task',
    ]);
  });

  it('keeps serving when the translation throws (collect never fails the scrape)', async () => {
    const registry = new Registry();
    registerDisMetrics(registry, {
      pollIntervalMs: 60_000,
      logger: silent,
      compute: () => {
        throw new Error('boom');
      },
    });
    const text = await registry.metrics();
    expect(text).to.include('# TYPE dis_exporter_target_up gauge');
    expect(text.split('\n').filter((line) => line.startsWith('dis_'))).to.deep.equal([]);
  });

  it('gives a single task with no partitions exactly its task series', async () => {
    const snapshot: Snapshot = {
      cyclesCompleted: 1,
      streams: [],
      targets: [
        {
          projectId: OPTIONS.projectId,
          target: { stream: 's', task: 't' },
          up: true,
          lastSuccessMs: SCRAPE_MS,
          task: { ...ordersTask, partitions: [] },
          errors: {},
        },
      ],
    };
    const samples = toSamples(snapshot, SCRAPE_MS, OPTIONS);
    expect(samples.taskPartitions).to.deep.equal([
      { labels: { project_id: OPTIONS.projectId, stream: 's', task: 't' }, value: 0 },
    ]);
    expect(samples.partitionState).to.deep.equal([]);
  });

  it('serves a task whose partition reports -1 ("none") with the target up, less the -1 series (both renderers)', async () => {
    const nowMs = Date.UTC(2024, 0, 2, 0, 0, 30);
    const text = readFileSync(new URL('../fixtures/dis/minus-one-means-none.json', import.meta.url), 'utf8');
    const task = parseDumpTask(parseJsonBody(text), { stream: 'orders', task: 'orders-to-obs', nowMs });
    const snapshot: Snapshot = {
      cyclesCompleted: 1,
      streams: [],
      targets: [
        {
          projectId: OPTIONS.projectId,
          target: { stream: 'orders', task: 'orders-to-obs' },
          up: true,
          lastSuccessMs: nowMs,
          task,
          errors: {},
        },
      ],
    };
    const labels = `project_id="${OPTIONS.projectId}",stream="orders",task="orders-to-obs"`;
    const expected = [
      `dis_dump_task_create_time_seconds{${labels}} 1704067200`,
      `dis_dump_task_partitions{${labels}} 2`,
      `dis_dump_task_partition_discarded_records{${labels},partition="shardId-0000000001"} 0`,
      `dis_dump_task_partition_last_transfer_offset{${labels},partition="shardId-0000000001"} 289897`,
      `dis_dump_task_partition_last_transfer_timestamp_seconds{${labels},partition="shardId-0000000001"} 1704153540`,
      `dis_dump_task_partition_lag_seconds{${labels},partition="shardId-0000000001"} 90`,
      `dis_exporter_target_up{${labels}} 1`,
    ];
    const families = [
      'dis_dump_task_create_time_seconds',
      'dis_dump_task_last_transfer_timestamp_seconds',
      'dis_dump_task_lag_seconds',
      'dis_dump_task_deliver_interval_seconds',
      'dis_dump_task_partitions',
      'dis_dump_task_partition_discarded_records',
      'dis_dump_task_partition_last_transfer_offset',
      'dis_dump_task_partition_last_transfer_timestamp_seconds',
      'dis_dump_task_partition_lag_seconds',
      'dis_exporter_target_up',
    ];
    expect(seriesOf(await served()(snapshot, nowMs), ...families)).to.deep.equal(expected);
    expect(seriesOf(await fixedRegistry(snapshot, nowMs).metrics(), ...families)).to.deep.equal(expected);
  });
});
