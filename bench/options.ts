import { parseArgs } from 'node:util';
import type { StateSets } from '../src/config/types.js';

/** What one benchmark run simulates and measures. */
export type BenchOptions = Readonly<{
  preset: 'default' | 'large' | 'custom';
  /** Dump tasks polled (targets), N. */
  tasks: number;
  /** Partitions per stream (so per task), P. */
  partitions: number;
  /** Dump tasks per stream (1 to 5, the DIS quota); streams = ⌈tasks / tasksPerStream⌉. */
  tasksPerStream: number;
  /** Consumer apps, each reading every stream (apps × streams pairs polled); 0: none, no app call. */
  apps: number;
  /** `poll.concurrency`, C. */
  concurrency: number;
  /** Fixed latency the simulator adds to every request, L. */
  latencyMs: number;
  /** Poll cycles in all (the first one cold). */
  cycles: number;
  /** Cycles during which the scraper scrapes back to back (the "under load" scrapes), from cycle 4 on. */
  loadCycles: number;
  /** A scrape starts this often during the load cycles; undefined: every 4 times the idle scrape time. */
  loadIntervalMs: number | undefined;
  /** Idle scrapes per encoding, and in-process renders. */
  scrapes: number;
  /** Renders of the prom-client floor and of the previous collector. */
  floorRenders: number;
  lagRecords: boolean;
  stateSets: StateSets;
  /** Where the results JSON goes. */
  outDir: string;
  /** The exporter's V8 heap cap (--max-old-space-size), as the Helm chart sets it; undefined: Node's default. */
  heapMB: number | undefined;
  /** The exporter's young generation semi-space (--max-semi-space-size), as the image sets it; undefined: Node's default. */
  semiSpaceMB: number | undefined;
}>;

const DEFAULTS = {
  tasks: 1000,
  partitions: 4,
  tasksPerStream: 1,
  apps: 0,
  concurrency: 50,
  latencyMs: 50,
  cycles: 20,
  loadCycles: 3,
  scrapes: 30,
  floorRenders: 5,
} as const;

/** The fleet-scale run (`--large`) of docs/benchmarks.md ("Results"): 5,000 tasks × 4 partitions, 50 ms latency. */
const LARGE = { tasks: 5000, partitions: 4, latencyMs: 50, concurrency: 50, scrapes: 20, floorRenders: 3 } as const;

export const USAGE = `Usage: npm run bench -- [--large] [options]

  --large                 5,000 tasks x 4 partitions, 50 ms latency, concurrency 50 (a few minutes)
  --tasks N               dump tasks to poll (default ${DEFAULTS.tasks})
  --partitions P          partitions per stream (default ${DEFAULTS.partitions})
  --tasks-per-stream T    dump tasks per stream, 1-5 (default ${DEFAULTS.tasksPerStream})
  --apps A                consumer apps, each reading every stream: A x streams app/stream pairs polled, all
                          discovered with apps: [{app: "*"}] (default ${DEFAULTS.apps}: no app call)
  --concurrency C         poll.concurrency (default ${DEFAULTS.concurrency})
  --latency L             simulator latency per request in ms (default ${DEFAULTS.latencyMs})
  --cycles K              poll cycles (default ${DEFAULTS.cycles}, at least 10): 1 cold, 2-3 quiet, the load
                          cycles from 4, a full GC after cycle 7 (or the last load cycle + 1), then quiet ones
  --load-cycles K         cycles with scrapes going on, from cycle 4 (default ${DEFAULTS.loadCycles}, at most cycles - 6)
  --load-interval MS      a scrape starts every MS during them (default 4 x the idle scrape time; 0: back to back)
  --scrapes S             idle scrapes per encoding and in-process renders (default ${DEFAULTS.scrapes}; --large ${LARGE.scrapes})
  --floor-renders F       renders of the prom-client floor and of the old collector (default ${DEFAULTS.floorRenders}; --large ${LARGE.floorRenders})
  --lag-records on|off    lag.records (default on: one stream-details call per stream and cycle)
  --state-sets all|current  metrics.stateSets (default all)
  --heap-mb M             run the exporter with a V8 heap cap of M MB (--max-old-space-size), as the Helm chart
                          does from its memory limit (default: Node's own limit)
  --semi-space-mb S       run the exporter with V8 semi-spaces of S MB (--max-semi-space-size), as the container
                          image's entry point does (default: Node's own size)
  --out DIR               where the results JSON goes (default bench/results)
`;

/** Parses the command line; throws an Error with the usage on a bad flag. */
export function parseBenchOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      large: { type: 'boolean' },
      tasks: { type: 'string' },
      partitions: { type: 'string' },
      'tasks-per-stream': { type: 'string' },
      apps: { type: 'string' },
      concurrency: { type: 'string' },
      latency: { type: 'string' },
      cycles: { type: 'string' },
      'load-cycles': { type: 'string' },
      'load-interval': { type: 'string' },
      scrapes: { type: 'string' },
      'floor-renders': { type: 'string' },
      'lag-records': { type: 'string' },
      'state-sets': { type: 'string' },
      out: { type: 'string' },
      'heap-mb': { type: 'string' },
      'semi-space-mb': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) throw new Error(USAGE);
  const base = values.large === true ? { ...DEFAULTS, ...LARGE } : DEFAULTS;
  const int = (name: keyof typeof values, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max} (got ${String(raw)})\n${USAGE}`);
    }
    return value;
  };
  const choice = <T extends string>(name: keyof typeof values, allowed: readonly T[], fallback: T): T => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${String(raw)})\n${USAGE}`);
    }
    return raw as T;
  };
  const custom = [
    'tasks',
    'partitions',
    'tasks-per-stream',
    'apps',
    'concurrency',
    'latency',
    'lag-records',
    'state-sets',
  ].some((name) => values[name as keyof typeof values] !== undefined);
  const cycles = int('cycles', base.cycles, 10, 1000);
  return {
    preset: custom ? 'custom' : values.large === true ? 'large' : 'default',
    tasks: int('tasks', base.tasks, 1, 100_000),
    partitions: int('partitions', base.partitions, 1, 5000),
    tasksPerStream: int('tasks-per-stream', base.tasksPerStream, 1, 5),
    apps: int('apps', base.apps, 0, 100),
    concurrency: int('concurrency', base.concurrency, 1, 256),
    latencyMs: int('latency', base.latencyMs, 0, 60_000),
    cycles,
    // cycles 1-3, the load cycles, then the full-GC cycle (7 at the earliest), the one left out, and one to compare
    loadCycles: int('load-cycles', base.loadCycles, 1, Math.max(1, cycles - 6)),
    loadIntervalMs: values['load-interval'] === undefined ? undefined : int('load-interval', 0, 0, 600_000),
    scrapes: int('scrapes', base.scrapes, 3, 10_000),
    floorRenders: int('floor-renders', base.floorRenders, 1, 100),
    lagRecords: choice('lag-records', ['on', 'off'], 'on') === 'on',
    stateSets: choice('state-sets', ['all', 'current'] as const, 'all'),
    outDir: typeof values.out === 'string' ? values.out : 'bench/results',
    heapMB: values['heap-mb'] === undefined ? undefined : int('heap-mb', 0, 64, 65_536),
    semiSpaceMB: values['semi-space-mb'] === undefined ? undefined : int('semi-space-mb', 0, 1, 1024),
  };
}
