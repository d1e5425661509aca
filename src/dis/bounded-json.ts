/** How deep a JSON text may nest and how many values it may hold before JSON.parse may build it. */
export type JsonLimits = Readonly<{
  /** Objects and arrays inside one another; the outermost is level 1. */
  maxDepth: number;
  /** Every object, array, string, number, true, false and null, the outermost included; object keys do not count. */
  maxValues: number;
}>;

/**
 * The limits of every DIS and IAM body. The largest answers the exporter reads are a page of "Querying Stream
 * Details" (at most 1,000 partitions) and the details of a dump task of a stream with as many partitions: both nest
 * 3 levels (the body, its `partitions`, one partition) and hold 5 or 6 values per partition, some 6,000 values in
 * all. 64 levels and 100,000 values leave a margin of more than 16 times over both, and what JSON.parse builds within
 * them is small; an 8 MiB body of nothing but `[` or `{},` holds millions of values, which JSON.parse would build
 * into a heap larger than the chart allows, blocking the event loop meanwhile.
 */
export const JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 64, maxValues: 100_000 });

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d;

/** Whether a character may continue a number or a literal (`-12.5e+3`, `true`): anything but JSON's punctuation. */
function continuesScalar(code: number): boolean {
  return (
    code > 0x20 &&
    code !== QUOTE &&
    code !== COMMA &&
    code !== COLON &&
    code !== OPEN_OBJECT &&
    code !== CLOSE_OBJECT &&
    code !== OPEN_ARRAY &&
    code !== CLOSE_ARRAY
  );
}

/**
 * Why `text` must not be handed to JSON.parse (`nests deeper than 64 levels`, `has more than 100000 values`), or
 * undefined when it may be. One pass over the characters, no allocation but a byte per level: strings are skipped
 * with their escapes, so brackets inside them never count. The counts are exact for JSON text; for other text they
 * are exact up to the point where JSON.parse would reject it, which is all JSON.parse ever builds of it.
 */
export function jsonLimitProblem(text: string, limits: JsonLimits = JSON_LIMITS): string | undefined {
  const { maxDepth, maxValues } = limits;
  const tooDeep = `nests deeper than ${maxDepth} levels`;
  const tooMany = `has more than ${maxValues} values`;
  // inObject[level]: whether the container open at that level is an object, whose strings alternate key and value.
  const inObject = new Uint8Array(maxDepth + 1);
  let depth = 0;
  let values = 0;
  let expectKey = false;
  const length = text.length;
  // The next backslash at or after where the last search began: -1 when the text has none left, NaN before the first.
  let nextBackslash = Number.NaN;
  /** The closing quote of the string whose content starts at `from`, one no backslash escapes; -1 when there is none. */
  const closingQuote = (from: number): number => {
    // indexOf is native and far faster than a loop over the characters, and strings are most of a real body.
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    if (!(nextBackslash === -1 || nextBackslash >= from)) nextBackslash = text.indexOf('\\', from);
    if (nextBackslash === -1 || nextBackslash > quote) return quote;
    // An escape comes first: the rest of this string goes character by character, each backslash skipping the next.
    for (let at = nextBackslash; at < length; at++) {
      const code = text.charCodeAt(at);
      if (code === BACKSLASH) at++;
      else if (code === QUOTE) return at;
    }
    return -1;
  };
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20) continue;
    switch (code) {
      case QUOTE: {
        if (expectKey) expectKey = false;
        else if (++values > maxValues) return tooMany;
        i = closingQuote(i + 1);
        // An unterminated string: JSON.parse rejects the text where it ends, and everything before it was counted.
        if (i < 0) return undefined;
        break;
      }
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++values > maxValues) return tooMany;
        if (++depth > maxDepth) return tooDeep;
        inObject[depth] = code === OPEN_OBJECT ? 1 : 0;
        expectKey = code === OPEN_OBJECT;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        // A close with nothing open: JSON.parse rejects the text here, before building anything past it.
        if (--depth < 0) return undefined;
        expectKey = false;
        break;
      case COMMA:
        expectKey = inObject[depth] === 1;
        break;
      case COLON:
        expectKey = false;
        break;
      default:
        // A number or a literal starts here: count it once and skip the rest of it.
        if (++values > maxValues) return tooMany;
        while (i + 1 < length && continuesScalar(text.charCodeAt(i + 1))) i++;
    }
  }
  return undefined;
}
