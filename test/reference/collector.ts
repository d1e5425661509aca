import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { StateSets } from '../../src/config/types.js';
import { FAMILIES, describeInterval, type FamilyKey } from '../../src/metrics/names.js';
import type { Samples } from './samples.js';

/** A family's prom-client settings: its name, HELP (for the poll interval `every`) and labels, in `registry`. */
export function familyConfig(
  key: FamilyKey,
  every: string,
  stateSets: StateSets | undefined,
  registry: Registry,
): { name: string; help: string; labelNames: string[]; registers: Registry[] } {
  const spec = FAMILIES[key];
  return {
    name: spec.name,
    help: spec.help(every, stateSets ?? 'all'),
    labelNames: [...spec.labelNames],
    registers: [registry],
  };
}

/**
 * The prom-client reference, part 2: registers one instrument per family whose collect() rebuilds its series from
 * `compute()` at scrape time (reset(), then set() or inc()). This is the reference the exporter's renderer
 * (src/metrics/exposition.ts) is tested against; /metrics does not use it because it is far slower at fleet scale
 * (docs/benchmarks.md ("Results")).
 */
export function registerDisMetrics(
  registry: Registry,
  options: Readonly<{ pollIntervalMs: number; compute: () => Samples; logger: Logger; stateSets?: StateSets }>,
): void {
  const every = describeInterval(options.pollIntervalMs);
  // One translation per scrape: every collect() of the same scrape runs in the same tick, so the
  // first computes and the rest reuse it until the tick ends.
  let cached: Samples | undefined;
  const current = (): Samples => {
    if (cached === undefined) {
      cached = options.compute();
      setImmediate(() => {
        cached = undefined;
      });
    }
    return cached;
  };

  for (const key of Object.keys(FAMILIES) as FamilyKey[]) {
    const config = familyConfig(key, every, options.stateSets, registry);
    if (FAMILIES[key].type === 'counter') {
      new Counter({
        ...config,
        collect(this: Counter) {
          refill(this, key, (labels, value) => this.inc(labels, value));
        },
      });
    } else {
      new Gauge({
        ...config,
        collect(this: Gauge) {
          refill(this, key, (labels, value) => this.set(labels, value));
        },
      });
    }
  }

  // collect() must never throw: one throw turns the whole scrape into a 500.
  function refill(
    metric: Counter | Gauge,
    key: FamilyKey,
    put: (labels: Record<string, string>, value: number) => void,
  ): void {
    metric.reset();
    // prom-client re-creates a label-less series at 0 on reset(); a family without samples must have none.
    if (FAMILIES[key].labelNames.length === 0) metric.remove({});
    try {
      for (const sample of current()[key]) put({ ...sample.labels }, sample.value);
    } catch (error) {
      options.logger.error({ metric: FAMILIES[key].name, error: String(error) }, 'metric translation failed');
    }
  }
}
