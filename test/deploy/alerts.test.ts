import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ALERTS_FILE = join(ROOT, 'helm/dis-exporter/files/alerts.yaml');
const FIXTURES = join(ROOT, 'test/fixtures/alerts');
const GOLDEN = join(ROOT, 'test/golden/fixed-snapshot.prom');
const RUNBOOK = join(ROOT, 'docs/alerts.md');
/** Placeholder base of every runbook_url (documented in docs/alerts.md and at the top of alerts.yaml). */
const RUNBOOK_BASE = 'https://github.com/dis-exporter/dis-exporter/blob/main/docs/alerts.md';

/** The alerts the file must ship, in file order. */
const ALERTS = [
  'DisDumpTaskAbnormal',
  'DisDumpTaskNotRunning',
  'DisDumpPartitionAbnormal',
  'DisDumpPartitionLagHigh',
  'DisDumpPartitionStalled',
  'DisDumpPartitionFallingBehind',
  'DisDumpRecordsExpired',
  'DisDumpRecordsDiscarded',
  'DisDumpLagNearRetention',
  'DisStreamFrozen',
  'DisAppLagHigh',
  'DisAppRecordsExpired',
  'DisExporterTargetDown',
  'DisExporterTargetDataStale',
  'DisExporterAuthFailing',
  'DisExporterCredentialsExpiring',
  'DisExporterThrottled',
  'DisExporterDiscoveryFailing',
  'DisExporterDiscoveryNeverSucceeded',
  'DisExporterDown',
  'DisExporterAbsent',
  'DisExporterConfigReloadFailed',
  'DisExporterPollOverrunning',
];

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type RuleFile = { groups: { name: string; rules: Rule[] }[] };
type AlertRule = Rule & { alert: string };
type UnitTestFile = {
  rule_files: string[];
  tests: {
    input_series: { series: string; values: string }[];
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] | null }[];
  }[];
};

function loadRules(): RuleFile {
  return parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile;
}

function alertRules(file: RuleFile = loadRules()): AlertRule[] {
  return file.groups.flatMap((g) => g.rules).filter((r): r is AlertRule => r.alert !== undefined);
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or literals. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/#.*$/gm, ' ') // comments
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ') // label lists
    .replace(/\b\d+(?:ms|[smhdwy])\b/g, ' ') // durations (offset 5m)
    .replace(/\b(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?)\b/gi, ' '); // numbers
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const rest = stripped.slice(match.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or an aggregation
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** The metric families the exporter exposes: every HELP line of the golden exposition. */
function exposedMetricNames(): Set<string> {
  const golden = readFileSync(GOLDEN, 'utf8');
  return new Set([...golden.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]!));
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function runbookAnchors(): Set<string> {
  const markdown = readFileSync(RUNBOOK, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)].map((m) => githubSlug(m[1]!)));
}

