import { expect } from 'chai';
import { renderAppsAndStreams } from '../../src/http/landing-apps.js';
import { escapeHtml, renderLandingPage } from '../../src/http/landing-page.js';
import type { Snapshot } from '../../src/poll/store.js';
import { SNAPSHOT_PROJECT_ID, fixedSnapshot } from '../helpers/snapshots.js';

// The landing page's consumer app and stream health rows (src/http/landing-apps.ts).

describe('landing page: consumer apps and streams', () => {
  it('lists the pairs, most records waiting first, and the streams with their health', () => {
    expect(renderAppsAndStreams(fixedSnapshot, SNAPSHOT_PROJECT_ID, escapeHtml)).to.equal(
      [
        '',
        '<h3>Consumer apps</h3>',
        '<table>',
        '<thead><tr><th>app</th><th>stream</th><th>state</th><th>records waiting</th><th>most behind</th><th>no checkpoint</th><th>expired records</th><th>last error</th></tr></thead>',
        '<tbody>',
        '<tr class="up"><td>billing</td><td>orders</td><td>up</td><td>1598</td><td>shardId-0000000002: 1499</td><td>1</td><td>1000</td><td></td></tr>',
        '<tr class="down"><td>audit</td><td>orders</td><td>down</td><td>1</td><td>shardId-0000000000: 1</td><td>0</td><td>0</td><td>throttled: HTTP 429</td></tr>',
        '<tr class="down"><td>billing</td><td>archive</td><td>down</td><td>0</td><td>shardId-0000000000: 0</td><td>0</td><td>0</td><td>server_error: HTTP 500</td></tr>',
        '<tr class="down"><td>gone</td><td>orders</td><td>down</td><td></td><td></td><td></td><td></td><td>not_found: HTTP 400 DIS.4332</td></tr>',
        '</tbody>',
        '</table>',
        '<h3>Streams</h3>',
        '<table>',
        '<thead><tr><th>stream</th><th>stream id</th><th>status</th><th>retention</th><th>writable / readable partitions</th><th>partitions not ACTIVE</th><th>last error</th></tr></thead>',
        '<tbody>',
        '<tr class="up"><td>orders</td><td>RdMFID6edQdf8eDzc9e</td><td>RUNNING</td><td>24 h</td><td>2 / 2</td><td>shardId-0000000002 EXPIRED</td><td></td></tr>',
        '<tr class="down"><td>clicks</td><td></td><td>FROZEN</td><td></td><td>? / ?</td><td>shardId-0000000000 (no status)</td><td>timeout: no response</td></tr>',
        '<tr class="down"><td>archive</td><td>Zx1sArchive0000000</td><td>FROZEN</td><td>168 h</td><td>1 / 2</td><td>shardId-0000000001 DELETED, shardId-0000000002 MIGRATING</td><td></td></tr>',
        '</tbody>',
        '</table>',
      ].join('\n'),
    );
  });

  it('shows nothing for a project without apps or stream details, and escapes what DIS sends', () => {
    expect(renderAppsAndStreams(fixedSnapshot, 'another-project', escapeHtml)).to.equal('');
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
    const page = renderLandingPage(hostile, { version: '1', projects: [{ projectId: 'p', region: 'cn-north-4' }] });
    expect(page).to.include('<td>client_error: &lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(page).to.include('<td>&lt;b&gt;FROZEN&lt;/b&gt;</td>');
    expect(page).not.to.match(/<script>|<b>/);
    // The rows follow the project's targets, under its heading.
    expect(page.indexOf('<h3>Consumer apps</h3>')).to.be.greaterThan(page.indexOf('<h2>Project p'));
  });
});
