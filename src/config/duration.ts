/** Milliseconds in a second, a minute, an hour and a day. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
  ['ms', 1],
];
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses `1h30m`, `30s`, `250ms`, `2d` or `0` into milliseconds; undefined if malformed, and for a bare number other
 * than 0 (missingUnit says how to write it).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^0+$/.test(trimmed)) return 0;
  const match = DURATION.exec(trimmed);
  if (trimmed === '' || match === null) return undefined;
  let ms = 0;
  DURATION_UNITS.forEach(([, size], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) ms += Number(amount) * size;
  });
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * The problem with a bare number other than 0 written where a duration belongs, as a number or as text: it shows
 * the fix (`30 has no unit: write 30s or 30ms`). Undefined for anything else, 0 included (0 needs no unit).
 */
export function missingUnit(value: unknown): string | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d+$/.test(text) || /^0+$/.test(text)) return undefined;
  return `${text} has no unit: write ${text}s or ${text}ms`;
}

/** Prints milliseconds the way the config file writes them: `1m`, `1h30m`, `250ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of DURATION_UNITS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
