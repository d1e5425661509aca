import { expect } from 'chai';
import { parseHttpDate } from '../../src/dis/http-date.js';

/** The host clock of the tests, 2024-01-01T00:00:00Z. */
const NOW = Date.UTC(2024, 0, 1);

describe('HTTP-date parsing (parseHttpDate)', () => {
  const dates: ReadonlyArray<[string, number, number | undefined]> = [
    ['Sun, 06 Nov 1994 08:49:37 GMT', NOW, Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', NOW, Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', NOW, Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Wed Nov 16 08:49:37 1994', NOW, Date.UTC(1994, 10, 16, 8, 49, 37)],
    // RFC 850 two-digit years: up to 50 years ahead stays in this century, further back is the last one
    ['Thursday, 01-Jan-60 00:00:00 GMT', NOW, Date.UTC(2060, 0, 1)],
    ['Wednesday, 01-Jan-75 00:00:00 GMT', NOW, Date.UTC(1975, 0, 1)],
    ['Sat, 31 Dec 2016 23:59:60 GMT', NOW, Date.UTC(2017, 0, 1)],
    ['Sat, 29 Feb 2023 00:00:00 GMT', NOW, undefined],
    ['sun, 06 Nov 1994 08:49:37 GMT', NOW, undefined],
  ];
  for (const [text, nowMs, expected] of dates) {
    it(`parses the HTTP-date ${JSON.stringify(text)}`, () => {
      expect(parseHttpDate(text, nowMs)).to.equal(expected);
    });
  }
});
