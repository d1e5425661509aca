import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FieldColorModeId,
  MappingType,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type VariableType,
} from '@grafana/schema';
import { expect } from 'chai';
import baseGot from 'got';
import { parse } from 'yaml';
import dashboard from '../../helm/dis-exporter/files/dashboard.json' with { type: 'json' };
import type { App } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import type { RunningServer } from '../../src/http/server.js';
import {
  bundledScenarioPath,
  loadScenario,
  parseScenario,
  startFakeDis,
  type FakeDis,
} from '../../src/simulator/fake-dis.js';
import { startExporter, testConfig } from '../helpers/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { requireTool } from '../helpers/tools.js';

/**
 * `Dashboard` with every literal type (string enums such as `FieldColorModeId`, `ThresholdsMode`,
 * `MappingType`, literal unions such as `VariableType`) widened to its primitive. TypeScript types a JSON
 * module with widened primitives and never with literals, so `"type": "query"` is `string` and can never
 * be assigned to `VariableType`, whatever its value: `const typed: Dashboard = dashboard` fails on those
 * fields only (and on the first one, `fieldConfig.defaults.color.mode`). Widening exactly them keeps every
 * other check: required keys, numbers vs strings vs booleans, arrays, nesting (`gridPos.h: "eight"` is a
 * TS2322). The widened values are checked at run time below against the schema package's own enums.
 */
type Widened<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends ReadonlyArray<infer U>
        ? Array<Widened<U>>
        : T extends object
          ? { [K in keyof T]: Widened<T[K]> }
          : T;

// The type-level check: `npm test` runs `tsc --noEmit` over this file, so a dashboard.json that does not
// fit the Grafana schema fails the build before mocha starts.
const typed: Widened<Dashboard> = dashboard;

/** Every `VariableType`, for the run-time half of the check (`satisfies` keeps the list honest). */
const VARIABLE_TYPES = [
  'query',
  'adhoc',
  'groupby',
  'constant',
  'datasource',
  'interval',
  'textbox',
  'custom',
  'system',
  'snapshot',
  'switch',
] as const satisfies readonly VariableType[];

type AnyPanel = NonNullable<typeof typed.panels>[number];
type Target = { refId?: unknown; expr?: unknown; datasource?: unknown };
type Variable = NonNullable<NonNullable<typeof typed.templating>['list']>[number];

const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
/** The variables that filter DIS series, each narrowed by the ones before it. */
const FILTER_LABELS = ['project_id', 'stream', 'task'] as const;
/** The variables that filter every series: where and by which scrape job it was collected. */
const SCRAPE_FILTERS = ['cluster', 'job'] as const;
/** Labels a scrape adds (Prometheus, the prometheus-operator): noise in a table of tasks or partitions. */
const SCRAPE_LABELS = ['instance', 'job', 'pod', 'endpoint', 'namespace', 'service', 'container'] as const;

/** Every panel, the ones nested in collapsed rows included. */
function allPanels(): AnyPanel[] {
  return (typed.panels ?? []).flatMap((panel) => [panel, ...('panels' in panel ? (panel.panels ?? []) : [])]);
}

function targetsOf(panel: AnyPanel): Target[] {
  return 'targets' in panel ? ((panel.targets ?? []) as Target[]) : [];
}

function variables(): Variable[] {
  return typed.templating?.list ?? [];
}

/** The query of a query variable, whether Grafana stored it as a string or as `{query: "..."}`. */
function variableQuery(variable: Variable): string {
  const query = variable.query;
  if (typeof query === 'string') return query;
  return String(query?.['query'] ?? '');
}

/** Every PromQL expression of the panels, with where it comes from. */
function panelExpressions(): Array<{ where: string; expr: string; panel: AnyPanel; target: Target }> {
  return allPanels().flatMap((panel) =>
    targetsOf(panel).map((target) => ({
      where: `panel ${panel.id} "${panel.title}" target ${String(target.refId)}`,
      expr: String(target.expr),
      panel,
      target,
    })),
  );
}

/** A Prometheus duration (`90s`, `1h30m`) in seconds; NaN for anything else. */
function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return Number.NaN;
  return parts.reduce((sum, part) => sum + Number(part[1]) * units[part[2]!]!, 0);
}

/**
 * The series selectors of the query variables: `label_values(sel, label)` is a Grafana function, not
 * PromQL, so its selector is what Prometheus evaluates.
 */
function variableSelectors(): Array<{ where: string; expr: string }> {
  return variables()
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = variableQuery(variable);
      const match = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/s.exec(query.trim());
      expect(match, `variable ${variable.name}: ${query}`).not.to.equal(null);
      return { where: `variable ${variable.name}`, expr: match![1]! };
    });
}

