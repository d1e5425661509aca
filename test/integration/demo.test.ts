import { expect } from 'chai';
import baseGot from 'got';
import { startDemo } from '../helpers/demo.js';
import { freePort } from '../helpers/net.js';

const got = baseGot.extend({ retry: { limit: 0 } });

describe('npm run demo (as the README says)', function () {
  this.timeout(60_000);

  it('builds, starts the simulator and the exporter, serves live values, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const demo = await startDemo(port);
    let exit = '';
    try {
      expect(demo.stdout()).to.include(`Metrics:        http://127.0.0.1:${port}/metrics\n`);
      const url = `http://127.0.0.1:${port}/metrics`;
      const lag = async (): Promise<number> => {
        const line = (await got(url)).body.split('\n').find((l) => l.startsWith('dis_dump_task_lag_seconds{'));
        return Number(line?.split(' ').pop());
      };
      for (
        let i = 0;
        i < 100 && (await got(`http://127.0.0.1:${port}/-/ready`, { throwHttpErrors: false })).statusCode !== 200;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const text = (await got(url)).body;
      for (const task of ['orders-to-obs', 'clicks-to-dli', 'clicks-to-dws', 'payments-to-mrs']) {
        expect(text).to.match(new RegExp(`^dis_exporter_target_up\\{[^}]*task="${task}"\\} 1$`, 'm'));
      }
      expect(text).to.match(
        /^dis_dump_task_partition_state\{[^}]*partition="shardId-0000000002",state="ABNORMAL"\} 1$/m,
      );
      expect(text).not.to.include('demo-dws-password-must-never-leak');
      // live values: the lag grows with the wall clock between two scrapes
      const before = await lag();
      await new Promise((r) => setTimeout(r, 1100));
      expect((await lag()) - before).to.be.greaterThan(1);
    } finally {
      exit = await demo.interrupt();
    }
    // npm's `sh -c` dies of the SIGINT itself (as on a terminal); the exporter inside stops cleanly
    expect(['0', 'SIGINT']).to.include(exit);
    expect(demo.stdout()).to.include('"msg":"stopped"');
  });
});
