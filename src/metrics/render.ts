import { Registry } from 'prom-client';
import type { Snapshot } from '../poll/store.js';
import type { Exposition } from './exposition.js';

/** Content type of the Prometheus text format 0.0.4. */
export const TEXT_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

type MetricData = { name: string; type: string; help: string; values: unknown[] };
type MetricView = { get(): Promise<MetricData> };
type MetricSource = { getForPromString?: () => Promise<MetricData>; get(): Promise<MetricData> };
/** prom-client's per-metric formatter: public in its JavaScript, missing from its typings. */
type Formatter = { getMetricsAsString(metric: MetricView): Promise<string> };

/** Renders a text-format registry in the requested format without changing it. */
export async function renderMetrics(registry: Registry, openMetrics: boolean): Promise<string> {
  if (!openMetrics) return registry.metrics();
  // prom-client's own OpenMetrics path renames each Counter in place (strips `_total`), which breaks
  // every later text scrape of the same registry; render through read-only views instead.
  const openMetricsRegistry = new Registry<typeof OPENMETRICS_CONTENT_TYPE>();
  openMetricsRegistry.setContentType(OPENMETRICS_CONTENT_TYPE);
  const formatter = openMetricsRegistry as unknown as Formatter;
  const parts = await Promise.all(
    registry.getMetricsAsArray().map((metric) => {
      const source = metric as unknown as MetricSource;
      return formatter.getMetricsAsString({
        async get() {
          const data = source.getForPromString ? await source.getForPromString() : await source.get();
          return data.type === 'counter' ? { ...data, name: data.name.replace(/_total$/, '') } : data;
        },
      });
    }),
  );
  return `${parts.join('\n')}\n# EOF\n`;
}

/** Where a /metrics body comes from: the data families of the latest snapshot, then the registry's own metrics. */
export type ExpositionSource = Readonly<{
  exposition: Exposition;
  registry: Registry;
  snapshot: () => Snapshot;
  now: () => number;
}>;

/**
 * The whole /metrics body as text chunks, byte for byte what one prom-client registry holding every family would
 * render: the data families from the snapshot (at the scrape time), then the registry's families (self-metrics
 * and process metrics). Rejects on the first chunk if the registry cannot render, before anything is sent.
 */
export async function* renderExposition(
  source: ExpositionSource,
  openMetrics: boolean,
): AsyncGenerator<string, void, undefined> {
  const snapshot = source.snapshot();
  const nowMs = source.now();
  const tail = await renderMetrics(source.registry, openMetrics);
  yield* source.exposition.chunks(snapshot, nowMs, openMetrics);
  // An empty registry renders only its terminator ("\n", or "\n# EOF\n"), with no separator before it.
  if (source.registry.getMetricsAsArray().length === 0) yield tail;
  else yield `${openMetrics ? '\n' : '\n\n'}${tail}`;
}
