import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import { parse, stringify } from 'yaml';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { systemClock } from '../../src/clock.js';
import { CREDENTIALS, PROJECT_ID, startExporter, testConfig } from '../helpers/exporter.js';
import { requireTool } from '../helpers/tools.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';

const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 5_000 } });
const ALERTS_FILE = new URL('../../helm/dis-exporter/files/alerts.yaml', import.meta.url);

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
type RuleFile = { groups: { name: string; interval?: string; rules: Rule[] }[] };
type PromAlert = { labels: Record<string, string>; state: string };

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('end to end: simulator → exporter → a real Prometheus with the alert rules', function () {
  this.timeout(90_000);
  let dir: string;
  let dis: FakeDis | undefined;
  let exporter: { app: App; server: RunningServer } | undefined;
  let prometheus: RunningPrometheus | undefined;

  after(async () => {
    await prometheus?.stop();
    await exporter?.app.stop();
    await dis?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('fires the partition-ABNORMAL alert for exactly the ABNORMAL partition, and the series are queryable', async function () {
    requireTool(this, 'prometheus');
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-prom-'));
    dis = await startFakeDis({
      scenario: parseScenario({
        projectId: PROJECT_ID,
        credentials: [CREDENTIALS],
        streams: [
          {
            name: 'orders',
            partitions: [
              { initialRecords: 1000, recordsPerSecond: 5 },
              { initialRecords: 1000, recordsPerSecond: 5 },
            ],
            tasks: [
              {
                name: 'orders-to-obs',
                destinationType: 'OBS',
                destination: { obs_bucket_path: 'b', deliver_time_interval: 60 },
                partitions: { 'shardId-0000000001': { state: 'ABNORMAL', sinceMsAgo: 600_000 } },
              },
            ],
          },
        ],
      }),
    });
    exporter = await startExporter(
      { ...testConfig(dis.url, { intervalMs: 1_000 }, [{ stream: 'orders', task: 'orders-to-obs' }]) },
      { clock: systemClock, processMetrics: true },
    );

    // The rules as shipped, with every `for` shortened: this test proves the wiring; the timing of each
    // alert is proven by `promtool test rules` in alerts.test.ts.
    const rules = parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile;
    for (const group of rules.groups) {
      group.interval = '1s';
      for (const rule of group.rules) if (rule.for !== undefined) rule.for = '0s';
    }
    const abnormal = rules.groups
      .flatMap((g) => g.rules)
      .find(
        (r) => r.alert !== undefined && r.expr.includes('dis_dump_task_partition_state') && r.expr.includes('ABNORMAL'),
      );
    expect(abnormal, 'an alert on dis_dump_task_partition_state ABNORMAL').not.to.equal(undefined);
    writeFileSync(join(dir, 'rules.yml'), stringify(rules));
    const exporterAddress = exporter.server.url.replace('http://', '');
    prometheus = await startPrometheus(dir, {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: [{ job_name: 'dis-exporter', static_configs: [{ targets: [exporterAddress] }] }],
    });
    const api = prometheus.url;
    try {
      const query = async (expr: string) =>
        (
          await got(`${api}/api/v1/query`, { searchParams: { query: expr } }).json<{
            data: { result: { metric: Record<string, string>; value: [number, string] }[] };
          }>()
        ).data.result;
      const up = await until('the exporter scraped', 45, async () => {
        const result = await query('dis_exporter_target_up');
        return result.length > 0 ? result : undefined;
      });
      expect(up.map((r) => [r.metric.stream, r.metric.task, r.value[1]])).to.deep.equal([
        ['orders', 'orders-to-obs', '1'],
      ]);
      const states = await query('dis_dump_task_partition_state{state="ABNORMAL"} == 1');
      expect(states.map((r) => r.metric.partition)).to.deep.equal(['shardId-0000000001']);

      const firing = await until(`${abnormal!.alert} firing`, 45, async () => {
        const alerts = (await got(`${api}/api/v1/alerts`).json<{ data: { alerts: PromAlert[] } }>()).data.alerts;
        const mine = alerts.filter((a) => a.labels.alertname === abnormal!.alert && a.state === 'firing');
        return mine.length > 0 ? mine : undefined;
      });
      expect(
        firing.map((a) => [a.labels.project_id, a.labels.stream, a.labels.task, a.labels.partition]),
      ).to.deep.equal([[PROJECT_ID, 'orders', 'orders-to-obs', 'shardId-0000000001']]);
      expect(firing[0]!.labels.severity).to.be.a('string');
    } catch (error) {
      throw new Error(`${String(error)}\n--- prometheus log (last 2000 chars) ---\n${prometheus.log().slice(-2000)}`);
    }
  });
});
