import { expect } from 'chai';
import baseGot from 'got';
import { startDemo } from '../helpers/demo.js';
import { freePort } from '../helpers/net.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

describe('npm run demo -- --auth oidc|metadata (as the README says)', function () {
  this.timeout(90_000);

  // [method, the credential request it shows, its banner line]
  const cases: ReadonlyArray<[string, string, string]> = [
    ['oidc', 'oidc_token', 'Authentication: CCE workload identity'],
    ['metadata', 'metadata_securitykey', 'Authentication: agency keys from the metadata service'],
  ];
  for (const [method, operation, banner] of cases) {
    it(`--auth ${method}: the demo's tasks up, the credentials' expiry exposed, stops on Ctrl-C`, async () => {
      const port = await freePort();
      const demo = await startDemo(port, ['--auth', method]);
      let exit = '';
      try {
        expect(demo.stdout()).to.include(banner);
        for (let i = 0; i < 200 && (await got(`http://127.0.0.1:${port}/-/ready`)).statusCode !== 200; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const text = (await got(`http://127.0.0.1:${port}/metrics`)).body;
        for (const task of ['orders-to-obs', 'clicks-to-dli', 'clicks-to-dws', 'payments-to-mrs']) {
          expect(text).to.match(new RegExp(`^dis_exporter_target_up\\{[^}]*task="${task}"\\} 1$`, 'm'));
        }
        expect(text).to.match(
          new RegExp(`^dis_exporter_credentials_expiry_timestamp_seconds\\{[^}]*method="${method}"\\} \\d+`, 'm'),
        );
        expect(text).to.match(
          new RegExp(`^dis_exporter_api_requests_total\\{operation="${operation}",code="20\\d"\\} `, 'm'),
        );
      } finally {
        exit = await demo.interrupt();
      }
      expect(['0', 'SIGINT']).to.include(exit);
      expect(demo.stdout()).to.include('"msg":"stopped"');
    });
  }
});
