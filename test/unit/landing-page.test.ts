import { expect } from 'chai';
import {
  PAGE_SECTIONS,
  renderLandingPage,
  type LandingPageInfo,
  type PageSection,
  type PageView,
} from '../../src/http/landing-page.js';
import { needsAttention, snapshotHealth, type PartitionHealth } from '../../src/poll/health.js';
import type { Snapshot } from '../../src/poll/store.js';
import { SCRAPE_MS, SNAPSHOT_PROJECT_ID, fixedSnapshot } from '../helpers/snapshots.js';

const HEALTH = { staleAfterMs: 300_000 };
const INFO: LandingPageInfo = {
  version: '1.2.3',
  nowMs: SCRAPE_MS,
  projects: [{ projectId: SNAPSHOT_PROJECT_ID, region: 'cn-north-4', targets: [{ stream: 'orders', task: '*' }] }],
  health: HEALTH,
};

describe('landing page', () => {
  describe('snapshotHealth', () => {
    it('gives each task and partition the values /metrics gives them (test/golden/fixed-snapshot.prom)', () => {
      const tasks = snapshotHealth(fixedSnapshot, SCRAPE_MS, HEALTH).map((task) => ({
        key: `${task.target.target.stream}/${task.target.target.task}`,
        served: task.served,
        state: task.state,
        lagSeconds: task.lagSeconds,
        partitions: task.partitions,
      }));
      expect(tasks).to.deep.equal([
        {
          key: 'orders/orders-to-obs',
          served: true,
          state: 'RUNNING',
          lagSeconds: 90.5,
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              state: 'RUNNING',
              status: 'progressing',
              stalledSeconds: 0,
              lagRecords: 103,
              expiredRecords: 0,
              lagSeconds: 90.5,
              discard: 0,
            },
            {
              partitionId: 'shardId-0000000001',
              state: 'ABNORMAL',
              status: 'stalled',
              stalledSeconds: 3600,
              lagRecords: 1500,
              expiredRecords: 1000,
              lagSeconds: 3600,
              discard: 12,
            },
          ],
        },
        // no timestamps; the clicks stream details are past staleAfter: no lag in records, no verdict
        {
          key: 'clicks/clicks-to-dli',
          served: true,
          state: 'SUSPENDED',
          lagSeconds: undefined,
          partitions: [{ partitionId: 'shardId-0000000000', state: 'RUNNING' }],
        },
        { key: 'payments/payments-to-dws', served: true, state: 'PAUSED', lagSeconds: 0, partitions: [] },
        { key: 'orders/stale-but-served', served: true, state: 'RUNNING', lagSeconds: 90.5, partitions: [] },
        { key: 'orders/stale-and-dropped', served: false, state: undefined, lagSeconds: undefined, partitions: [] },
        { key: 'orders/deleted', served: false, state: undefined, lagSeconds: undefined, partitions: [] },
      ]);
    });
  });

  describe('needsAttention', () => {
    const running = { state: 'RUNNING' };
    const cases: ReadonlyArray<[string, { state?: string }, Omit<PartitionHealth, 'partitionId'>, boolean]> = [
      ['progressing', running, { state: 'RUNNING', status: 'progressing', lagRecords: 5 }, false],
      ['idle', running, { state: 'RUNNING', status: 'idle', expiredRecords: 0 }, false],
      ['no verdict yet', running, { state: 'RUNNING' }, false],
      ['no state from DIS', running, {}, false],
      ['ABNORMAL', running, { state: 'ABNORMAL', status: 'progressing' }, true],
      ['stalled', running, { state: 'RUNNING', status: 'stalled' }, true],
      ['rewound', running, { state: 'RUNNING', status: 'rewound' }, true],
      ['falling_behind', running, { state: 'RUNNING', status: 'falling_behind' }, true],
      ['records expired', running, { state: 'RUNNING', status: 'idle', expiredRecords: 1 }, true],
      ['PAUSED with its PAUSED task', { state: 'PAUSED' }, { state: 'PAUSED', status: 'paused' }, false],
      ['PAUSED in a RUNNING task', running, { state: 'PAUSED', status: 'paused' }, true],
      ['ABNORMAL in a PAUSED task', { state: 'PAUSED' }, { state: 'ABNORMAL', status: 'paused' }, true],
      ['records expired in a PAUSED task', { state: 'PAUSED' }, { state: 'PAUSED', expiredRecords: 3 }, true],
    ];
    for (const [name, task, partition, expected] of cases) {
      it(`${name}: ${expected}`, () => {
        expect(needsAttention(task, { partitionId: 'shardId-0000000000', ...partition })).to.equal(expected);
      });
    }
  });

  describe('renderLandingPage', () => {
    it('says the first poll cycle has not finished, and shows no section before it has', () => {
      const page = renderLandingPage({ cyclesCompleted: 0, targets: [], streams: [] }, INFO);
      expect(page).to.include('<p class="warn" id="pending">The first poll cycle has not finished yet.</p>');
      expect(page).not.to.include('<section');
      expect(page).to.include(
        '<nav><a href="metrics">metrics</a><a href="-/healthy">-/healthy</a><a href="-/ready">-/ready</a>' +
          '<a href="config">config</a></nav>',
      );
    });

    it('composes its sections in order from one view: counts, tasks, attention, apps, streams, discovery', () => {
      const page = renderLandingPage(fixedSnapshot, INFO);
      const ids = [...page.matchAll(/<section id="([a-z]+)">/g)].map((m) => m[1]);
      expect(ids).to.deep.equal(['summary', 'tasks', 'attention', 'apps', 'streams', 'selectors']);
      expect(PAGE_SECTIONS).to.have.length(6);
      const views: PageView[] = [];
      const section =
        (name: string): PageSection =>
        (view) => {
          views.push(view);
          return `<section id="${name}">${view.tasks.length}</section>`;
        };
      const custom = renderLandingPage(fixedSnapshot, INFO, [section('a'), section('b')]);
      expect(custom).to.include('<section id="a">6</section>\n<section id="b">6</section>');
      expect(views[0]).to.equal(views[1]);
    });

    it('counts tasks by DIS state (no data for those not served), partitions needing attention, targets down, streams not RUNNING and app pairs down', () => {
      const page = renderLandingPage(fixedSnapshot, INFO);
      const summary = page.slice(page.indexOf('<section id="summary">'), page.indexOf('<section id="tasks">'));
      expect(
        [...summary.matchAll(/<li data-count="([^"]+)"[^>]*><b>([^<]+)<\/b>([^<]*)<\/li>/g)].map((m) => m.slice(1)),
      ).to.deep.equal([
        ['tasks', '6', 'dump tasks'],
        ['state-PAUSED', '1', 'PAUSED'],
        ['state-RUNNING', '2', 'RUNNING'],
        ['state-SUSPENDED', '1', 'SUSPENDED'],
        ['state-no data', '2', 'no data'],
        ['attention', '1', 'partitions need attention'],
        ['down', '3', 'targets down of 6'],
        ['streams-not-running', '2', 'streams not RUNNING of 3'],
        ['apps-down', '3', 'app pairs down of 4'],
        ['discovery', 'ok', 'discovery'],
      ]);
    });

    it('shows a failing target still served with its DIS state, and one past staleAfter as no data', () => {
      const page = renderLandingPage(fixedSnapshot, INFO);
      expect(page).to.include(
        '<tr data-key="orders/stale-but-served"><td>orders</td><td>stale-but-served</td><td class="ok">RUNNING</td>' +
          '<td class="num">0</td><td class="num">0</td><td class="num">1m31s</td><td class="bad">down</td>' +
          '<td>2024-01-01T00:08:00.000Z</td><td>server_error at 2024-01-01T00:09:40.000Z: ' +
          'GET /v2/p/streams/orders/transfer-tasks/stale-but-served: HTTP 500 DIS.5000</td></tr>',
      );
      expect(page).to.match(/<tr data-key="orders\/stale-and-dropped">[^\n]*<td class="bad">no data<\/td>/);
    });

    it('lists a partition that needs attention with its lag in records and seconds, stall and expired records', () => {
      const page = renderLandingPage(fixedSnapshot, INFO);
      expect(page).to.include(
        '<tr data-key="orders/orders-to-obs/shardId-0000000001"><td>orders</td><td>orders-to-obs</td>' +
          '<td>shardId-0000000001</td><td class="bad">ABNORMAL</td><td class="bad">stalled</td>' +
          '<td class="num">1500</td><td class="num">1h</td><td class="num">1h</td><td class="num bad">1000</td>' +
          '<td class="num">12</td></tr>',
      );
    });

    it('groups by project, a project a reload removed last, and escapes what comes from DIS or the config', () => {
      const snapshot: Snapshot = {
        ...fixedSnapshot,
        targets: [
          ...fixedSnapshot.targets,
          { ...fixedSnapshot.targets[0]!, projectId: 'removed<project>', target: { stream: 's', task: '<b>t</b>' } },
        ],
      };
      const info: LandingPageInfo = {
        ...INFO,
        projects: [
          {
            projectId: SNAPSHOT_PROJECT_ID,
            region: 'cn-north-4',
            targets: [{ stream: '*', task: '*', include: '^(a|b)<x>', exclude: '"q"' }],
          },
        ],
      };
      const page = renderLandingPage(snapshot, info);
      const tasks = page.slice(page.indexOf('<section id="tasks">'), page.indexOf('<section id="attention">'));
      expect([...tasks.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1])).to.deep.equal([
        `Project ${SNAPSHOT_PROJECT_ID} · cn-north-4`,
        'Project removed&lt;project&gt;',
      ]);
      expect(tasks).to.include('<td>&lt;b&gt;t&lt;/b&gt;</td>');
      expect(page).to.include(
        '<tr data-key="*/*"><td>*</td><td>*</td><td>^(a|b)&lt;x&gt;</td><td>&quot;q&quot;</td><td class="num">0</td></tr>',
      );
      expect(page).not.to.include('<b>t</b>');
    });
  });
});
