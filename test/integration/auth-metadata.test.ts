import { expect } from 'chai';
import { startAuthHarness, type AuthHarness } from '../helpers/auth-harness.js';
import { PROJECT_ID, scrape, seriesOf } from '../helpers/exporter.js';

const T0 = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const EXPIRY = 'dis_exporter_credentials_expiry_timestamp_seconds';
const FAILURES = 'dis_exporter_credentials_refresh_failures_total';
const LABELS = `project_id="${PROJECT_ID}",method="metadata"`;

/** The value of a series line. */
const valueOf = (line: string | undefined): number => Number(line?.split(' ').pop());

describe('agency keys from the metadata service (real HTTP against the simulator)', () => {
  let h: AuthHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** The exporter with metadata credentials; the simulated service's keys live 1 h and are renewed 10 min ahead. */
  function start(sessionTokens: 'required' | 'optional' | 'unsupported' = 'required'): Promise<AuthHarness> {
    return startAuthHarness(
      T0,
      { agency: { keyLifetimeMs: HOUR, renewBeforeMs: 10 * MINUTE, sessionTokens } },
      (dis) => ({
        kind: 'metadata',
        endpoint: dis.metadataUrl!,
      }),
    );
  }

  const operations = (h: AuthHarness) =>
    h.dis.control.requests().map((request) => `${request.operation} ${request.status}`);

  it('signs with the temporary keys and renews them before they expire: 3 hours, no request refused', async () => {
    h = await start();
    const expiries = new Set<number>();
    let leastLeftMs = Infinity;
    for (let minute = 1; minute <= 180; minute++) {
      await h.nextCycle();
      const expiry = valueOf(seriesOf(await scrape(h.server), EXPIRY)[0]) * 1000;
      expiries.add(expiry);
      leastLeftMs = Math.min(leastLeftMs, expiry - h.clock.now());
    }
    const statuses = h.dis.control.requests().filter((request) => request.status !== 200);
    expect(statuses).to.deep.equal([]);
    // One key per hour, each fetched again in the first cycle of the service's renewal window.
    expect([...expiries]).to.deep.equal([T0 + HOUR, T0 + 110 * MINUTE, T0 + 160 * MINUTE, T0 + 210 * MINUTE]);
    // Sampled after each cycle: the cycle that starts the renewal already has the new key when it ends.
    expect(leastLeftMs).to.equal(11 * MINUTE);
    expect(h.dis.control.issuedTemporaryKeys()).to.have.length(4);
    const fetches = operations(h).filter((line) => line.startsWith('metadata_securitykey'));
    expect(fetches).to.have.length(4);
    // One session token for all of it: it lives 6 hours.
    expect(operations(h).filter((line) => line.startsWith('metadata_token'))).to.deep.equal(['metadata_token 200']);
    expect(seriesOf(await scrape(h.server), FAILURES)).to.deep.equal([`${FAILURES}{${LABELS}} 0`]);
  });

  it('goes on without a session token where the service has none (404)', async () => {
    h = await start('unsupported');
    await h.nextCycle();
    expect(operations(h).slice(0, 2)).to.deep.equal(['metadata_token 404', 'metadata_securitykey 200']);
    expect(operations(h).filter((line) => line.startsWith('metadata_token'))).to.have.length(1);
    const text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
  });

  it('fetches new keys after a 401 (keys revoked) and retries, so no target fails', async () => {
    h = await start();
    h.dis.control.revokeTemporaryKeys();
    await h.nextCycle();
    const text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
    // The cycle's four requests all meet the revoked key; they share one fetch of new keys, then each is retried.
    expect(h.dis.control.issuedTemporaryKeys()).to.have.length(2);
    expect(operations(h).filter((line) => line.endsWith(' 401'))).to.have.length(4);
    expect(operations(h).filter((line) => line.startsWith('metadata_securitykey'))).to.have.length(2);
  });

  it('counts failed fetches, backs off one poll interval, and keeps the keys out of everything shown', async () => {
    h = await start();
    h.dis.control.addFault({ match: { operation: 'metadata_securitykey' }, kind: 'status', status: 500, times: 2 });
    h.dis.control.revokeTemporaryKeys();
    await h.nextCycle(); // the 401 drops the keys; the fetch fails
    await h.nextCycle(); // fails again after the back-off
    let text = await scrape(h.server);
    expect(seriesOf(text, FAILURES)).to.deep.equal([`${FAILURES}{${LABELS}} 2`]);
    expect(operations(h).filter((line) => line === 'metadata_securitykey 500')).to.have.length(2);
    await h.nextCycle();
    text = await scrape(h.server);
    expect(seriesOf(text, 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal(['1', '1']);
    const shown = await h.everythingShown();
    for (const key of h.dis.control.issuedTemporaryKeys()) {
      for (const secret of [key.secretKey, key.securityToken.slice(0, 40)]) expect(shown).not.to.include(secret);
    }
    expect(h.logs.filter((line) => line['msg'] === 'cannot get temporary keys')).to.have.length(1);
    expect(h.logs.filter((line) => line['msg'] === 'temporary keys obtained again')).to.have.length(1);
  });
});