/** Concrete values for the dashboard's variables and Grafana's built-ins, as Grafana would interpolate them. */
const INTERPOLATION: Record<string, string> = {
  cluster: '.*',
  job: 'dis-exporter',
  topn: '10',
  project_id: '0123456789abcdef0123456789abcdef',
  stream: '(orders|clicks)',
  task: '.*',
  __rate_interval: '1m',
  __interval: '30s',
  __range: '6h',
};

function interpolate(expr: string, values: Record<string, string> = INTERPOLATION): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

/** `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`, `group_right (…)`: label lists, not metrics. */
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

/** Metric names an expression reads, with their `{…}` matchers (`''` when there are none). */
function selectorsOf(expr: string): Array<{ name: string; matchers: string }> {
  const withoutGrouping = expr.replace(GROUPING, '');
  return [...withoutGrouping.matchAll(/(?<![\w:$"])((?:dis|process|nodejs)_[\w:]*)\s*(\{[^}]*\})?/g)].map((m) => ({
    name: m[1]!,
    matchers: m[2] ?? '',
  }));
}

function promtoolCheckRules(exprs: Array<{ where: string; expr: string }>): {
  status: number | null;
  output: string;
  rules: number;
} {
  const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-dashboard-'));
  try {
    const rules = exprs.map(({ expr }, i) => ({ record: `dashboard:expr_${i}:check`, expr: interpolate(expr) }));
    const file = join(dir, 'dashboard-rules.yaml');
    // JSON is YAML: no quoting surprises in the expressions
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }, null, 2));
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}`, rules: rules.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Grafana dashboard (helm/dis-exporter/files/dashboard.json)', () => {
  it('has the identity, the Prometheus data source variable and the filter variables', () => {
    expect(typed.uid).to.equal('dis-exporter');
    expect(typed.title).to.equal('DIS dump tasks');
    expect(typed.tags).to.include('dis-exporter');
    expect(typed.schemaVersion).to.be.at.least(39);

    const byName = new Map(variables().map((variable) => [variable.name, variable]));
    const ds = byName.get('DS_PROMETHEUS');
    expect(ds, 'DS_PROMETHEUS variable').to.include({ type: 'datasource', query: 'prometheus' });
    for (const [i, name] of FILTER_LABELS.entries()) {
      const variable = byName.get(name);
      expect(variable, name).to.include({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
      expect(variable?.datasource).to.deep.equal(DATASOURCE);
      // each narrows by the ones before it: stream by project, task by project and stream
      const query = variableQuery(variable!);
      expect(query).to.match(new RegExp(`^label_values\\(.*, ${name}\\)$`));
      for (const before of FILTER_LABELS.slice(0, i)) expect(query).to.include(`${before}=~"$${before}"`);
    }
    // the filter variables come after the data source they query, the scrape's first
    expect(variables().map((variable) => variable.name)).to.deep.equal([
      'DS_PROMETHEUS',
      ...SCRAPE_FILTERS,
      ...FILTER_LABELS,
      'topn',
    ]);
    for (const [i, name] of SCRAPE_FILTERS.entries()) {
      const variable = byName.get(name);
      expect(variable, name).to.include({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
      // dis_exporter_build_info: every exporter has it, whatever it polls
      expect(variableQuery(variable!)).to.equal(
        `label_values(dis_exporter_build_info${i === 0 ? '' : '{cluster=~"$cluster"}'}, ${name})`,
      );
    }
    for (const name of FILTER_LABELS) {
      for (const before of SCRAPE_FILTERS)
        expect(variableQuery(byName.get(name)!)).to.include(`${before}=~"$${before}"`);
    }
    expect(byName.get('topn')).to.deep.include({
      type: 'custom',
      query: '5,10,20,50',
      multi: false,
      includeAll: false,
    });
  });

  it('keeps every rate/increase window at 4 × a 60 s scrape interval or more', () => {
    let windows = 0;
    for (const { where, expr, panel } of panelExpressions()) {
      for (const match of expr.matchAll(/\[([^\]]+)\]/g)) {
        const window = match[1]!;
        windows++;
        if (window === '$__rate_interval') {
          // $__rate_interval = max($__interval + min interval, 4 × min interval): the panel's min interval
          // stands in for the data source's scrape interval, which Grafana defaults to 15 s.
          const interval = durationSeconds(String((panel as { interval?: unknown }).interval ?? ''));
          expect(interval, `${where}: panel min interval`).to.be.at.least(60);
        } else if (window !== '$__range') {
          expect(durationSeconds(window), `${where}: [${window}]`).to.be.at.least(240);
        }
      }
    }
    expect(windows).to.be.greaterThan(10);
    expect(durationSeconds('1h30m')).to.equal(5400);
    expect(durationSeconds('4 m')).to.be.NaN;
  });

  it('hides the scrape labels in its tables of tasks and partitions, and keeps only `instance` in those of replicas', () => {
    const tables = allPanels().filter((panel) => panel.type === 'table');
    expect(tables.length).to.be.at.least(6);
    for (const table of tables) {
      const organize = (
        (table as { transformations?: Array<{ id: string; options: Record<string, any> }> }).transformations ?? []
      ).find((t) => t.id === 'organize');
      expect(organize, `table ${table.id}: organize`).not.to.equal(undefined);
      const hidden = Object.entries(organize!.options['excludeByName'] as Record<string, boolean>)
        .filter(([, excluded]) => excluded)
        .map(([label]) => label);
      const perReplica = targetsOf(table).every((target) => /\bby \(cluster, instance\b/.test(String(target.expr)));
      const expected = perReplica ? SCRAPE_LABELS.filter((label) => label !== 'instance') : SCRAPE_LABELS;
      expect(hidden, `table ${table.id} "${table.title}"`).to.include.members([...expected]);
      if (perReplica) expect(hidden, `table ${table.id}`).not.to.include('instance');
    }
  });

  it('uses the data source variable in every panel and every query', () => {
    for (const panel of allPanels()) {
      if (panel.type === 'row') continue;
      expect(panel.datasource, `panel ${panel.id}`).to.deep.equal(DATASOURCE);
      expect(targetsOf(panel), `panel ${panel.id} has queries`).not.to.be.empty;
      for (const target of targetsOf(panel)) expect(target.datasource, `panel ${panel.id}`).to.deep.equal(DATASOURCE);
    }
  });

  it('uses only values of the schema enums where the JSON types could only say "string" or "number"', () => {
    const colorModes = new Set<string>(Object.values(FieldColorModeId));
    const thresholdModes = new Set<string>(Object.values(ThresholdsMode));
    const mappingTypes = new Set<string>(Object.values(MappingType));
    const checked = { color: 0, thresholds: 0, mappings: 0 };
    const check = (where: string, property: string, value: unknown): void => {
      if (property === 'color') {
        expect(colorModes, `${where}: color.mode`).to.include((value as { mode: string }).mode);
        checked.color++;
      } else if (property === 'thresholds') {
        expect(thresholdModes, `${where}: thresholds.mode`).to.include((value as { mode: string }).mode);
        checked.thresholds++;
      } else if (property === 'mappings') {
        for (const mapping of value as Array<{ type: string }>) {
          expect(mappingTypes, `${where}: mapping type`).to.include(mapping.type);
          checked.mappings++;
        }
      }
    };
    for (const panel of allPanels()) {
      if (!('fieldConfig' in panel) || panel.fieldConfig === undefined) continue;
      const { defaults, overrides } = panel.fieldConfig;
      for (const property of ['color', 'thresholds', 'mappings'] as const) {
        if (defaults[property] !== undefined) check(`panel ${panel.id} defaults`, property, defaults[property]);
      }
      for (const override of overrides) {
        for (const { id, value } of override.properties) check(`panel ${panel.id} override`, id, value);
      }
    }
    expect(checked.color).to.be.greaterThan(0);
    expect(checked.thresholds).to.be.greaterThan(0);
    expect(checked.mappings).to.be.greaterThan(0);

    for (const variable of variables()) {
      expect(VARIABLE_TYPES, `variable ${variable.name}: type`).to.include(variable.type);
      if (variable.refresh !== undefined) expect(Object.values(VariableRefresh)).to.include(variable.refresh);
      if (variable.hide !== undefined) expect(Object.values(VariableHide)).to.include(variable.hide);
      if (variable.sort !== undefined) expect(Object.values(VariableSort)).to.include(variable.sort);
    }
  });

  it('gives every panel a unique id and a place on the 24-column grid that no other panel takes', () => {
    const panels = allPanels();
    const ids = panels.map((panel) => panel.id);
    for (const id of ids) expect(Number.isInteger(id) && id! > 0, `id ${id}`).to.equal(true);
    expect(new Set(ids).size, 'unique ids').to.equal(ids.length);

    const placed = (typed.panels ?? []).map((panel) => {
      const grid = panel.gridPos;
      expect(grid, `panel ${panel.id} gridPos`).not.to.equal(undefined);
      const { x, y, w, h } = grid!;
      for (const n of [x, y, w, h]) expect(Number.isInteger(n), `panel ${panel.id} gridPos`).to.equal(true);
      expect(x, `panel ${panel.id} x`).to.be.at.least(0);
      expect(y, `panel ${panel.id} y`).to.be.at.least(0);
      expect(w, `panel ${panel.id} w`).to.be.at.least(1);
      expect(h, `panel ${panel.id} h`).to.be.at.least(1);
      expect(x + w, `panel ${panel.id} x + w`).to.be.at.most(24);
      if (panel.type === 'row') expect({ w, h }, `row ${panel.id}`).to.deep.equal({ w: 24, h: 1 });
      return { id: panel.id, x, y, w, h };
    });
    for (const [i, a] of placed.entries()) {
      for (const b of placed.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `panels ${a.id} and ${b.id} overlap`).to.equal(false);
      }
    }
  });

  it('has panels for the states, verdicts, lag, data loss, stream health, consumer apps and the exporter health', () => {
    const exprs = panelExpressions().map(({ expr }) => expr);
    const reads = (pattern: RegExp): boolean => exprs.some((expr) => pattern.test(expr));
    expect(reads(/dis_dump_task_state\{[^}]*\} == 1/), 'tasks by state').to.equal(true);
    expect(reads(/dis_dump_task_partition_state\{[^}]*state="ABNORMAL"\} == 1/), 'ABNORMAL partitions').to.equal(true);
    expect(reads(/dis_dump_task_partition_status\{[^}]*\} == 1/), 'verdicts').to.equal(true);
    expect(reads(/increase\(dis_dump_task_partition_discarded_records/), 'discards').to.equal(true);
    expect(reads(/rate\(dis_exporter_target_errors_total/), 'errors by reason').to.equal(true);
    expect(reads(/histogram_quantile\(0\.95, .*dis_exporter_api_request_duration_seconds_bucket/), 'p95').to.equal(
      true,
    );
    for (const name of [
      'dis_dump_task_partition_lag_seconds',
      'dis_dump_task_partition_lag_records',
      'dis_dump_task_partition_expired_records',
      'dis_dump_task_partition_stalled_seconds',
      'dis_exporter_target_up',
      'dis_exporter_api_requests_total',
      'dis_exporter_poll_duration_seconds_bucket',
      'dis_exporter_last_discovery_success_timestamp_seconds',
      'dis_exporter_discovery_errors_total',
      'dis_exporter_build_info',
      'dis_stream_status',
      'dis_stream_info',
      'dis_stream_retention_seconds',
      'dis_stream_partition_status',
      'dis_app_partition_lag_records',
      'dis_app_partition_expired_records',
      'dis_app_partition_has_checkpoint',
      'dis_app_partition_checkpoint_offset',
      'dis_exporter_app_up',
    ]) {
      expect(reads(new RegExp(`\\b${name}\\b`)), name).to.equal(true);
    }
  });

  it('has only valid PromQL in its queries and variables (promtool check rules)', function () {
    requireTool(this, 'promtool');
    const exprs = [...panelExpressions(), ...variableSelectors()];
    const result = promtoolCheckRules(exprs);
    expect(result.status, result.output).to.equal(0);
    expect(result.output).to.include(`SUCCESS: ${result.rules} rules found`);
    expect(result.rules).to.equal(exprs.length);
  });

  it('would notice invalid PromQL (the check above is not vacuous)', function () {
    requireTool(this, 'promtool');
    const result = promtoolCheckRules([
      { where: 'broken', expr: 'sum by (reason (rate(dis_exporter_target_errors_total[$__rate_interval]))' },
    ]);
    expect(result.status).to.not.equal(0);
    expect(result.output).to.match(/parse error/i);
  });

  describe('against a live exposition (demo scenario, real exporter)', function () {
    this.timeout(30_000);
    let dis: FakeDis | undefined;
    let exporter: { app: App; server: RunningServer } | undefined;
    let exposition = '';

    before(async () => {
      const scenario = loadScenario(bundledScenarioPath('demo.yaml'));
      dis = await startFakeDis({ scenario, host: '127.0.0.1' });
      const base = testConfig(dis.url, { retries: 2 }, [{ stream: '*', task: '*' }]);
      exporter = await startExporter(
        { ...base, dis: { ...base.dis, projectId: scenario.projectId }, apps: [{ app: '*', stream: '*' }] },
        { clock: systemClock, credentials: scenario.credentials[0]!, processMetrics: true },
      );
      for (let i = 0; i < 500 && exporter.app.store.current().cyclesCompleted < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(exporter.app.store.current().cyclesCompleted, 'first poll cycle').to.be.at.least(1);
      const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 5_000 } });
      exposition = (await got(`${exporter.server.url}/metrics`)).body;
      // discovery found the demo's tasks and apps, so the label checks below see real series
      expect(exposition).to.match(/^dis_dump_task_state\{[^}]*task="payments-to-mrs"[^}]*\} /m);
      expect(exposition).to.match(/^dis_app_partition_lag_records\{[^}]*app="clickstream-analytics"[^}]*\} /m);
    });

    after(async () => {
      await exporter?.app.stop();
      await dis?.close();
    });

    /** Label names of each sample name in the exposition. */
    function labelsByName(): Map<string, Set<string>> {
      const labels = new Map<string, Set<string>>();
      for (const line of exposition.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
        if (match === null) continue;
        const names = labels.get(match[1]!) ?? new Set<string>();
        for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) names.add(label[1]!);
        labels.set(match[1]!, names);
      }
      return labels;
    }

    /** Whether a metric name is in the exposition: a TYPE line, a sample, or a histogram's series. */
    function exposes(name: string): boolean {
      if (exposition.includes(`\n# TYPE ${name} `) || exposition.startsWith(`# TYPE ${name} `)) return true;
      if (labelsByName().has(name)) return true;
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
      return histogram !== null && exposition.includes(`# TYPE ${histogram[1]} histogram\n`);
    }

    it('reads only metrics the exporter exposes', () => {
      const referenced = new Set(
        [...panelExpressions(), ...variableSelectors()].flatMap(({ expr }) => selectorsOf(expr).map((s) => s.name)),
      );
      expect(referenced.size, 'metric names found in the queries').to.be.greaterThan(20);
      expect([...referenced].some((name) => name.startsWith('process_'))).to.equal(true);
      expect([...referenced].some((name) => name.startsWith('nodejs_'))).to.equal(true);
      const missing = [...referenced].filter((name) => !exposes(name));
      expect(missing, 'metric names the dashboard reads but /metrics does not have').to.deep.equal([]);
    });

    it('filters every series by $cluster and $job, and by $project_id, $stream and $task where it has those labels', () => {
      const labels = labelsByName();
      let filtered = 0;
      for (const { where, expr } of panelExpressions()) {
        for (const { name, matchers } of selectorsOf(expr)) {
          for (const label of SCRAPE_FILTERS) {
            expect(matchers, `${where}: ${name} without ${label}=~"$${label}"`).to.match(
              new RegExp(`\\b${label}\\s*=~\\s*"\\$${label}"`),
            );
          }
          const has = labels.get(name);
          if (/^dis_(dump_task_|exporter_target_|app_|exporter_app_|stream_)/.test(name)) {
            expect(has, `${name} has series in the live exposition`).not.to.equal(undefined);
          }
          for (const label of FILTER_LABELS) {
            if (!has?.has(label)) continue;
            expect(matchers, `${where}: ${name} without ${label}=~"$${label}"`).to.match(
              new RegExp(`\\b${label}\\s*=~\\s*"\\$${label}"`),
            );
            filtered++;
          }
        }
      }
      expect(filtered).to.be.greaterThan(30);
    });
  });

  describe('in a real Prometheus that scrapes the exporter (demo scenario) with two jobs', function () {
    this.timeout(90_000);
    /** The scrape interval of the test; Grafana's $__rate_interval is 4 × it (the panels' minimum interval). */
    const SCRAPE_SECONDS = 1;
    const JOBS = ['dis-exporter', 'dis-exporter-copy'];
    /** What Grafana sends with every variable on "All" (allValue `.*`), and its built-ins at this scrape interval. */
    const ALL: Record<string, string> = {
      cluster: '.*', // no cluster label here: `.*` also matches series without it
      job: '.*',
      project_id: '.*',
      stream: '.*',
      task: '.*',
      topn: '3',
      __rate_interval: `${4 * SCRAPE_SECONDS}s`,
      __interval: `${SCRAPE_SECONDS}s`,
      __range: '10s',
    };
    const ONE_JOB = { ...ALL, job: JOBS[0]! };
    type Sample = { metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> };
    type Answer = { status: string; error?: string; warnings?: string[]; data?: { result: Sample[] | string[] } };

    let dir: string | undefined;
    let dis: FakeDis | undefined;
    let exporter: { app: App; server: RunningServer } | undefined;
    let prometheus: RunningPrometheus | undefined;
    let api = '';
    const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 10_000 }, throwHttpErrors: false });

    async function ask(path: string, searchParams: Record<string, string | number>): Promise<Answer> {
      return got(`${api}${path}`, { searchParams }).json<Answer>();
    }
    /** An instant query that must succeed without warnings. */
    async function instant(expr: string, where = expr): Promise<Sample[]> {
      const answer = await ask('/api/v1/query', { query: expr });
      expect(answer, `${where}\n${expr}`).to.deep.include({ status: 'success' });
      expect(answer.warnings ?? [], `${where}: warnings`).to.deep.equal([]);
      return answer.data!.result as Sample[];
    }
    const labelSets = (samples: Sample[]) => samples.map((sample) => JSON.stringify(sample.metric)).sort();
    const values = (samples: Sample[]) => samples.map((sample) => Number(sample.value![1]));
    /** The targets of the panel with this title (and type), keyed by refId. */
    function panelTargets(title: string, type?: string): Record<string, string> {
      const panel = allPanels().find((p) => p.title === title && (type === undefined || p.type === type));
      expect(panel, `panel "${title}"`).not.to.equal(undefined);
      return Object.fromEntries(targetsOf(panel!).map((target) => [String(target.refId), String(target.expr)]));
    }

    before(async function () {
      requireTool(this, 'prometheus');
      this.timeout(90_000);
      dir = mkdtempSync(join(tmpdir(), 'dis-exporter-dashboard-prom-'));
      // The demo, plus a stream whose task delivers every second: the demo's deliver every 30 s or more, so
      // within a few seconds of scraping their dump offsets would not move.
      const demo = parse(readFileSync(bundledScenarioPath('demo.yaml'), 'utf8')) as { streams: unknown[] };
      demo.streams.push({
        name: 'telemetry',
        partitions: [{ initialRecords: 10_000, recordsPerSecond: 50 }],
        tasks: [
          {
            name: 'telemetry-to-obs',
            destinationType: 'OBS',
            destination: { obs_bucket_path: 'telemetry', deliver_time_interval: 1 },
          },
        ],
      });
      const scenario = parseScenario(demo, 'demo.yaml + telemetry');
      dis = await startFakeDis({ scenario, host: '127.0.0.1' });
      const base = testConfig(dis.url, { intervalMs: 1_000, retries: 2 }, [{ stream: '*', task: '*' }]);
      exporter = await startExporter(
        { ...base, dis: { ...base.dis, projectId: scenario.projectId }, apps: [{ app: '*', stream: '*' }] },
        { clock: systemClock, credentials: scenario.credentials[0]!, processMetrics: true },
      );
      const address = exporter.server.url.replace('http://', '');
      prometheus = await startPrometheus(dir, {
        global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
        // Two jobs scraping the same exporter, as two ServiceMonitors or a copied scrape config would.
        scrape_configs: JOBS.map((job) => ({ job_name: job, static_configs: [{ targets: [address] }] })),
      });
      api = prometheus.url;
      // Enough samples in both jobs for a $__rate_interval window, and offsets that moved in between.
      const ready = [
        `count(min_over_time(up{job=~"${JOBS.join('|')}"}[${ALL.__rate_interval}]) == 1) == ${JOBS.length}`,
        `min(count_over_time(dis_exporter_build_info[${ALL.__rate_interval}])) >= 4`,
        `sum(rate(dis_stream_partition_end_offset{job="${JOBS[0]}"}[${ALL.__rate_interval}])) > 0`,
      ];
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answers = await Promise.all(
          ready.map((expr) => ask('/api/v1/query', { query: expr }).catch(() => undefined)),
        );
        if (answers.every((answer) => answer?.status === 'success' && (answer.data!.result as Sample[]).length > 0)) {
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(`Prometheus has not scraped enough (${ready.join('; ')})\n${prometheus.log().slice(-2000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });

    after(async () => {
      await prometheus?.stop();
      await exporter?.app.stop();
      await dis?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('evaluates every panel query, instant and over a range, without an error or a warning', async () => {
      const end = Math.floor(Date.now() / 1000);
      let evaluated = 0;
      for (const { where, expr, target } of panelExpressions()) {
        for (const choice of [ALL, ONE_JOB]) {
          const query = interpolate(expr, choice);
          await instant(query, where);
          if ((target as { range?: boolean }).range === true) {
            const answer = await ask('/api/v1/query_range', { query, start: end - 10, end, step: SCRAPE_SECONDS });
            expect(answer, `${where} (range)\n${query}`).to.deep.include({ status: 'success' });
          }
          evaluated++;
        }
      }
      expect(evaluated).to.equal(2 * panelExpressions().length);
    });

    it('answers every variable query, and `All` of an absent cluster label still matches every series', async () => {
      const answers: Record<string, string[]> = {};
      for (const variable of variables().filter((v) => v.type === 'query')) {
        const [, selector, label] = /^label_values\((.+),\s*(\w+)\)$/s.exec(variableQuery(variable))!;
        const answer = await ask(`/api/v1/label/${label}/values`, { 'match[]': interpolate(selector!, ALL) });
        expect(answer, `variable ${variable.name}`).to.deep.include({ status: 'success' });
        answers[variable.name] = answer.data as unknown as string[];
      }
      expect(answers).to.deep.equal({
        cluster: [],
        job: JOBS,
        project_id: ['0123456789abcdef0123456789abcdef'],
        // archive has apps only: the variable knows it from dis_exporter_app_up
        stream: ['archive', 'clicks', 'orders', 'payments', 'sensors', 'telemetry'],
        task: answers['task'],
      });
      expect(answers['task']).to.include.members([
        'orders-to-obs',
        'clicks-to-dli',
        'clicks-to-dws',
        'payments-to-mrs',
      ]);
    });

    it('shows each task and partition once across the two jobs, as with one job, without scrape labels', async () => {
      const partitions = await instant(
        'count by (project_id, stream, task, partition) (dis_dump_task_partition_lag_seconds)',
      );
      const tasks = await instant('count by (project_id, stream, task) (dis_dump_task_state)');
      expect(partitions.length).to.be.at.least(10);
      const expectations: Array<[title: string, type: string, identities: Sample[] | undefined]> = [
        ['Dump tasks', 'table', tasks],
        ['Lag per partition (seconds)', 'timeseries', partitions],
        ['Lag in deliver intervals', 'timeseries', partitions],
        ['Stalled seconds', 'timeseries', partitions],
        ['ABNORMAL partitions', 'table', undefined],
        ['Partition verdict over time', 'state-timeline', partitions],
        ['Targets down', 'table', undefined],
        ['Exporter memory', 'timeseries', undefined],
      ];
      for (const [title, type, identities] of expectations) {
        const expr = panelTargets(title, type)['A']!;
        const both = await instant(interpolate(expr, ALL), title);
        const one = await instant(interpolate(expr, ONE_JOB), title);
        expect(labelSets(both), `${title}: one series per task or partition, as with one job`).to.deep.equal(
          labelSets(one),
        );
        for (const sample of both) expect(sample.metric, title).not.to.have.any.keys('job', '__name__');
        if (identities !== undefined) {
          expect(
            both.map((s) => `${s.metric.project_id}/${s.metric.stream}/${s.metric.task}/${s.metric.partition}`).sort(),
            title,
          ).to.deep.equal(
            identities
              .map((s) => `${s.metric.project_id}/${s.metric.stream}/${s.metric.task}/${s.metric.partition}`)
              .sort(),
          );
        }
      }
      const abnormal = await instant(interpolate(panelTargets('ABNORMAL partitions', 'table')['A']!, ALL));
      expect(abnormal.map((s) => `${s.metric.stream}/${s.metric.task}/${s.metric.partition}`).sort()).to.deep.equal([
        'orders/orders-to-obs/shardId-0000000002',
        'sensors/sensors-to-obs/shardId-0000000002',
      ]);
      const memory = await instant(interpolate(panelTargets('Exporter memory')['A']!, ALL));
      expect(memory.map((s) => s.metric)).to.deep.equal([{ instance: exporter!.server.url.replace('http://', '') }]);
    });

    it('shows each app partition, app pair and stream once across the two jobs, as with one job', async () => {
      const appPartitions = await instant(
        'count by (project_id, app, stream, partition) (dis_app_partition_lag_records)',
      );
      const pairs = await instant('count by (project_id, app, stream) (dis_exporter_app_up)');
      const streams = await instant('count by (project_id, stream) (dis_stream_status)');
      const identity = (s: Sample) =>
        [s.metric.project_id, s.metric.app, s.metric.stream, s.metric.partition].join('/');
      expect(appPartitions.length).to.be.at.least(5);
      const expectations: Array<[title: string, type: string, identities: Sample[]]> = [
        ['App lag per partition (records)', 'timeseries', appPartitions],
        ['Consumer apps', 'table', pairs],
        ['Streams', 'table', streams],
      ];
      for (const [title, type, identities] of expectations) {
        for (const [ref, expr] of Object.entries(panelTargets(title, type))) {
          const both = await instant(interpolate(expr, ALL), `${title} ${ref}`);
          const one = await instant(interpolate(expr, ONE_JOB), `${title} ${ref}`);
          expect(labelSets(both), `${title} ${ref}: one series each, as with one job`).to.deep.equal(labelSets(one));
          for (const sample of both) expect(sample.metric, title).not.to.have.any.keys('job', 'instance', '__name__');
          if (ref === 'A') expect(both.map(identity).sort(), title).to.deep.equal(identities.map(identity).sort());
        }
      }
      const frozen = await instant(interpolate(panelTargets('FROZEN streams', 'stat')['A']!, ALL));
      expect(values(frozen)).to.deep.equal([1]);
      const streamRows = await instant(interpolate(panelTargets('Streams', 'table')['A']!, ALL));
      expect(streamRows.find((s) => s.metric.stream === 'archive')?.metric.status).to.equal('FROZEN');
    });

    it('lists the $topn app partitions with the most records waiting, and what the apps lost to retention', async () => {
      const { A: records, B: expired } = panelTargets('Top $topn app partitions by lag');
      const top = await instant(interpolate(records!, ALL));
      const all = await instant(interpolate(panelTargets('App lag per partition (records)')['A']!, ALL));
      const largest = values(all)
        .sort((a, b) => b - a)
        .slice(0, Number(ALL.topn));
      expect(values(top).sort((a, b) => b - a)).to.deep.equal(largest);
      expect(labelSets(await instant(interpolate(expired!, ALL)))).to.deep.equal(labelSets(top));
      // archive-reader stopped 20,000 records back; 8,001 of them have left the retention
      const lost = await instant(interpolate(panelTargets('Records lost by apps', 'stat')['A']!, ALL));
      expect(values(lost)).to.deep.equal([8001]);
    });

    it('counts tasks and targets once, not once per job', async () => {
      const byState = panelTargets('Dump tasks by state')['A']!;
      const both = await instant(interpolate(byState, ALL));
      expect(both.map((s) => [s.metric.state, Number(s.value![1])]).sort()).to.deep.equal(
        (await instant(interpolate(byState, ONE_JOB))).map((s) => [s.metric.state, Number(s.value![1])]).sort(),
      );
      expect(Object.fromEntries(both.map((s) => [s.metric.state, Number(s.value![1])]))).to.include({ PAUSED: 1 });
      const tasks = (await instant('count by (project_id, stream, task) (dis_dump_task_state)')).length;
      expect(values(both).reduce((a, b) => a + b, 0)).to.equal(tasks);
      const targets = (await instant('count by (project_id, stream, task) (dis_exporter_target_up)')).length;
      const [up] = values(await instant(interpolate(panelTargets('Targets up / down')['A']!, ALL)));
      expect(up).to.be.greaterThan(0).and.at.most(targets);
      const [polled] = values(await instant(interpolate(panelTargets('Targets polled')['A']!, ALL)));
      expect(polled).to.equal(targets);
    });

    it('shows records written and dumped per second, per stream and per task', async () => {
      const { A: written, B: dumped } = panelTargets('Records written vs dumped per second');
      const writes = await instant(interpolate(written!, ALL));
      expect(writes.map((s) => s.metric.stream).sort()).to.deep.equal([
        'archive',
        'clicks',
        'orders',
        'payments',
        'sensors',
        'telemetry',
      ]);
      expect(Math.max(...values(writes))).to.be.greaterThan(0);
      expect(labelSets(writes)).to.deep.equal(labelSets(await instant(interpolate(written!, ONE_JOB))));
      const dumps = await instant(interpolate(dumped!, ALL));
      expect(dumps.map((s) => `${s.metric.stream}/${s.metric.task}`)).to.include.members([
        'orders/orders-to-obs',
        'clicks/clicks-to-dli',
        'payments/payments-to-mrs',
        'telemetry/telemetry-to-obs',
      ]);
      const telemetry = dumps.find((s) => s.metric.task === 'telemetry-to-obs')!;
      expect(Number(telemetry.value![1])).to.be.greaterThan(0);
      for (const sample of [...writes, ...dumps]) expect(sample.metric).not.to.have.any.keys('job', 'instance');
    });

    it('lists the $topn partitions with the most records waiting, with their lag in seconds', async () => {
      const { A: records, B: seconds } = panelTargets('Top $topn partitions by lag');
      const top = await instant(interpolate(records!, ALL));
      expect(top).to.have.lengthOf(Number(ALL.topn));
      const all = await instant(interpolate(panelTargets('Lag per partition (records)')['A']!, ALL));
      const largest = values(all)
        .sort((a, b) => b - a)
        .slice(0, Number(ALL.topn));
      expect(values(top).sort((a, b) => b - a)).to.deep.equal(largest);
      expect(labelSets(await instant(interpolate(seconds!, ALL)))).to.deep.equal(labelSets(top));
    });
  });
});
