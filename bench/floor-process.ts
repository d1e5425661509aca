// The prom-client floor and the previous collector, measured in a process of their own (forked by bench/run.ts)
// from a snapshot written as JSON: a prom-client registry of a whole fleet takes far more memory than the exporter,
// which must not count as the exporter's, nor run into the exporter's heap cap.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { createExposition, type TranslationOptions } from '../src/metrics/exposition.js';
import { FAMILIES, describeInterval, type FamilyKey } from '../src/metrics/names.js';
import type { Snapshot } from '../src/poll/store.js';
import { familyConfig, registerDisMetrics } from '../test/reference/collector.js';
import { toSamples } from '../test/reference/samples.js';
import { summarize, type Summary } from './stats.js';

/** The message from bench/run.ts. */
export type FloorRequest = Readonly<{
  snapshotFile: string;
  translation: TranslationOptions;
  renders: number;
  pollIntervalMs: number;
}>;

/** The answer: the floor's render times, fill time, series and whether our exposition equals it; the old collector's. */
export type FloorReply =
  | Readonly<{
      type: 'floor';
      floor: { ms: Summary; fillMs: number; series: number; identical: boolean };
      before: Summary;
    }>
  | Readonly<{ type: 'error'; message: string }>;

function send(reply: FloorReply): void {
  process.send?.(reply);
}

process.once('message', (request: FloorRequest) => {
  void (async () => {
    try {
      const snapshot = JSON.parse(readFileSync(request.snapshotFile, 'utf8')) as Snapshot;
      const { translation, renders, pollIntervalMs } = request;
      const floor = await measureFloor(snapshot, translation, renders, pollIntervalMs);
      const before = await measureCollector(snapshot, translation, renders, pollIntervalMs);
      send({ type: 'floor', floor, before });
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
    process.disconnect();
  })();
});

/**
 * The floor: a bare prom-client Registry holding the same series (names, HELP, labels, values), set once, then
 * rendered with metrics(). Also checks that the exporter's data families are byte-identical to it.
 */
async function measureFloor(
  snapshot: Snapshot,
  options: TranslationOptions,
  renders: number,
  pollIntervalMs: number,
): Promise<{ ms: Summary; fillMs: number; series: number; identical: boolean }> {
  const nowMs = Date.now();
  const samples = toSamples(snapshot, nowMs, options);
  const registry = new Registry();
  const every = describeInterval(pollIntervalMs);
  const fillStarted = performance.now();
  let series = 0;
  for (const key of Object.keys(FAMILIES) as FamilyKey[]) {
    const spec = FAMILIES[key];
    const config = familyConfig(key, every, options.stateSets, registry);
    const metric = spec.type === 'counter' ? new Counter(config) : new Gauge(config);
    if (spec.labelNames.length === 0) metric.remove({});
    for (const sample of samples[key]) {
      if (metric instanceof Counter) metric.inc({ ...sample.labels }, sample.value);
      else metric.set({ ...sample.labels }, sample.value);
      series += 1;
    }
  }
  const fillMs = performance.now() - fillStarted;
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < renders; i++) {
    const started = performance.now();
    text = await registry.metrics();
    times.push(performance.now() - started);
  }
  const exposition = createExposition({ ...options, pollIntervalMs, logger: pino({ level: 'silent' }) });
  let ours = '';
  for await (const chunk of exposition.chunks(snapshot, nowMs, false)) ours += chunk;
  return { ms: summarize(times), fillMs, series, identical: `${ours}\n` === text };
}

/** The previous /metrics path: prom-client instruments whose collect() does reset() and set() of every series per scrape. */
async function measureCollector(
  snapshot: Snapshot,
  options: TranslationOptions,
  renders: number,
  pollIntervalMs: number,
): Promise<Summary> {
  const registry = new Registry();
  registerDisMetrics(registry, {
    pollIntervalMs,
    logger: pino({ level: 'silent' }),
    compute: () => toSamples(snapshot, Date.now(), options),
  });
  const times: number[] = [];
  for (let i = 0; i < renders; i++) {
    const started = performance.now();
    await registry.metrics();
    times.push(performance.now() - started);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return summarize(times);
}
