/** One element of an Accept or Accept-Encoding list: its value (a media range or a coding, lower case) and its q. */
type Preference = Readonly<{ value: string; q: number }>;

/**
 * The elements of an Accept or Accept-Encoding header with their quality values (RFC 9110 §12.4.2); parameters other
 * than q are dropped. An element whose q is not a number from 0 to 1 is left out, as if it were not there.
 */
function preferences(header: string | undefined): Preference[] {
  if (header === undefined) return [];
  const list: Preference[] = [];
  for (const element of header.split(',')) {
    const [value = '', ...params] = element.split(';').map((part) => part.trim().toLowerCase());
    if (value === '') continue;
    const qParam = params.find((param) => /^q\s*=/.test(param));
    const q = qParam === undefined ? 1 : Number(qParam.slice(qParam.indexOf('=') + 1).trim());
    if (Number.isNaN(q) || q < 0 || q > 1) continue;
    list.push({ value, q });
  }
  return list;
}

/**
 * The q an Accept header gives a media type: that of its most specific range that covers it (`type/subtype`, then
 * `type/*`, then `*\/*`; of equals, the highest q), or 0 when none does. Media type parameters such as `version` and
 * `escaping` do not count: the exporter serves one version of each format, whose names need no escaping.
 */
function qualityOf(accepted: readonly Preference[], type: string): number {
  const [main] = type.split('/');
  const ranks = [type, `${main}/*`, '*/*'];
  for (const range of ranks) {
    const matching = accepted.filter((preference) => preference.value === range);
    if (matching.length > 0) return Math.max(...matching.map((preference) => preference.q));
  }
  return 0;
}

/**
 * Whether an Accept header prefers OpenMetrics to the text format: only when it gives OpenMetrics a higher q. No
 * header, `*\/*`, a tie or neither format acceptable all get the text format (the Prometheus default).
 */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  const accepted = preferences(accept);
  return qualityOf(accepted, 'application/openmetrics-text') > qualityOf(accepted, 'text/plain');
}

/** Whether an Accept-Encoding header accepts gzip: a `gzip` (or `*`) entry whose q is not 0 (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  let gzip: boolean | undefined;
  let any: boolean | undefined;
  for (const { value, q } of preferences(header)) {
    if (value === 'gzip' || value === 'x-gzip') gzip = q > 0;
    else if (value === '*') any = q > 0;
  }
  return gzip ?? any ?? false;
}
