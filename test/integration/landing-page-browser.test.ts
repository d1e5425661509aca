import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { bundledScenarioPath, loadScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { cyclesCompleted, startExporter, testConfig } from '../helpers/exporter.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { requireAnyTool } from '../helpers/tools.js';

// The landing page as an operator sees it: the demo scenario (npm run demo) six minutes in, on a manual clock, opened
// in real headless Chromium with the page's own headers (CSP included) and JavaScript off. The screenshot is kept in
// test-artifacts/ (not committed) for a person to look at.

/** Where the screenshot goes. */
const ARTIFACTS = resolve('test-artifacts');
/** The demo's poll interval (src/simulator/demo.ts) and how far into the demo the page is looked at. */
const POLL_INTERVAL_MS = 10_000;
const DEMO_MS = 6 * 60_000;
/** Debian's package (what .ci/run installs) first; the other names are those of other distributions and runners. */
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
/** The flags of a quiet headless Chromium: no sandbox (root in CI), no GPU, nothing fetched in the background. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Cells = string[][];

describe('the landing page in headless Chromium (the demo scenario after 6 minutes)', function () {
  this.timeout(120_000);
  let dis: FakeDis;
  let app: App;
  let server: RunningServer;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const requests: string[] = [];
  const console: string[] = [];

  before(async function () {
    const executablePath = requireAnyTool(this, CHROMIUM);
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    // The demo's streams and tasks as they are; its injected latency and throttling are left out, as they would only
    // make the test wait on the manual clock.
    const demo = loadScenario(bundledScenarioPath('demo.yaml'));
    dis = await startFakeDis({ scenario: { ...demo, faults: [] }, clock });
    const config = testConfig(dis.url, { intervalMs: POLL_INTERVAL_MS }, [{ stream: '*', task: '*' }]);
    ({ app, server } = await startExporter(
      {
        ...config,
        dis: { ...config.dis, projectId: demo.projectId },
        // every app in every stream, as the demo asks (DIS_APPS=*)
        apps: [{ app: '*', stream: '*' }],
        discovery: { intervalMs: 30_000 },
      },
      { clock, credentials: demo.credentials[0]! },
    ));
    for (let cycle = 1; cycle <= DEMO_MS / POLL_INTERVAL_MS + 1; cycle++) {
      await cyclesCompleted(app, cycle);
      if (cycle <= DEMO_MS / POLL_INTERVAL_MS) await clock.advance(POLL_INTERVAL_MS);
    }
    profile = mkdtempSync(join(tmpdir(), 'dis-exporter-chromium-'));
    // A profile of its own, removed after: nothing is read from or left in the user's.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: CHROMIUM_ARGS,
      javaScriptEnabled: false,
      viewport: { width: 1400, height: 900 },
    });
    page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
    const response = await page.goto(`${server.url}/`);
    expect(response?.status()).to.equal(200);
  });

  after(async () => {
    await context?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
    await app?.stop();
    await dis?.close();
  });

  /** The text of each cell of each body row of the tables in a section, whitespace collapsed. */
  function rows(section: string): Promise<Cells> {
    return page.$$eval(`#${section} tbody tr`, (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim())),
    );
  }

  it('loads nothing but the page itself, and Chromium reports no CSP violation or other problem', () => {
    expect(requests).to.deep.equal([`${server.url}/`]);
    expect(console).to.deep.equal([]);
  });

  it('applies its inline style under the Content-Security-Policy (a bad cell is red, a good one green)', async () => {
    const colors = await page.$$eval('td.ok, td.warn, td.bad', (cells) => [
      ...new Set(
        cells.map((cell) => {
          const kind = ['ok', 'warn', 'bad'].find((name) => cell.classList.contains(name));
          return `${kind}=${cell.ownerDocument.defaultView!.getComputedStyle(cell).color}`;
        }),
      ),
    ]);
    expect(colors.sort()).to.deep.equal(['bad=rgb(207, 34, 46)', 'ok=rgb(26, 127, 55)', 'warn=rgb(154, 103, 0)']);
  });

  it('counts tasks by DIS state, the partitions that need attention, the targets down, the streams not RUNNING and the app pairs down, at the top', async () => {
    const counts = await page.$$eval('#summary li', (items) =>
      items.map((item) => `${item.getAttribute('data-count')}: ${(item.textContent ?? '').trim()}`),
    );
    expect(counts).to.deep.equal([
      'tasks: 5dump tasks',
      'state-PAUSED: 1PAUSED',
      'state-RUNNING: 4RUNNING',
      'attention: 4partitions need attention',
      'down: 0targets down of 5',
      'streams-not-running: 1streams not RUNNING of 5',
      'apps-down: 0app pairs down of 5',
      'discovery: okdiscovery',
    ]);
  });

  it("shows each task's DIS state apart from its poll status", async () => {
    const tasks = await rows('tasks');
    expect(tasks.map((cells) => [cells[0], cells[1], cells[2], cells[3], cells[4], cells[6]])).to.deep.equal([
      ['clicks', 'clicks-to-dli', 'RUNNING', '2', '0', 'up'],
      ['clicks', 'clicks-to-dws', 'PAUSED', '2', '0', 'up'],
      ['orders', 'orders-to-obs', 'RUNNING', '3', '1', 'up'],
      ['payments', 'payments-to-mrs', 'RUNNING', '1', '1', 'up'],
      ['sensors', 'sensors-to-obs', 'RUNNING', '3', '2', 'up'],
    ]);
    const stateClasses = await page.$$eval('#tasks tbody tr td:nth-child(3)', (cells) => cells.map((c) => c.className));
    expect(stateClasses).to.deep.equal(['ok', 'warn', 'ok', 'ok', 'ok']);
  });

  it('lists the partitions that need attention with their state, verdict and lag in records and seconds', async () => {
    const attention = await rows('attention');
    expect(attention.map((cells) => cells.slice(0, 5))).to.deep.equal([
      ['orders', 'orders-to-obs', 'shardId-0000000002', 'ABNORMAL', 'stalled'],
      ['payments', 'payments-to-mrs', 'shardId-0000000000', 'RUNNING', 'stalled'],
      ['sensors', 'sensors-to-obs', 'shardId-0000000001', 'RUNNING', 'falling_behind'],
      ['sensors', 'sensors-to-obs', 'shardId-0000000002', 'ABNORMAL', 'stalled'],
    ]);
    for (const cells of attention) {
      expect(cells[5], `lag in records of ${cells[2]}`).to.match(/^[1-9]\d*$/);
      expect(cells[6], `lag of ${cells[2]}`).to.match(/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/);
    }
    // records lost to retention: the sensors partition frozen 25 hours ago
    expect(attention[3]![8]).to.match(/^[1-9]\d*$/);
    expect(attention.slice(0, 3).map((cells) => cells[8])).to.deep.equal(['0', '0', '0']);
  });

  it('shows the `*` selector with its discovery status', async () => {
    expect(await rows('selectors')).to.deep.equal([['*', '*', '', '', '5']]);
    const status = await page.$eval('#discovery-status', (p) => p.textContent ?? '');
    expect(status).to.match(/^Discovery ok; last success 2024-01-01T00:0\d:\d\d\.\d{3}Z; 0 failed list calls so far$/);
  });

  it('lists the consumer apps, most records waiting first: one reading a FROZEN stream, one without a checkpoint', async () => {
    // app, stream, poll, records waiting, most behind, no checkpoint, expired records, last error
    expect(await rows('apps')).to.deep.equal([
      ['archive-reader', 'archive', 'up', '20000', 'shardId-0000000000: 20000', '0', '8001', ''],
      ['clickstream-analytics', 'clicks', 'up', '13000', 'shardId-0000000000: 7400', '0', '0', ''],
      ['billing-service', 'orders', 'up', '9', 'shardId-0000000000: 3', '0', '0', ''],
      ['billing-service', 'payments', 'up', '0', 'shardId-0000000000: 0', '0', '0', ''],
      ['fraud-detector', 'payments', 'up', '0', '', '1', '0', ''],
    ]);
  });

  it('shows the health of each stream, the FROZEN one in red', async () => {
    const streams = await rows('streams');
    // stream, status, retention, writable / readable partitions, partitions not ACTIVE, last error
    expect(streams.map((cells) => [cells[0], ...cells.slice(2)])).to.deep.equal([
      ['clicks', 'RUNNING', '24 h', '2 / 2', '', ''],
      ['orders', 'RUNNING', '24 h', '3 / 3', '', ''],
      ['payments', 'RUNNING', '24 h', '1 / 1', '', ''],
      ['sensors', 'RUNNING', '24 h', '3 / 3', '', ''],
      ['archive', 'FROZEN', '72 h', '1 / 1', '', ''],
    ]);
    expect(streams.map((cells) => cells[1])).to.satisfy((ids: string[]) => ids.every((id) => /^\w{19}$/.test(id)));
    const statusClasses = await page.$$eval('#streams tbody tr td:nth-child(3)', (cells) =>
      cells.map((c) => c.className),
    );
    expect(statusClasses).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'bad']);
  });

  it('links to metrics, the probes and the configuration, relative to where it is served', async () => {
    const links = await page.$$eval('nav a', (anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(links).to.deep.equal(['metrics', '-/healthy', '-/ready', 'config']);
  });

  it('writes a screenshot of the whole page to test-artifacts/', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'landing-page-demo.png');
    const png = await page.screenshot({ path, fullPage: true });
    expect(png.subarray(1, 4).toString()).to.equal('PNG');
    process.stdout.write(`      screenshot: ${path}\n`);
  });
});
