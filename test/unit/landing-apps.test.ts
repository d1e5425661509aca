import { expect } from 'chai';
import { appTable, streamTable } from '../../src/http/landing-apps.js';
import { renderLandingPage, type LandingPageInfo } from '../../src/http/landing-page.js';
import type { Snapshot } from '../../src/poll/store.js';
import { SCRAPE_MS, SNAPSHOT_PROJECT_ID, fixedSnapshot } from '../helpers/snapshots.js';

// The landing page's consumer app and stream health tables (src/http/landing-apps.ts) and their sections.

const INFO: LandingPageInfo = {
  version: '1.2.3',
  nowMs: SCRAPE_MS,
  projects: [{ projectId: SNAPSHOT_PROJECT_ID, region: 'cn-north-4', targets: [{ stream: 'orders', task: '*' }] }],
  health: { staleAfterMs: 300_000 },
};

describe('landing page: consumer apps and streams', () => {
  it('lists the app/stream pairs, most records waiting first', () => {
    expect(appTable(fixedSnapshot.apps ?? [])).to.equal(
      [
        '<table>',
        '<thead><tr><th>app</th><th>stream</th><th>poll</th><th>records waiting</th><th>most behind</th><th>no checkpoint</th><th>expired records</th><th>last error</th></tr></thead>',
        '<tbody>',
        '<tr data-key="billing/orders"><td>billing</td><td>orders</td><td class="ok">up</td><td class="num">1598</td><td>shardId-0000000002: 1499</td><td class="num warn">1</td><td class="num bad">1000</td><td></td></tr>',
        '<tr data-key="audit/orders"><td>audit</td><td>orders</td><td class="bad">down</td><td class="num">1</td><td>shardId-0000000000: 1</td><td class="num">0</td><td class="num">0</td><td>throttled: HTTP 429</td></tr>',
        '<tr data-key="billing/archive"><td>billing</td><td>archive</td><td class="bad">down</td><td class="num">0</td><td>shardId-0000000000: 0</td><td class="num">0</td><td class="num">0</td><td>server_error: HTTP 500</td></tr>',
        '<tr data-key="gone/orders"><td>gone</td><td>orders</td><td class="bad">down</td><td class="num"></td><td></td><td class="num"></td><td class="num"></td><td>not_found: HTTP 400 DIS.4332</td></tr>',
        '</tbody>',
        '</table>',
      ].join('\n'),
    );
  });

  it('lists the streams with their health', () => {
    const streams = fixedSnapshot.streams.filter(({ details }) => details !== undefined);
    expect(streamTable(streams)).to.equal(
      [
        '<table>',
        '<thead><tr><th>stream</th><th>stream id</th><th>status</th><th>retention</th><th>writable / readable partitions</th><th>partitions not ACTIVE</th><th>last error</th></tr></thead>',
        '<tbody>',
        '<tr data-key="orders"><td>orders</td><td>RdMFID6edQdf8eDzc9e</td><td class="ok">RUNNING</td><td class="num">24 h</td><td class="num">2 / 2</td><td>shardId-0000000002 EXPIRED</td><td></td></tr>',
        '<tr data-key="clicks"><td>clicks</td><td></td><td class="bad">FROZEN</td><td class="num"></td><td class="num">? / ?</td><td>shardId-0000000000 (no status)</td><td>timeout: no response</td></tr>',
        '<tr data-key="archive"><td>archive</td><td>Zx1sArchive0000000</td><td class="bad">FROZEN</td><td class="num">168 h</td><td class="num">1 / 2</td><td>shardId-0000000001 DELETED, shardId-0000000002 MIGRATING</td><td></td></tr>',
        '</tbody>',
        '</table>',
      ].join('\n'),
    );
  });

  it('counts the streams not RUNNING and the app pairs down at the top, and puts both sections under the project', () => {
    const page = renderLandingPage(fixedSnapshot, INFO);
    expect(page).to.include(
      '<li data-count="streams-not-running" class="bad"><b>2</b>streams not RUNNING of 3</li>\n' +
        '<li data-count="apps-down" class="bad"><b>3</b>app pairs down of 4</li>',
    );
    const apps = page.indexOf('<section id="apps">\n<h2>Consumer apps</h2>\n<h3>Project ' + SNAPSHOT_PROJECT_ID);
    const streams = page.indexOf('<section id="streams">\n<h2>Streams</h2>\n<h3>Project ' + SNAPSHOT_PROJECT_ID);
    expect(apps).to.be.greaterThan(page.indexOf('<section id="attention">'));
    expect(streams).to.be.greaterThan(apps);
  });

  it('shows neither section without apps or stream details, and escapes what DIS sends', () => {
    const bare: Snapshot = { cyclesCompleted: 1, targets: [], streams: [] };
    const page = renderLandingPage(bare, INFO);
    expect(page).not.to.match(/id="apps"|id="streams"|apps-down|streams-not-running/);
    const hostile: Snapshot = {
      cyclesCompleted: 1,
      targets: [],
      streams: [{ projectId: 'p', stream: 's', details: { status: '<b>FROZEN</b>', partitions: [] } }],
      apps: [
        {
          projectId: 'p',
          pair: { app: 'a', stream: 's' },
          up: false,
          lastPollMs: 1,
          lastError: { reason: 'client_error', message: '<script>alert(1)</script>', atMs: 1 },
          errors: {},
        },
      ],
    };
    const hostilePage = renderLandingPage(hostile, {
      ...INFO,
      projects: [{ projectId: 'p', region: 'cn-north-4', targets: [] }],
    });
    expect(hostilePage).to.include('<td>client_error: &lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(hostilePage).to.include('<td class="bad">&lt;b&gt;FROZEN&lt;/b&gt;</td>');
    expect(hostilePage).not.to.match(/<script>|<b>FROZEN/);
  });
});
