import { expect } from 'chai';
import type { Credentials } from '../../src/config/types.js';
import { createAdmission } from '../../src/dis/admission.js';
import { DisCooldownError } from '../../src/dis/cooldown.js';
import { DisHttpError } from '../../src/dis/errors.js';
import { failureOf } from '../helpers/errors.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';

const NOW = Date.UTC(2024, 0, 1);
const BLACKLISTED = new DisHttpError({ method: 'GET', path: '/v2/p/streams', statusCode: 400, apiCode: 'DIS.4309' });
const UNAUTHORIZED = new DisHttpError({ method: 'GET', path: '/v2/p/streams', statusCode: 401, apiCode: 'APIGW.0301' });

const keys = (accessKey: string): Credentials => ({ kind: 'aksk', accessKey, secretKey: 'SK-secret' });

describe('admission (cool-down, rate limit, credential changes)', () => {
  it('fails a request that waited for its rate-limit token while another call started a cool-down', async () => {
    const clock = new ManualClock(NOW);
    const credentials = keys('AK-1');
    const admission = createAdmission({
      clock,
      credentials: () => credentials,
      maxRequestsPerSecond: 1,
      rateLimitBurst: 1,
      cooldownMs: 600_000,
      authFailuresBeforeCooldown: 3,
    });
    await admission.admit(undefined);
    const waiting = failureOf(admission.admit(undefined));
    await flush();
    expect(clock.sleeping).to.equal(1);
    admission.failed(BLACKLISTED);
    expect(admission.cooldownUntilMs()).to.equal(NOW + 600_000);
    await clock.advance(1000);
    const error = await waiting;
    expect(error).to.be.instanceOf(DisCooldownError);
    expect(error.message).to.equal(
      'DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:10:00.000Z; ' +
        'check the AK/SK and project id',
    );
  });

  it('ends an auth cool-down when the credentials change in value, not when equal ones come as a new object', async () => {
    const clock = new ManualClock(NOW);
    let credentials = keys('AK-1');
    const admission = createAdmission({
      clock,
      credentials: () => credentials,
      maxRequestsPerSecond: undefined,
      rateLimitBurst: undefined,
      cooldownMs: 600_000,
      authFailuresBeforeCooldown: 1,
    });
    admission.failed(UNAUTHORIZED);
    credentials = keys('AK-1');
    expect(await failureOf(admission.admit(undefined))).to.be.instanceOf(DisCooldownError);
    credentials = keys('AK-2');
    await admission.admit(undefined);
    expect(admission.cooldownUntilMs()).to.equal(undefined);
  });
});
