import { expect } from 'chai';
import { formatDuration, missingUnit, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  const cases: ReadonlyArray<[string, number | undefined, string?]> = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250, '250ms'],
    ['2d', 172_800_000],
    ['1m30s500ms', 90_500],
    ['60000ms', 60_000, '1m'],
    ['60000', undefined],
    ['30', undefined],
    ['00', 0, '0s'],
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

  describe('missingUnit', () => {
    const cases: ReadonlyArray<[unknown, string | undefined]> = [
      [30, '30 has no unit: write 30s or 30ms'],
      ['30', '30 has no unit: write 30s or 30ms'],
      [' 1500 ', '1500 has no unit: write 1500s or 1500ms'],
      [0, undefined],
      ['0', undefined],
      ['30s', undefined],
      [1.5, undefined],
      [-5, undefined],
      ['fast', undefined],
      [true, undefined],
    ];
    for (const [value, problem] of cases) {
      it(`${JSON.stringify(value)} -> ${String(problem)}`, () => expect(missingUnit(value)).to.equal(problem));
    }
  });
});
