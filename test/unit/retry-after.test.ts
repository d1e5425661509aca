import { expect } from 'chai';
import { parseRetryAfter } from '../../src/dis/retry-after.js';

/** The host clock of the tests, 2024-01-01T00:00:00Z. */
const NOW = Date.UTC(2024, 0, 1);

describe('Retry-After parsing (parseRetryAfter)', () => {
  const retryAfter: ReadonlyArray<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ['0', 0],
    ['120', 120_000],
    [' 7 ', 7000],
    ['Mon, 01 Jan 2024 00:00:07 GMT', 7000],
    ['Sun, 31 Dec 2023 23:59:00 GMT', 0],
    ['Monday, 01-Jan-24 00:01:00 GMT', 60_000],
    ['Mon Jan  1 00:00:30 2024', 30_000],
    ['', undefined],
    ['1.5', undefined],
    ['-1', undefined],
    ['soon', undefined],
    ['2024-01-01T00:00:07Z', undefined],
    ['Mon, 01 Jan 2024 00:00:07 UTC', undefined],
    ['Mon, 1 Jan 2024 00:00:07 GMT', undefined],
    ['Mon, 31 Feb 2024 00:00:07 GMT', undefined],
    ['Mon, 01 Jan 2024 24:00:00 GMT', undefined],
    ['Mon, 01 Jan 2024 00:60:00 GMT', undefined],
  ];
  for (const [value, expected] of retryAfter) {
    it(`reads Retry-After ${JSON.stringify(value)} as ${expected} ms`, () => {
      expect(parseRetryAfter(value, NOW)).to.equal(expected);
    });
  }
});
