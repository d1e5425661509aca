const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].join('|');
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].join('|');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT`: the preferred form. */
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT`: obsolete, with a two-digit year. */
const RFC_850 = new RegExp(`^(?:${LONG_DAYS}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994`: obsolete, C's asctime(). */
const ASCTIME = new RegExp(`^(?:${DAYS}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

const YEAR_MS = 365.2425 * 24 * 3600 * 1000;

/**
 * Milliseconds since the epoch of an HTTP-date in any of the three forms a recipient must accept (RFC 9110 §5.6.7),
 * or undefined for anything else (Date.parse would take far more); `nowMs` places an RFC 850 two-digit year.
 */
export function parseHttpDate(text: string, nowMs: number): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) return utc(Number(match[3]), match[2], match[1], match.slice(4, 7));
  match = RFC_850.exec(text);
  if (match !== null) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent past year with those digits.
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = nowYear - (nowYear % 100) + Number(match[3]);
    const ms = utc(year, match[2], match[1], match.slice(4, 7));
    if (ms === undefined || ms - nowMs <= 50 * YEAR_MS) return ms;
    year -= 100;
    return utc(year, match[2], match[1], match.slice(4, 7));
  }
  match = ASCTIME.exec(text);
  if (match !== null) return utc(Number(match[6]), match[1], match[2]?.trim(), match.slice(3, 6));
  return undefined;
}

/** The instant of a UTC calendar date and time, or undefined when a field is out of range (31 Feb, 24:00:00). */
function utc(
  year: number,
  monthName: string | undefined,
  dayText: string | undefined,
  time: readonly (string | undefined)[],
): number | undefined {
  const month = MONTHS.indexOf(monthName ?? '');
  const day = Number(dayText);
  const [hour, minute, second] = time.map(Number);
  if (hour === undefined || minute === undefined || second === undefined) return undefined;
  // 60 is a leap second (RFC 9110 §5.6.7); Date.UTC rolls it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(year, month, day, hour, minute, second);
  const date = new Date(Date.UTC(year, month, day));
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day || date.getUTCFullYear() !== year) return undefined;
  return ms;
}
