import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { BasicAuth, parseBasicAuthorization } from '../../src/web/basic-auth.js';
import { BcryptWorkers } from '../../src/web/bcrypt-workers.js';
import { PASSWORD_CHECK_LIMITS, PasswordChecks, type PasswordVerifier } from '../../src/web/password-checks.js';
import { VerifiedLogins } from '../../src/web/verified-logins.js';
import { flush } from '../helpers/manual-clock.js';

// bcrypt (cost 4, to keep the tests fast) of "scrape-password-0123".
const PASSWORD = 'scrape-password-0123';
const HASH = '$2b$04$TQayRl/mqW0w86piENDtwO4Jj.1Oi8Rfawtlsa8Kl30IVQWbH01P6';
const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A verifier whose comparisons end when the test says: `password === 'right'` matches. */
function gatedVerifier(): { verify: PasswordVerifier; compared: string[]; release: () => void } {
  const compared: string[] = [];
  const waiting: Array<() => void> = [];
  return {
    compared,
    verify: async (password) => {
      compared.push(password);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return password === 'right';
    },
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

describe('basic auth', () => {
  it('parses an Authorization: Basic header; a password may hold ":"', () => {
    expect(parseBasicAuthorization(header('alice', 'pa:ss wörd'))).to.deep.equal({
      user: 'alice',
      password: 'pa:ss wörd',
    });
    expect(parseBasicAuthorization(`basic  ${Buffer.from('a:').toString('base64')}`)).to.deep.equal({
      user: 'a',
      password: '',
    });
    expect(parseBasicAuthorization(`Basic ${Buffer.from('no-colon').toString('base64')}`)).to.equal(undefined);
    expect(parseBasicAuthorization('Bearer abc')).to.equal(undefined);
    expect(parseBasicAuthorization('Basic !!!')).to.equal(undefined);
    expect(parseBasicAuthorization(undefined)).to.equal(undefined);
  });

  describe('PasswordChecks', () => {
    it(`runs ${PASSWORD_CHECK_LIMITS.perClient} comparisons at most from one client; more are refused at once`, async () => {
      const { verify, compared, release } = gatedVerifier();
      const checks = new PasswordChecks(verify);
      const outcomes = Array.from({ length: 300 }, (_, i) => checks.compare('10.0.0.1', `wrong ${i}`, 'HASH'));
      const refused = await Promise.all(outcomes.slice(PASSWORD_CHECK_LIMITS.perClient));
      expect(refused.every((outcome) => outcome === 'busy')).to.equal(true);
      expect(compared).to.have.length(PASSWORD_CHECK_LIMITS.perClient);
      expect(checks.pending).to.equal(PASSWORD_CHECK_LIMITS.perClient);
      // Another client still gets its turn.
      const other = checks.compare('10.0.0.2', 'right', 'HASH');
      release();
      expect(await other).to.equal(true);
      expect(await Promise.all(outcomes.slice(0, 4))).to.deep.equal([false, false, false, false]);
      expect(checks.pending).to.equal(0);
    });

    it(`runs ${PASSWORD_CHECK_LIMITS.total} comparisons at most in all`, async () => {
      const { verify, compared, release } = gatedVerifier();
      const checks = new PasswordChecks(verify);
      const outcomes = Array.from({ length: 40 }, (_, i) => checks.compare(`10.0.0.${i % 10}`, 'wrong', 'HASH'));
      await flush();
      expect(compared).to.have.length(PASSWORD_CHECK_LIMITS.total);
      expect(await checks.compare('10.0.1.1', 'right', 'HASH')).to.equal('busy');
      release();
      const settled = await Promise.all(outcomes);
      expect(settled.filter((outcome) => outcome === 'busy')).to.have.length(40 - PASSWORD_CHECK_LIMITS.total);
      // Once they are done, there is room again.
      const again = checks.compare('10.0.1.1', 'right', 'HASH');
      await flush();
      release();
      expect(await again).to.equal(true);
    });

    it('counts a verifier that fails as no match, and frees its place', async () => {
      const checks = new PasswordChecks(() => Promise.reject(new Error('worker gone')), { total: 1, perClient: 1 });
      expect(await checks.compare('a', 'x', 'HASH')).to.equal(false);
      expect(checks.pending).to.equal(0);
    });
  });

  describe('BasicAuth', () => {
    function auth(verify: PasswordVerifier, users = new Map([['alice', 'HASH']])) {
      return new BasicAuth(users, { verified: new VerifiedLogins(), checks: new PasswordChecks(verify) });
    }

    it('compares each new login once and remembers only successes; an unknown user costs a comparison too', async () => {
      const compared: string[] = [];
      const basic = auth(async (password, hash) => {
        compared.push(`${password}@${hash === 'HASH' ? 'HASH' : 'unknown-user-hash'}`);
        return password === 'right';
      });
      expect(
        await Promise.all([
          basic.check(header('alice', 'right'), 'c'),
          basic.check(header('alice', 'wrong'), 'c'),
          basic.check(header('bob', 'right'), 'c'),
          basic.check(undefined, 'c'),
        ]),
      ).to.deep.equal(['ok', 'denied', 'denied', 'denied']);
      expect(await basic.check(header('alice', 'right'), 'c')).to.equal('ok');
      expect(await basic.check(header('alice', 'wrong'), 'c')).to.equal('denied');
      expect(compared).to.deep.equal(['right@HASH', 'wrong@HASH', 'right@unknown-user-hash', 'wrong@HASH']);
    });

    it('answers a remembered login at once while the checks are full; others are busy', async () => {
      const { verify, release } = gatedVerifier();
      const basic = auth(verify);
      const first = basic.check(header('alice', 'right'), 'scraper');
      await flush();
      release();
      expect(await first).to.equal('ok');
      const flood = Array.from({ length: 20 }, () => basic.check(header('alice', 'wrong'), 'attacker'));
      expect(await basic.check(header('alice', 'wrong'), 'attacker')).to.equal('busy');
      expect(await basic.check(header('alice', 'right'), 'attacker')).to.equal('ok');
      release();
      await Promise.all(flood);
    });

    it('lets everything through when no user is configured', async () => {
      expect(await auth(() => Promise.resolve(false), new Map()).check(undefined, 'c')).to.equal('ok');
    });
  });

  describe('VerifiedLogins', () => {
    it('keys a login by user, hash and password; keeps the 256 most recently used', () => {
      const logins = new VerifiedLogins();
      const key = logins.keyOf('alice', 'HASH', 'pw');
      expect(key).to.not.include('pw');
      expect(logins.keyOf('alice', 'HASH', 'pw')).to.equal(key);
      expect(new Set([key, logins.keyOf('alice', 'HASH2', 'pw'), logins.keyOf('bob', 'HASH', 'pw')]).size).to.equal(3);
      logins.add(key);
      for (let i = 0; i < 255; i++) logins.add(logins.keyOf('user', 'HASH', String(i)));
      // Used again, so the oldest is another.
      expect(logins.has(key)).to.equal(true);
      logins.add(logins.keyOf('user', 'HASH', 'one more'));
      expect(logins.has(key)).to.equal(true);
      expect(logins.has(logins.keyOf('user', 'HASH', '0'))).to.equal(false);
      expect(logins.has(logins.keyOf('user', 'HASH', '1'))).to.equal(true);
    });
  });

  describe('BcryptWorkers', () => {
    let workers: BcryptWorkers | undefined;
    afterEach(async () => {
      await workers?.close();
      workers = undefined;
    });

    it('compares in a worker thread, one worker by default; a malformed hash does not match', async () => {
      workers = new BcryptWorkers();
      expect(workers.workers).to.equal(0);
      expect(
        await Promise.all([
          workers.verify(PASSWORD, HASH),
          workers.verify('wrong', HASH),
          workers.verify(PASSWORD, 'not a hash'),
          workers.verify(PASSWORD, bcrypt.hashSync(PASSWORD, 4)),
        ]),
      ).to.deep.equal([true, false, false, true]);
      expect(workers.workers).to.equal(1);
    });

    it('fails a check closed when its worker dies, and a new worker takes the next', async () => {
      const errors: string[] = [];
      // A worker that dies on the password "crash", as one that ran out of memory would.
      const source = `
        const { parentPort } = require('node:worker_threads');
        parentPort.on('message', ({ id, password }) => {
          if (password === 'crash') process.exit(3);
          parentPort.postMessage({ id, matches: password === 'right' });
        });
      `;
      workers = new BcryptWorkers({ workers: 1, source, onWorkerError: (error) => errors.push(error.message) });
      expect(
        await Promise.all([
          workers.verify('right', 'HASH'),
          workers.verify('crash', 'HASH'),
          workers.verify('right', 'HASH'),
        ]),
      ).to.deep.equal([true, false, true]);
      expect(errors).to.deep.equal(['password check worker exited with code 3']);
      expect(workers.workers).to.equal(1);
    });

    it('stops its workers on close; checks waiting then do not match', async () => {
      workers = new BcryptWorkers();
      expect(await workers.verify(PASSWORD, HASH)).to.equal(true);
      const slow = bcrypt.hashSync(PASSWORD, 12);
      const pending = [workers.verify(PASSWORD, slow), workers.verify(PASSWORD, slow)];
      await workers.close();
      expect(await Promise.all(pending)).to.deep.equal([false, false]);
      expect(workers.workers).to.equal(0);
      expect(await workers.verify(PASSWORD, HASH)).to.equal(false);
    });
  });
});
