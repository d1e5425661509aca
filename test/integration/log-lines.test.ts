import { expect } from 'chai';
import type { App } from '../../src/app.js';
import type { TargetSelector } from '../../src/config/types.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { SCENARIO, SCENARIO_EPOCH_MS, cyclesCompleted, startExporter, testConfig } from '../helpers/exporter.js';
import { atLeast, logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

// What the log says, as an operator reads it: the table of docs/operations.md ("By log message") gives level error to
// bugs and outages only, and each line names its component once.

describe('log lines', () => {
  describe('stopping while DIS hangs (SIGTERM during a poll cycle)', () => {
    let dis: FakeDis;
    let clock: ManualClock;
    let app: App | undefined;
    beforeEach(async () => {
      clock = new ManualClock(SCENARIO_EPOCH_MS + 90_000);
      dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
      // Every request is taken and never answered: the polls hang until they are aborted.
      dis.control.addFault({ kind: 'timeout' });
    });
    afterEach(async () => {
      await app?.stop();
      app = undefined;
      await dis.close();
    });

    /** Starts the exporter on `targets` against the hanging DIS, waits for `requests` requests, stops it. */
    async function stopWhileHanging(targets: TargetSelector[], requests: number) {
      const { logger, lines } = logCapture('trace');
      // A poll.timeout far away: the polls are still waiting when the stop comes.
      const config = testConfig(dis.url, { timeoutMs: 600_000 }, targets);
      ({ app } = await startExporter(config, { clock, logger }));
      for (let i = 0; i < 2000 && dis.control.requests().length < requests; i++) await flush();
      expect(dis.control.requests()).to.have.length(requests);
      await app.stop();
      return { lines, app };
    }

    it('logs nothing at error level and counts no target error when polls are aborted', async () => {
      const { lines, app } = await stopWhileHanging(
        [
          { stream: 'orders', task: 'orders-to-obs' },
          { stream: 'clicks', task: 'clicks-to-dli' },
        ],
        4, // two tasks and their two streams (lag in records)
      );
      expect(lines.filter((line) => atLeast(line, 'error'))).to.deep.equal([]);
      expect(lines.filter((line) => line.msg === 'poll failed' || line.msg === 'stream details failed')).to.deep.equal(
        [],
      );
      const snapshot = app.store.current();
      expect([snapshot.cyclesCompleted, snapshot.targets]).to.deep.equal([0, []]);
      let exposition = '';
      for await (const chunk of app.metrics(false)) exposition += chunk;
      expect(exposition).not.to.match(/^dis_exporter_target_errors_total\{/m);
    });

    it('logs nothing at error level when a discovery is aborted', async () => {
      const { lines } = await stopWhileHanging([{ stream: '*', task: '*' }], 1);
      expect(lines.filter((line) => atLeast(line, 'error'))).to.deep.equal([]);
      expect(lines.map((line) => line.msg)).not.to.include('discovery failed');
    });
  });

  describe('component', () => {
    let dis: FakeDis;
    let app: App | undefined;
    afterEach(async () => {
      await app?.stop();
      app = undefined;
      await dis.close();
    });

    it('appears exactly once in every line, discovery lines included (pino writes a repeated binding twice)', async () => {
      const clock = new ManualClock(SCENARIO_EPOCH_MS + 90_000);
      dis = await startFakeDis({ scenario: parseScenario(SCENARIO), clock });
      const { logger, lines, texts } = logCapture('trace');
      const config = testConfig(dis.url, {}, [{ stream: 'orders', task: '*' }]);
      ({ app } = await startExporter({ ...config, discovery: { intervalMs: 60_000 } }, { clock, logger }));
      await cyclesCompleted(app, 1);
      // A failing discovery logs too: the next one, a discovery.interval later, meets a 500.
      dis.control.addFault({ match: { operation: 'list_transfer_tasks' }, kind: 'status', status: 500, times: 1 });
      await clock.advance(60_000);
      await cyclesCompleted(app, 2);
      const discovery = lines.filter((line) => line.component === 'discovery').map((line) => line.msg);
      expect(discovery).to.deep.equal(['discovery finished', 'discovery failed']);
      for (const text of texts) expect(text.match(/"component":/g) ?? [], text).to.have.length(1);
    });
  });
});
