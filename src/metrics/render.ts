import { Registry } from 'prom-client';

/** Content type of the Prometheus text format 0.0.4. */
export const TEXT_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** Whether an Accept header asks for OpenMetrics (as Prometheus sends it when it prefers it). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept);
}

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
