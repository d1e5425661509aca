const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*)?\\})? (\\S+)$`);
const HELP = new RegExp(`^# HELP (${NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
// As Prometheus reads values (Go's strconv.ParseFloat): NaN and Inf in any case; prom-client writes NaN as "Nan".
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|[+-]?inf)$/i;
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', ''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/**
 * Parses a Prometheus text exposition (format 0.0.4) strictly: every line empty, a HELP, a TYPE or a sample of a family
 * whose TYPE came first, valid names, label pairs and values, no series twice, a final newline. Returns each
 * series (`name{labels}`, exactly as written) with its value; throws an Error naming the first bad line.
 */
export function parseExposition(text: string): Map<string, number> {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const series = new Map<string, number>();
  const typeOf = new Map<string, string>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const bad = (problem: string): never => {
        throw new Error(`line ${index + 1}: ${problem}: ${JSON.stringify(line.slice(0, 200))}`);
      };
      if (line === '') return;
      if (line.startsWith('#')) {
        const type = TYPE.exec(line);
        if (type !== null) {
          if (typeOf.has(type[1]!)) bad('a second TYPE for the family');
          typeOf.set(type[1]!, type[2]!);
        } else if (!HELP.test(line)) {
          bad('not a HELP or TYPE line');
        }
        return;
      }
      const sample = SAMPLE.exec(line);
      if (sample === null) return bad('not a sample line');
      const [, name, labels = '', value] = sample as unknown as [string, string, string | undefined, string];
      const family = [...typeOf].find(([familyName, type]) =>
        (SUFFIXES[type] ?? ['']).some((suffix) => name === `${familyName}${suffix}`),
      );
      if (family === undefined) bad('a sample before the TYPE of its family');
      if (!VALUE.test(value)) bad('not a number');
      const key = `${name}${labels}`;
      if (series.has(key)) bad('a series given twice');
      const special = value.toLowerCase();
      series.set(
        key,
        special === 'nan'
          ? NaN
          : special.endsWith('inf')
            ? Number(`${special[0] === '-' ? '-' : ''}Infinity`)
            : Number(value),
      );
    });
  return series;
}
