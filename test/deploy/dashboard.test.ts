import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import dashboard from '../../helm/dis-exporter/files/dashboard.json' with { type: 'json' };
import type { App } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import type { RunningServer } from '../../src/http/server.js';
import { bundledScenarioPath, loadScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { startExporter, testConfig } from '../helpers/exporter.js';
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
const FILTER_LABELS = ['project_id', 'stream', 'task'] as const;

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
function panelExpressions(): Array<{ where: string; expr: string }> {
  return allPanels().flatMap((panel) =>
    targetsOf(panel).map((target) => ({
      where: `panel ${panel.id} "${panel.title}" target ${String(target.refId)}`,
      expr: String(target.expr),
    })),
  );
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
  project_id: '0123456789abcdef0123456789abcdef',
  stream: '(orders|clicks)',
  task: '.*',
  __rate_interval: '1m',
  __interval: '30s',
  __range: '6h',
};

function interpolate(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = INTERPOLATION[name];
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
    // the filter variables come after the data source they query
    expect(variables().map((variable) => variable.name)).to.deep.equal(['DS_PROMETHEUS', ...FILTER_LABELS]);
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

  it('has panels for the states, verdicts, lag, data loss and the exporter health', () => {
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
        { ...base, dis: { ...base.dis, projectId: scenario.projectId } },
        { clock: systemClock, credentials: scenario.credentials[0]!, processMetrics: true },
      );
      for (let i = 0; i < 500 && exporter.app.store.current().cyclesCompleted < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(exporter.app.store.current().cyclesCompleted, 'first poll cycle').to.be.at.least(1);
      const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 5_000 } });
      exposition = (await got(`${exporter.server.url}/metrics`)).body;
      // discovery found the demo's tasks, so the label checks below see real series
      expect(exposition).to.match(/^dis_dump_task_state\{[^}]*task="payments-to-mrs"[^}]*\} /m);
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

    it('filters every series by $project_id, $stream and $task where it has those labels', () => {
      const labels = labelsByName();
      let filtered = 0;
      for (const { where, expr } of panelExpressions()) {
        for (const { name, matchers } of selectorsOf(expr)) {
          const has = labels.get(name);
          if (name.startsWith('dis_dump_task_') || name.startsWith('dis_exporter_target_')) {
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
});
