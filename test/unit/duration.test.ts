import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  const cases: ReadonlyArray<[string, number | undefined, string?]> = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250, '250ms'],
    ['2d', 172_800_000],
    ['1m30s500ms', 90_500],
    ['60000', 60_000, '1m'],
    [' 10s ', 10_000, '10s'],
    ['0', 0, '0s'],
    ['', undefined],
    ['fast', undefined],
    ['1.5s', undefined],
    ['-5s', undefined],
    ['30m1h', undefined],
    ['1 h', undefined],
    ['5 minutes', undefined],
  ];
  for (const [text, ms, formatted] of cases) {
    it(`${JSON.stringify(text)} -> ${String(ms)}`, () => {
      expect(parseDuration(text)).to.equal(ms);
      if (ms !== undefined) expect(formatDuration(ms)).to.equal(formatted ?? text);
    });
  }
});
