import { createHash } from 'node:crypto';
import { formatDuration } from '../config/duration.js';
import type { Project } from '../config/types.js';
import { isWildcard, nameMatches } from '../poll/discovery.js';
import { partitionsNeedingAttention, snapshotHealth, type HealthSettings, type TaskHealth } from '../poll/health.js';
import type { Snapshot, TargetError, TargetStatus } from '../poll/store.js';
import { cell, escapeHtml, row, table } from './html.js';
import { appPollText, appTable, streamNotRunning, streamTable } from './landing-apps.js';

// The landing page is health at a glance, like Prometheus's /targets: counts first, then each dump task's DIS state
// and, apart from it, how its polls go, then the partitions that need someone to look, then consumer apps and stream
// health, then the `*` selectors. It is
// rendered from the snapshot and the configuration in memory, without scripts or anything to load but its own style
// (docs/operations.md ("The landing page")).

// The page's only style, inline; the Content-Security-Policy allows exactly this text by its hash.
const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1f2328; }
h1 { margin-bottom: 0.2em; }
nav a { margin-right: 0.8em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.counts { display: flex; flex-wrap: wrap; gap: 0.6em; padding: 0; }
.counts li { list-style: none; border: 1px solid #d0d7de; border-radius: 6px; padding: 0.4em 0.8em; }
.counts b { font-size: 1.4em; margin-right: 0.3em; }
.ok { color: #1a7f37; }
.warn { color: #9a6700; font-weight: bold; }
.bad { color: #cf222e; font-weight: bold; }
.muted { color: #59636e; }
`;

/** The CSP source expression (`sha256-…`) of the landing page's inline style. */
export const LANDING_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/** A project as the page shows it: the configured ones, in order, with their selectors. */
export type PageProject = Pick<Project, 'projectId' | 'region' | 'targets'>;

/** What every section of the page is rendered from: all of it in memory, worked out once per request. */
export type PageView = Readonly<{
  snapshot: Snapshot;
  nowMs: number;
  /** The configured projects, then any the snapshot still holds that a reload has just removed (no region). */
  projects: readonly Readonly<{ projectId: string; region?: string; selectors: PageProject['targets'] }>[];
  /** Every polled task with its state, partitions and verdicts at `nowMs` (poll/health.ts). */
  tasks: readonly TaskHealth[];
}>;

/** One section of the page: its HTML (escaped) from the view. */
export type PageSection = (view: PageView) => string;

/** What the page needs besides the snapshot. */
export type LandingPageInfo = Readonly<{
  version: string;
  nowMs: number;
  projects: readonly PageProject[];
  health: HealthSettings;
}>;

/** The sections of the page, in order: each a function of the view, composed here and nowhere else. */
export const PAGE_SECTIONS: readonly PageSection[] = [
  summarySection,
  tasksSection,
  attentionSection,
  appsSection,
  streamsSection,
  selectorsSection,
];

/** Pure: the landing page for a snapshot at `info.nowMs`; every value from DIS or the config is escaped. */
export function renderLandingPage(
  snapshot: Snapshot,
  info: LandingPageInfo,
  sections: readonly PageSection[] = PAGE_SECTIONS,
): string {
  let body = '<p class="warn" id="pending">The first poll cycle has not finished yet.</p>';
  if (snapshot.cyclesCompleted > 0) {
    const view = pageView(snapshot, info);
    body = sections.map((section) => section(view)).join('\n');
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>DIS exporter</title>
<style>${STYLE}</style>
</head>
<body>
<h1>DIS exporter</h1>
<p class="muted">Version ${escapeHtml(info.version)} · ${projectLine(info.projects)} · as of ${isoTime(info.nowMs)}</p>
<nav><a href="metrics">metrics</a><a href="-/healthy">-/healthy</a><a href="-/ready">-/ready</a><a href="config">config</a></nav>
${body}
</body>
</html>
`;
}

function pageView(snapshot: Snapshot, info: LandingPageInfo): PageView {
  const projects: { projectId: string; region?: string; selectors: PageProject['targets'] }[] = info.projects.map(
    ({ projectId, region, targets }) => ({ projectId, region, selectors: targets }),
  );
  const known = new Set(projects.map(({ projectId }) => projectId));
  for (const { projectId } of [...snapshot.targets, ...snapshot.streams, ...(snapshot.apps ?? [])]) {
    if (known.has(projectId)) continue;
    known.add(projectId);
    projects.push({ projectId, selectors: [] });
  }
  return { snapshot, nowMs: info.nowMs, projects, tasks: snapshotHealth(snapshot, info.nowMs, info.health) };
}

function projectLine(projects: readonly PageProject[]): string {
  if (projects.length === 1) return `project ${escapeHtml(projects[0]!.projectId)}`;
  return `${projects.length} projects`;
}

/**
 * The counts at the top: tasks by DIS state, partitions that need attention, targets down, and, when the page has
 * them, streams not RUNNING and consumer app pairs down; then discovery.
 */
function summarySection(view: PageView): string {
  const byState = new Map<string, number>();
  for (const task of view.tasks) {
    const state = stateText(task);
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  const attention = view.tasks.reduce((sum, task) => sum + partitionsNeedingAttention(task).length, 0);
  const down = view.tasks.filter(({ target }) => pollText(target) === 'down').length;
  const states = [...byState]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([state, count]) => countItem(`state-${state}`, count, escapeHtml(state), stateClass(state)));
  const discovery = view.snapshot.discovery;
  const items = [
    countItem('tasks', view.tasks.length, 'dump tasks', ''),
    ...states,
    countItem('attention', attention, 'partitions need attention', attention > 0 ? 'bad' : 'ok'),
    countItem('down', down, `targets down of ${view.tasks.length}`, down > 0 ? 'bad' : 'ok'),
    ...streamAndAppCounts(view.snapshot),
    ...(discovery === undefined
      ? []
      : [
          discovery.lastError === undefined
            ? '<li data-count="discovery" class="ok"><b>ok</b>discovery</li>'
            : '<li data-count="discovery" class="bad"><b>failing</b>discovery</li>',
        ]),
  ];
  return `<section id="summary">
<ul class="counts">
${items.join('\n')}
</ul>
</section>`;
}

function streamAndAppCounts(snapshot: Snapshot): string[] {
  const items: string[] = [];
  const streams = snapshot.streams.filter(({ details }) => details !== undefined);
  if (streams.length > 0) {
    const notRunning = streams.filter(streamNotRunning).length;
    const label = `streams not RUNNING of ${streams.length}`;
    items.push(countItem('streams-not-running', notRunning, label, notRunning > 0 ? 'bad' : 'ok'));
  }
  const apps = snapshot.apps ?? [];
  if (apps.length > 0) {
    const down = apps.filter((status) => appPollText(status) === 'down').length;
    items.push(countItem('apps-down', down, `app pairs down of ${apps.length}`, down > 0 ? 'bad' : 'ok'));
  }
  return items;
}

function countItem(name: string, count: number, label: string, className: string): string {
  const cls = className === '' ? '' : ` class="${className}"`;
  return `<li data-count="${escapeHtml(name)}"${cls}><b>${count}</b>${label}</li>`;
}

/** Each dump task: its DIS state and, in columns of their own, how its polls go. */
function tasksSection(view: PageView): string {
  const tables = byProject(view, view.tasks, (tasks) =>
    table(
      ['stream', 'task', 'DIS state', 'partitions', 'need attention', 'lag', 'poll', 'last success', 'last error'],
      tasks.map((task) => {
        const { target } = task;
        const poll = pollText(target);
        const attention = partitionsNeedingAttention(task).length;
        return row(`${target.target.stream}/${target.target.task}`, [
          cell(target.target.stream),
          cell(target.target.task),
          cell(stateText(task), stateClass(stateText(task))),
          cell(task.served ? String(task.partitions.length) : '', 'num'),
          cell(task.served ? String(attention) : '', attention > 0 ? 'num bad' : 'num'),
          cell(seconds(task.lagSeconds), 'num'),
          cell(poll, poll === 'up' ? 'ok' : poll === 'down' ? 'bad' : 'muted'),
          cell(target.lastSuccessMs === undefined ? 'never' : isoTime(target.lastSuccessMs)),
          cell(errorText(target.lastError)),
        ]);
      }),
    ),
  );
  return `<section id="tasks">
<h2>Dump tasks</h2>
${tables}
</section>`;
}

/** The partitions that need someone to look, with their lag in records and in seconds. */
function attentionSection(view: PageView): string {
  const rows = view.tasks.flatMap((task) => partitionsNeedingAttention(task).map((partition) => ({ task, partition })));
  const tables =
    rows.length === 0
      ? '<p class="ok">No partition needs attention.</p>'
      : byProject(
          view,
          rows.map((r) => ({ ...r, target: r.task.target })),
          (partitions) =>
            table(
              [
                'stream',
                'task',
                'partition',
                'state',
                'status',
                'lag (records)',
                'lag',
                'stalled for',
                'expired records',
                'discarded',
              ],
              partitions.map(({ task, partition }) => {
                const { stream, task: name } = task.target.target;
                const state = partition.state ?? 'unknown';
                const status = partition.status ?? 'unknown';
                return row(`${stream}/${name}/${partition.partitionId}`, [
                  cell(stream),
                  cell(name),
                  cell(partition.partitionId),
                  cell(state, state === 'RUNNING' ? 'ok' : 'bad'),
                  cell(
                    status,
                    status === 'stalled' || status === 'rewound' || status === 'falling_behind' ? 'bad' : '',
                  ),
                  cell(numberText(partition.lagRecords), 'num'),
                  cell(seconds(partition.lagSeconds), 'num'),
                  cell(partition.stalledSeconds ? seconds(partition.stalledSeconds) : '', 'num'),
                  cell(numberText(partition.expiredRecords), (partition.expiredRecords ?? 0) > 0 ? 'num bad' : 'num'),
                  cell(numberText(partition.discard), 'num'),
                ]);
              }),
            ),
        );
  return `<section id="attention">
<h2>Partitions that need attention</h2>
<p class="muted">Not RUNNING, stalled, rewound, falling behind, or with records expired before they were dumped.</p>
${tables}
</section>`;
}

/** The consumer app/stream pairs, most records waiting first (http/landing-apps.ts); nothing without apps. */
function appsSection(view: PageView): string {
  const apps = view.snapshot.apps ?? [];
  if (apps.length === 0) return '';
  const tables = byProject(
    view,
    apps.map((status) => ({ status, target: status })),
    (own) => appTable(own.map(({ status }) => status)),
  );
  return `<section id="apps">
<h2>Consumer apps</h2>
${tables}
</section>`;
}

/** The streams whose details the exporter holds: FROZEN or not, retention, partitions; nothing without them. */
function streamsSection(view: PageView): string {
  const streams = view.snapshot.streams.filter(({ details }) => details !== undefined);
  if (streams.length === 0) return '';
  const tables = byProject(
    view,
    streams.map((status) => ({ status, target: status })),
    (own) => streamTable(own.map(({ status }) => status)),
  );
  return `<section id="streams">
<h2>Streams</h2>
${tables}
</section>`;
}

/** The configured `*` selectors, what each matches now, and how discovery goes; nothing without them. */
function selectorsSection(view: PageView): string {
  const selectors = view.projects.flatMap((project) =>
    project.selectors.filter(isWildcard).map((selector) => ({ project, selector })),
  );
  if (selectors.length === 0) return '';
  const discovery = view.snapshot.discovery;
  const status =
    discovery === undefined
      ? '<p class="muted">Not discovered yet.</p>'
      : `<p id="discovery-status">Discovery <span class="${discovery.lastError === undefined ? 'ok' : 'bad'}">` +
        `${discovery.lastError === undefined ? 'ok' : 'failing'}</span>; last success ` +
        `${discovery.lastSuccessMs === undefined ? 'never' : isoTime(discovery.lastSuccessMs)}; ` +
        `${discovery.errors} failed list calls so far` +
        `${discovery.lastError === undefined ? '' : `; last error: ${escapeHtml(errorText(discovery.lastError))}`}</p>`;
  const tables = byProject(
    view,
    selectors.map(({ project, selector }) => ({ selector, target: { projectId: project.projectId } })),
    (rows) =>
      table(
        ['stream', 'task', 'include', 'exclude', 'tasks polled'],
        rows.map(({ selector, target: { projectId } }) => {
          const polled = view.tasks.filter(
            ({ target: { projectId: p, target } }) =>
              p === projectId &&
              (selector.stream === '*'
                ? nameMatches(selector, target.stream)
                : target.stream === selector.stream && nameMatches(selector, target.task)),
          ).length;
          return row(`${selector.stream}/${selector.task}`, [
            cell(selector.stream),
            cell(selector.task),
            cell(selector.include ?? ''),
            cell(selector.exclude ?? ''),
            cell(String(polled), 'num'),
          ]);
        }),
      ),
  );
  return `<section id="selectors">
<h2>Discovery</h2>
${status}
${tables}
</section>`;
}

/** One table per project (in the view's order) of the items that belong to it, each under the project's name. */
function byProject<T extends { readonly target: Pick<TargetStatus, 'projectId'> }>(
  view: PageView,
  items: readonly T[],
  render: (items: readonly T[]) => string,
): string {
  return view.projects
    .map(({ projectId, region }) => {
      const own = items.filter(({ target }) => target.projectId === projectId);
      const heading = `<h3>Project ${escapeHtml(projectId)}${region === undefined ? '' : ` · ${escapeHtml(region)}`}</h3>`;
      return `${heading}\n${own.length === 0 ? '<p class="muted">None.</p>' : render(own)}`;
    })
    .join('\n');
}

/** A task's DIS state as shown: the state, `no data` when its details are not served, `unknown` when DIS gave none. */
function stateText(task: TaskHealth): string {
  if (!task.served) return 'no data';
  return task.state ?? 'unknown';
}

function stateClass(state: string): string {
  if (state === 'RUNNING') return 'ok';
  if (state === 'PAUSED' || state === 'STARTING') return 'warn';
  return 'bad';
}

/** The poll status: `pending` before the target's first poll, then `up` or `down` as its latest poll went. */
function pollText(target: TargetStatus): 'pending' | 'up' | 'down' {
  if (target.lastPollMs === undefined) return 'pending';
  return target.up ? 'up' : 'down';
}

function errorText(error: TargetError | undefined): string {
  return error === undefined ? '' : `${error.reason} at ${isoTime(error.atMs)}: ${error.message}`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Seconds rounded to whole ones, as the config writes durations (`1h2m3s`); "" when unknown. */
function seconds(value: number | undefined): string {
  return value === undefined ? '' : formatDuration(Math.round(value) * 1000);
}

function numberText(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}
