import { expect } from 'chai';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerDisMetrics } from '../../src/metrics/collector.js';
import { renderMetrics } from '../../src/metrics/render.js';
import { isServable, toSamples } from '../../src/metrics/samples.js';
import { registerSelfMetrics } from '../../src/metrics/self.js';
import type { Snapshot } from '../../src/store.js';
import { golden } from '../helpers/golden.js';
import { SCRAPE_MS, fixedSnapshot, ordersTask } from '../helpers/snapshots.js';
import { promtoolCheckMetrics, requireTool } from '../helpers/tools.js';

const OPTIONS = { projectId: '0123456789abcdef0123456789abcdef', staleAfterMs: 300_000 };
const silent = pino({ level: 'silent' });

function fixedRegistry(snapshot: Snapshot = fixedSnapshot, nowMs = SCRAPE_MS): Registry {
  const registry = new Registry();
  registerDisMetrics(registry, {
    pollIntervalMs: 60_000,
    logger: silent,
    compute: () => toSamples(snapshot, nowMs, OPTIONS),
  });
  const self = registerSelfMetrics(
    registry,
    { version: '1.2.3', revision: 'abc123', nodejsVersion: 'v20.0.0' },
    { index: 1, total: 3 },
  );
  self.recordApiRequest({ operation: 'show_transfer_task', code: '200', durationSeconds: 0.042 });
  self.recordApiRequest({ operation: 'show_transfer_task', code: 'error', durationSeconds: 10 });
  self.recordPollCycle(1.5);
  return registry;
}

describe('metrics translation and rendering', () => {
  it('renders the fixed snapshot exactly as the golden exposition', async () => {
    const text = await fixedRegistry().metrics();
    expect(text).to.equal(golden('fixed-snapshot.prom', text));
  });

  it('renders OpenMetrics exactly as the golden file, and a text scrape after it is unchanged', async () => {
    const registry = fixedRegistry();
    const before = await registry.metrics();
    const openMetrics = await renderMetrics(registry, true);
    expect(openMetrics).to.equal(golden('fixed-snapshot.om.txt', openMetrics));
    expect(await renderMetrics(registry, false)).to.equal(before);
    expect(before).to.include('dis_exporter_api_requests_total{operation="show_transfer_task",code="200"} 1');
  });

  it('passes promtool check metrics', async function () {
    requireTool(this, 'promtool');
    const result = promtoolCheckMetrics(await fixedRegistry().metrics());
    expect(result.output).to.equal('');
    expect(result.status).to.equal(0);
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

  it('never exposes a series with task="*" or labels beyond the contract', () => {
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
});
