import { expect } from 'chai';
import { measureClockSkewSeconds } from '../../src/dis/clock-skew.js';

/** The host clock of the tests, 2024-01-01T00:00:00Z. */
const NOW = Date.UTC(2024, 0, 1);

describe('clock skew from the Date header (measureClockSkewSeconds)', () => {
  it('measures the clock skew in whole seconds, host minus server, rounding half up', () => {
    const date = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(measureClockSkewSeconds(undefined, NOW)).to.equal(undefined);
    expect(measureClockSkewSeconds('yesterday', NOW)).to.equal(undefined);
    expect(measureClockSkewSeconds(date, NOW + 499)).to.equal(0);
    expect(measureClockSkewSeconds(date, NOW + 500)).to.equal(1);
    expect(Object.is(measureClockSkewSeconds(date, NOW - 400), 0)).to.equal(true);
    expect(measureClockSkewSeconds(date, NOW - 1_200_000)).to.equal(-1200);
  });
});
