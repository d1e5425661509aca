import { expect } from 'chai';
import { MAX_TIMER_MS, systemClock } from '../../src/clock.js';

describe('systemClock.sleep', () => {
  it('waits out a delay longer than one timer allows instead of firing at once', async () => {
    const controller = new AbortController();
    let settled = 'pending';
    const sleeping = systemClock.sleep(MAX_TIMER_MS + 60_000, controller.signal).then(
      () => (settled = 'resolved'),
      () => (settled = 'aborted'),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).to.equal('pending');
    controller.abort(new Error('stop'));
    await sleeping;
    expect(settled).to.equal('aborted');
  });

  it('resolves a short delay', async () => {
    const started = Date.now();
    await systemClock.sleep(20);
    expect(Date.now() - started).to.be.at.least(19);
  });
});