/** Runs `promtool test rules` on a test file against a modified copy of the rules; returns promtool's exit code. */
function testMutatedRules(testFile: string, from: string, to: string): number | null {
  const rules = readFileSync(ALERTS_FILE, 'utf8');
  expect(rules, `mutation target ${JSON.stringify(from)}`).to.include(from);
  const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-alerts-'));
  try {
    mkdirSync(join(dir, 'helm/dis-exporter/files'), { recursive: true });
    mkdirSync(join(dir, 'test/fixtures/alerts'), { recursive: true });
    writeFileSync(join(dir, 'helm/dis-exporter/files/alerts.yaml'), rules.replace(from, to));
    copyFileSync(join(FIXTURES, testFile), join(dir, 'test/fixtures/alerts', testFile));
    return promtool('test', 'rules', join(dir, 'test/fixtures/alerts', testFile)).status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('alert rules (helm/dis-exporter/files/alerts.yaml)', () => {
  it('passes `promtool check rules` with exactly one rule per alert', function () {
    requireTool(this, 'promtool');
    const result = promtool('check', 'rules', ALERTS_FILE);
    expect(result.output).to.include(`SUCCESS: ${ALERTS.length} rules found`);
    expect(result.status, result.output).to.equal(0);
  });

  it('is a plain Prometheus rule file of alerting rules only, the ones documented', () => {
    const file = loadRules();
    expect(Object.keys(file)).to.deep.equal(['groups']); // no PrometheusRule wrapper: usable as is
    expect(file.groups.map((g) => g.name)).to.deep.equal(['dis-dump-tasks', 'dis-streams-and-apps', 'dis-exporter']);
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.alert === undefined)).to.deep.equal([]);
    expect(rules.map((r) => r.alert)).to.deep.equal(ALERTS);
  });

  it('gives every alert a severity, a `for`, a summary, a description and its runbook_url', () => {
    for (const rule of alertRules()) {
      const what = rule.alert;
      expect(Object.keys(rule.labels ?? {}), what).to.deep.equal(['severity']);
      expect(['critical', 'warning', 'info'], what).to.include(rule.labels!.severity);
      expect(rule.for, what).to.match(/^\d+[smh]$/);
      expect(Object.keys(rule.annotations ?? {}).sort(), what).to.deep.equal(['description', 'runbook_url', 'summary']);
      expect(rule.annotations!.summary, what).to.be.a('string').and.not.equal('');
      expect(rule.annotations!.description, what).to.include('$value');
      expect(rule.annotations!.runbook_url, what).to.equal(`${RUNBOOK_BASE}#runbook-${rule.alert.toLowerCase()}`);
    }
  });

  it('names the partition, stream, task and project of the series in the annotations', () => {
    for (const rule of alertRules()) {
      const text = `${rule.annotations!.summary} ${rule.annotations!.description}`;
      const names = metricNames(rule.expr);
      const mentions = (label: string) =>
        expect(text, `${rule.alert} mentions ${label}`).to.include(`$labels.${label}`);
      if (names.some((n) => n.startsWith('dis_dump_task_partition_'))) mentions('partition');
      if (names.some((n) => n.startsWith('dis_dump_task_') || n.startsWith('dis_exporter_target_'))) {
        mentions('project_id');
        if (!/\bwithout \(stream, task\)/.test(rule.expr)) ['stream', 'task'].forEach(mentions);
      }
      if (names.some((n) => n.startsWith('dis_app_partition_')))
        ['project_id', 'app', 'stream', 'partition'].forEach(mentions);
      if (names.some((n) => n.startsWith('dis_stream_'))) ['project_id', 'stream'].forEach(mentions);
    }
  });

  it('uses only metrics the exporter exposes (HELP lines of the golden exposition) and `up`', () => {
    const exposed = exposedMetricNames();
    exposed.add('up');
    expect(exposed.size).to.be.greaterThan(20);
    const used = new Set<string>();
    for (const rule of alertRules()) {
      const names = metricNames(rule.expr);
      expect(names, `${rule.alert} selects at least one metric`).not.to.deep.equal([]);
      for (const name of names) {
        used.add(name);
        expect(exposed.has(name), `${rule.alert}: ${name} is not exposed`).to.equal(true);
      }
    }
    // The parser sees what it should: a few names from the multi-line expressions.
    expect([...used]).to.include.members([
      'dis_dump_task_partition_lag_seconds',
      'dis_dump_task_partition_lag_records',
      'dis_dump_task_deliver_interval_seconds',
      'dis_dump_task_partitions',
      'dis_dump_task_partition_stalled_seconds',
      'dis_exporter_target_errors_total',
      'dis_exporter_build_info',
      'up',
    ]);
    expect(
      metricNames('sum by (job) (rate(foo_total{a="b c"}[5m])) > on (x) group_left () 2 * bar offset 5m'),
    ).to.deep.equal(['bar', 'foo_total']);
  });

  it('has a runbook section in docs/alerts.md for every alert, and no other', () => {
    const anchors = runbookAnchors();
    const runbooks = [...anchors].filter((a) => a.startsWith('runbook-')).sort();
    expect(runbooks).to.deep.equal(ALERTS.map((a) => `runbook-${a.toLowerCase()}`).sort());
    for (const rule of alertRules()) {
      const fragment = new URL(rule.annotations!.runbook_url!).hash.slice(1);
      expect(anchors.has(fragment), `${rule.alert}: #${fragment} in docs/alerts.md`).to.equal(true);
    }
  });

  describe('promtool test rules (test/fixtures/alerts/<alert>.test.yaml)', () => {
    it('has one unit-test file per alert and nothing else', () => {
      const files = readdirSync(FIXTURES).filter((f) => !f.startsWith('.'));
      expect(files.sort()).to.deep.equal(ALERTS.map((a) => `${a}.test.yaml`).sort());
    });

    for (const alert of ALERTS) {
      it(`${alert}: fires with the expected labels and annotations, and not on the series that must not`, function () {
        const file = join(FIXTURES, `${alert}.test.yaml`);
        expect(existsSync(file), file).to.equal(true);
        const unit = parse(readFileSync(file, 'utf8')) as UnitTestFile;
        expect(unit.rule_files).to.deep.equal(['../../../helm/dis-exporter/files/alerts.yaml']);
        const checks = unit.tests.flatMap((t) => t.alert_rule_test ?? []);
        expect(checks.map((c) => c.alertname)).to.satisfy((names: string[]) => names.every((n) => n === alert));
        expect(
          checks.some((c) => (c.exp_alerts ?? []).length > 0),
          'an evaluation where the alert fires',
        ).to.equal(true);
        expect(
          checks.some((c) => (c.exp_alerts ?? []).length === 0),
          'an evaluation where nothing fires',
        ).to.equal(true);

        requireTool(this, 'promtool');
        const result = promtool('test', 'rules', file);
        expect(result.status, result.output).to.equal(0);
        expect(result.output).to.include('SUCCESS');
      });
    }

    // The unit tests are only worth something if they catch the mistakes they are about.
    const mutations: [string, string, string, string][] = [
      [
        'dropping the lag_records guard makes an idle partition fire',
        'DisDumpPartitionLagHigh.test.yaml',
        'dis_dump_task_partition_lag_records > 0',
        'dis_dump_task_partition_lag_records >= 0',
      ],
      [
        'a short `for` makes a quiet partition that just got a record fire',
        'DisDumpPartitionLagHigh.test.yaml',
        '        for: 20m',
        '        for: 10m',
      ],
      [
        'delta() instead of increase() misses discards after a reset',
        'DisDumpRecordsDiscarded.test.yaml',
        'increase(dis_dump_task_partition_discarded_records[30m])',
        'delta(dis_dump_task_partition_discarded_records[30m])',
      ],
      [
        'a short `for` makes a single failed poll fire target-down',
        'DisExporterTargetDown.test.yaml',
        'dis_exporter_target_up == 0\n        for: 10m',
        'dis_exporter_target_up == 0\n        for: 1m',
      ],
      [
        'a threshold of 0 with a short `for` makes a single slow cycle fire',
        'DisExporterPollOverrunning.test.yaml',
        'increase(dis_exporter_poll_overruns_total[15m]) > 1\n        for: 15m',
        'increase(dis_exporter_poll_overruns_total[15m]) > 0\n        for: 1m',
      ],
      [
        'a short `for` makes a reload refused for a moment fire',
        'DisExporterConfigReloadFailed.test.yaml',
        'dis_exporter_config_last_reload_successful == 0\n        for: 10m',
        'dis_exporter_config_last_reload_successful == 0\n        for: 5m',
      ],
      [
        'dropping the records-waiting guard makes an idle partition near the retention fire',
        'DisDumpLagNearRetention.test.yaml',
        '          and\n          dis_dump_task_partition_lag_records > 0\n        for: 10m',
        '        for: 10m',
      ],
      [
        'a threshold of no minutes of writes makes an app that keeps up fire',
        'DisAppLagHigh.test.yaml',
        '600 * rate(dis_stream_partition_end_offset[30m])',
        '0 * rate(dis_stream_partition_end_offset[30m])',
      ],
      [
        'dropping the lag guard makes an app in an emptied quiet partition fire',
        'DisAppRecordsExpired.test.yaml',
        'dis_app_partition_expired_records > 0\n          and\n          dis_app_partition_lag_records > 0',
        'dis_app_partition_expired_records > 0',
      ],
      [
        'a short `for` makes a stream FROZEN for a moment fire',
        'DisStreamFrozen.test.yaml',
        'dis_stream_status{status="FROZEN"} == 1\n        for: 10m',
        'dis_stream_status{status="FROZEN"} == 1\n        for: 3m',
      ],
      [
        'a margin above the metadata service renewal lead (10m) fires on healthy agency keys',
        'DisExporterCredentialsExpiring.test.yaml',
        'dis_exporter_credentials_expiry_timestamp_seconds < time() + 300',
        'dis_exporter_credentials_expiry_timestamp_seconds < time() + 900',
      ],
      [
        'counting auth failures of recovered targets fires on a single 401',
        'DisExporterAuthFailing.test.yaml',
        'and ignoring (reason)\n            dis_exporter_target_up == 0',
        '',
      ],
    ];
    for (const [what, testFile, from, to] of mutations) {
      it(`catches a broken rule: ${what}`, function () {
        requireTool(this, 'promtool');
        expect(testMutatedRules(testFile, from, to)).to.equal(1);
      });
    }
  });
});
