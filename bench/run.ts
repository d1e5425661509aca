// `npm run bench [-- --large | flags]`: the real exporter (createApp, real HTTP, AK/SK signing) polls a simulated
// fleet with a fixed per-request latency; prints the figures as JSON and a table and writes them to bench/results/.
// A benchmark, not a test: it asserts nothing, it reports (docs/benchmarks.md explains the figures and the targets).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.js';
import { HEAP_GROWING_PERCENT, relaxHeapGrowth } from '../src/heap-growth.js';
import type { Config } from '../src/config/types.js';
import type { TranslationOptions } from '../src/metrics/exposition.js';
import type { Snapshot } from '../src/poll/store.js';
import { HISTORY_LENGTH } from '../src/poll/verdict.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import {
  BENCH_CREDENTIALS,
  BENCH_PROJECT_ID,
  fleetAppSelectors,
  fleetTargets,
  minimumRequests,
  type FleetShape,
} from './scenario.js';
import type { FloorReply, FloorRequest } from './floor-process.js';
import type { ScrapeTiming, ScraperReply, ScraperRequest } from './scraper-process.js';
import type { SimulatorReply, SimulatorRequest } from './simulator-process.js';
import { round, rounded, summarize, type Summary } from './stats.js';

// A poll interval longer than the run: the loop polls once at start, and the bench runs every later cycle itself.
// (20 days: with the poller's 5% jitter a wait must stay below the 2^31 ms that setTimeout accepts.)
const NEVER_MS = 20 * 86_400_000;
const MB = 1024 * 1024;

type CycleRecord = {
  cycle: number;
  /** cold: the first; settle: the one after the forced GC (slower, not counted); load: with back-to-back scrapes. */
  kind: 'cold' | 'quiet' | 'settle' | 'load';
  seconds: number;
  cpuSeconds: number;
  requests: number;
  byOperation: Record<string, number>;
  failedRequests: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  rssMB: number;
  heapUsedMB: number;
  memory: Memory;
  scrapes?: number;
  /** [started, took] in ms, from the start of the cycle. */
  scrapeTimeline?: [number, number][];
};

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const heapFlags = v8HeapFlags(options);
  if (heapFlags.some((flag) => !process.execArgv.includes(flag))) return rerunWith(heapFlags);
  const gc = exposeGc();
  // What src/main.ts does before anything else: the bench runs the exporter as it runs in production.
  const heapGrowthRelaxed = relaxHeapGrowth();
  const shape: FleetShape = {
    tasks: options.tasks,
    partitions: options.partitions,
    tasksPerStream: options.tasksPerStream,
    apps: options.apps,
    latencyMs: options.latencyMs,
  };
  const streams = Math.ceil(shape.tasks / shape.tasksPerStream);
  const partitions = shape.tasks * shape.partitions;
  const loadBefore = os.loadavg();
  log(
    `bench ${options.preset}: ${shape.tasks} tasks on ${streams} streams x ${shape.partitions} partitions, ` +
      `${shape.apps} apps (${shape.apps * streams} app/stream pairs), ` +
      `concurrency ${options.concurrency}, latency ${options.latencyMs} ms, ${options.cycles} cycles`,
  );

  const simulator = forkChild('simulator-process');
  const scraper = forkChild('scraper-process');
  let app: App | undefined;
  try {
    sendTo<SimulatorRequest>(simulator, { type: 'start', shape });
    const ready = await replyFrom<SimulatorReply, 'ready'>(simulator, 'ready');
    log(`simulator ready in ${Math.round(ready.startMs)} ms at ${ready.url}`);

    gc();
    const baseline = memory();
    const config = { ...benchConfig(options, ready.url, fleetTargets(shape)), apps: fleetAppSelectors(shape) };
    app = createApp(config, {
      logger: pino({ level: 'warn' }, pino.destination(2)),
      credentials: () => ({ kind: 'aksk', ...BENCH_CREDENTIALS }),
      readConfig: () => config,
      build: { version: 'bench', revision: 'bench', nodejsVersion: process.version },
      processMetrics: true,
    });
    const running = await app.start();
    const url = `${running.url}/metrics`;
    const minimum = minimumRequests(shape, options.lagRecords);

    // Cycle 1 is the poll loop's own, started by start(): cold (connections, JIT).
    const cycles: CycleRecord[] = [];
    const runs = { app, simulator, scraper, url };
    cycles.push(await measureCycle(runs, 1, 'cold', () => waitForFirstCycle(runs.app)));
    // Prometheus scrapes all the time: warm the scrape path up (JIT, buffers) before anything is measured.
    const warmUp = (await scrapes(scraper, url, true, 6)).slice(3);
    await scrapes(scraper, url, false, 1);
    // During the load cycles a scrape starts every 4 idle scrape times: a scrape keeps the exporter busy a quarter of
    // the time, far more than Prometheus asks of it at a 15 s interval.
    const loadIntervalMs =
      options.loadIntervalMs ?? Math.max(100, Math.round(4 * summarize(warmUp.map((timing) => timing.ms)).median));
    const { loadFrom, loadTo, gcAfter } = cyclePlan(options);
    const loadScrapes: ScrapeTiming[] = [];
    // Full GCs only after cycle `gcAfter` (once the verdicts' history is full) and after the last, for the growth in
    // between: a forced GC shrinks the young generation and makes the cycle after it cost more CPU, so that cycle is
    // left out (settle).
    let afterGcFirst = memory();
    for (let cycle = 2; cycle <= options.cycles; cycle++) {
      const kind = cycle >= loadFrom && cycle <= loadTo ? 'load' : cycle === gcAfter + 1 ? 'settle' : 'quiet';
      if (kind === 'load')
        sendTo<ScraperRequest>(scraper, { type: 'scrape', url, gzip: true, intervalMs: loadIntervalMs });
      const startedAtMs = performance.timeOrigin + performance.now();
      const record = await measureCycle(runs, cycle, kind, () => runs.app.poller.runCycle());
      if (kind === 'load') {
        sendTo<ScraperRequest>(scraper, { type: 'stop' });
        const { timings } = await replyFrom<ScraperReply, 'scrapes'>(scraper, 'scrapes');
        loadScrapes.push(...timings);
        record.scrapes = timings.length;
        // When each scrape started in the cycle, and how long it took: what was slow, and when.
        record.scrapeTimeline = timings.map((timing) => [round(timing.startedAtMs - startedAtMs), round(timing.ms)]);
      }
      cycles.push(record);
      if (cycle === gcAfter) {
        // One render first, so that both ends of the comparison hold the label text of their snapshot.
        await timeRender(app, false);
        gc();
        afterGcFirst = memory();
      }
      log(
        `cycle ${cycle} (${kind}): ${record.seconds.toFixed(2)} s, ${record.requests} requests, ` +
          `cpu ${record.cpuSeconds.toFixed(2)} s, rss ${record.rssMB.toFixed(0)} MB, heap ${record.heapUsedMB.toFixed(1)} MB` +
          (record.scrapes === undefined ? '' : `, ${record.scrapes} scrapes`),
      );
    }

    log(`idle scrapes (${options.scrapes} gzip, ${options.scrapes} identity)`);
    const idleGzip = await scrapes(scraper, url, true, options.scrapes);
    const idleIdentity = await scrapes(scraper, url, false, options.scrapes);

    log(`in-process renders (${options.scrapes}), then 3 of a new snapshot`);
    const renders = [];
    let bytes = 0;
    for (let i = 0; i < options.scrapes; i++) {
      const render = await timeRender(app, false);
      renders.push(render.ms);
      bytes = render.bytes;
    }
    gc();
    const afterGcLast = memory();
    const newSnapshotRenders = [];
    for (let i = 0; i < 3; i++) {
      app.store.replace({ ...app.store.current() });
      newSnapshotRenders.push((await timeRender(app, false)).ms);
    }

    const snapshot = app.store.current();
    const translation: TranslationOptions = {
      staleAfterMs: 300_000,
      stateSets: options.stateSets,
    };
    log(`prom-client floor (${options.floorRenders} renders) and the previous collector (${options.floorRenders})`);
    const { floor, before } = await measureFloorElsewhere(snapshot, translation, options.floorRenders);

    const quiet = cycles.filter((cycle) => cycle.kind === 'quiet');
    const idealSeconds = (requests: number): number =>
      (Math.ceil(requests / options.concurrency) * options.latencyMs) / 1000;
    const cycleSeconds = summarize(quiet.map((cycle) => cycle.seconds));
    const cycleRatios = summarize(quiet.map((cycle) => cycle.seconds / idealSeconds(cycle.requests)));
    const requests = summarize(quiet.map((cycle) => cycle.requests));
    const render = summarize(renders);
    const idleScrapes = summarize(idleGzip.map((timing) => timing.ms));
    const underLoad = summarize(loadScrapes.map((timing) => timing.ms));
    const quietAfterLoad = cycles.find((cycle) => cycle.cycle > loadTo);
    const last = cycles.at(-1)!;
    const loadAfter = os.loadavg();

    const results = {
      date: new Date().toISOString(),
      machine: {
        nproc: os.availableParallelism(),
        cpuModel: cpuModel(),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        memoryMB: Math.round(os.totalmem() / MB),
        heapLimitMB: Math.round(getHeapStatistics().heap_size_limit / MB),
        heapGrowingPercent: heapGrowthRelaxed ? HEAP_GROWING_PERCENT : 'V8 default',
        semiSpaceMB: options.semiSpaceMB ?? 'V8 default',
        loadAverageBefore: loadBefore.map(round),
        loadAverageAfter: loadAfter.map(round),
      },
      options,
      fleet: {
        tasks: shape.tasks,
        streams,
        partitions,
        apps: shape.apps,
        appPairs: shape.apps * streams,
        series: floor.series,
        exposition: { bytes },
      },
      pollCycle: {
        targets: shape.tasks,
        concurrency: options.concurrency,
        latencyMs: options.latencyMs,
        requestsPerCycle: requests.median,
        idealSeconds: idealSeconds(requests.median),
        coldSeconds: round(cycles[0]!.seconds),
        seconds: rounded(cycleSeconds),
        ratioToIdeal: rounded(cycleRatios),
        underScrapeLoadSeconds: rounded(summarize(cycles.filter((c) => c.kind === 'load').map((c) => c.seconds))),
        eventLoopDelayMs: {
          p99: round(summarize(quiet.map((cycle) => cycle.eventLoopDelayP99Ms)).median),
          max: round(summarize(quiet.map((cycle) => cycle.eventLoopDelayMaxMs)).max),
        },
      },
      cpu: {
        perCycleSeconds: rounded(summarize(quiet.map((cycle) => cycle.cpuSeconds))),
        perTargetMs: round((summarize(quiet.map((cycle) => cycle.cpuSeconds)).median * 1000) / shape.tasks),
      },
      render: {
        ms: rounded(render),
        newSnapshotMs: rounded(summarize(newSnapshotRenders)),
        floorMs: rounded(floor.ms),
        floorFillMs: round(floor.fillMs),
        previousCollectorMs: rounded(before),
        ratioToFloor: round(render.median / floor.ms.median),
        p99RatioToFloor: round(render.p99 / floor.ms.median),
        identicalToFloor: floor.identical,
      },
      scrapes: {
        idleGzipMs: rounded(idleScrapes),
        idleIdentityMs: rounded(summarize(idleIdentity.map((timing) => timing.ms))),
        duringCycleGzipMs: rounded(underLoad),
        duringCycleIntervalMs: loadIntervalMs,
        p99DuringCycleToIdle: round(underLoad.p99 / idleScrapes.p99),
        gzipBytes: idleGzip[0]?.bytes ?? 0,
        identityBytes: idleIdentity[0]?.bytes ?? 0,
      },
      memory: {
        baselineMB: roundedMemory(baseline),
        afterCycleMB: roundedMemory(last.memory),
        afterCycleAndFullGcMB: roundedMemory(afterGcLast),
        maxRssAfterCycleMB: round(Math.max(...cycles.map((cycle) => cycle.rssMB))),
        peakRssMB: round(process.resourceUsage().maxRSS / 1024),
        per1000PartitionsMB: {
          rss: round((afterGcLast.rssMB - baseline.rssMB) / (partitions / 1000)),
          heapUsed: round((afterGcLast.heapUsedMB - baseline.heapUsedMB) / (partitions / 1000)),
        },
        growthMB: {
          cycles: `${gcAfter}..${last.cycle}, after a full GC`,
          rss: round(afterGcLast.rssMB - afterGcFirst.rssMB),
          heapUsed: round(afterGcLast.heapUsedMB - afterGcFirst.heapUsedMB),
        },
        growthWithoutGcMB: {
          cycles: `${quietAfterLoad?.cycle ?? '-'}..${last.cycle}, as the cycles left it`,
          rss: round(last.rssMB - (quietAfterLoad?.rssMB ?? NaN)),
          heapUsed: round(last.heapUsedMB - (quietAfterLoad?.heapUsedMB ?? NaN)),
        },
      },
      apiRequests: {
        perCycle: rounded(requests),
        minimum,
        ratioToMinimum: round(requests.median / minimum),
        byOperation: quiet.at(-1)?.byOperation ?? {},
        failedInAllCycles: cycles.reduce((sum, cycle) => sum + cycle.failedRequests, 0),
      },
      cycles,
    };

    const file = join(options.outDir, `${results.date.replace(/[:.]/g, '-')}-${options.preset}.json`);
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n\n${table(results)}\nwritten to ${file}\n`);
    return 0;
  } finally {
    await app?.stop();
    sendTo<SimulatorRequest>(simulator, { type: 'stop' });
    sendTo<ScraperRequest>(scraper, { type: 'exit' });
  }
}

type Runs = Readonly<{ app: App; simulator: ChildProcess; scraper: ChildProcess; url: string }>;

/** Runs one cycle and measures it: wall time, CPU of this process, requests the simulator saw, event-loop delay, memory after it. */
async function measureCycle(
  runs: Runs,
  cycle: number,
  kind: CycleRecord['kind'],
  run: () => Promise<void>,
): Promise<CycleRecord> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  delay.disable();
  sendTo<SimulatorRequest>(runs.simulator, { type: 'count' });
  const counted = await replyFrom<SimulatorReply, 'count'>(runs.simulator, 'count');
  const usage = memory();
  const requests = Object.values(counted.byOperation).reduce((sum, n) => sum + n, 0);
  return {
    cycle,
    kind,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    requests,
    byOperation: counted.byOperation,
    failedRequests: Object.entries(counted.byStatus).reduce(
      (sum, [status, n]) => (status === '200' ? sum : sum + n),
      0,
    ),
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: delay.max / 1e6,
    rssMB: usage.rssMB,
    heapUsedMB: usage.heapUsedMB,
    memory: usage,
  };
}

async function waitForFirstCycle(app: App): Promise<void> {
  while (app.store.current().cyclesCompleted < 1) await new Promise((resolve) => setTimeout(resolve, 2));
}

async function scrapes(scraper: ChildProcess, url: string, gzip: boolean, count: number): Promise<ScrapeTiming[]> {
  sendTo<ScraperRequest>(scraper, { type: 'scrape', url, gzip, count });
  const { timings } = await replyFrom<ScraperReply, 'scrapes'>(scraper, 'scrapes');
  const failed = timings.filter((timing) => timing.status !== 200);
  if (failed.length > 0) throw new Error(`${failed.length} scrapes failed: HTTP ${failed[0]!.status}`);
  return timings;
}

const encoded = Buffer.allocUnsafe(1024 * 1024);

/**
 * One /metrics body rendered in process as the HTTP handler renders it, and encoded to UTF-8 the way the handler
 * does it (into a reused 1 MiB buffer); only the socket and gzip are left out.
 */
async function timeRender(app: App, openMetrics: boolean): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  let bytes = 0;
  let offset = 0;
  for await (const chunk of app.metrics(openMetrics)) {
    if (offset + 3 * chunk.length > encoded.length) {
      bytes += offset;
      offset = 0;
    }
    if (3 * chunk.length > encoded.length) bytes += Buffer.byteLength(chunk);
    else offset += encoded.write(chunk, offset);
  }
  return { ms: performance.now() - started, bytes: bytes + offset };
}

/**
 * Which cycles do what: 1 cold (the poll loop's own), then quiet ones, `loadCycles` with back-to-back scrapes from
 * cycle 4, a full GC after cycle `gcAfter` (at least 7, when every partition's history is full), the one after it
 * left out, and quiet ones to the end.
 */
export function cyclePlan(options: Pick<BenchOptions, 'loadCycles'>): {
  loadFrom: number;
  loadTo: number;
  gcAfter: number;
} {
  const loadFrom = 4;
  const loadTo = loadFrom + options.loadCycles - 1;
  return { loadFrom, loadTo, gcAfter: Math.max(HISTORY_LENGTH + 1, loadTo + 1) };
}

function benchConfig(options: BenchOptions, endpoint: string, targets: Config['targets']): Config {
  return {
    server: { host: '127.0.0.1', port: 0, maxRequests: 0 },
    web: { configFile: '' },
    log: { level: 'warn', format: 'json' },
    dis: { endpoint, region: 'cn-north-4', projectId: BENCH_PROJECT_ID, proxy: '' },
    auth: {
      ...BENCH_CREDENTIALS,
      securityToken: '',
      accessKeyFile: '',
      secretKeyFile: '',
      securityTokenFile: '',
      iam: { endpoint: '', domain: '', username: '', password: '', passwordFile: '' },
      oidc: { endpoint: '', idpId: '', idTokenFile: '' },
      metadata: { enabled: false, endpoint: 'http://169.254.169.254' },
    },
    proxy: { httpsProxy: '', httpProxy: '', noProxy: '' },
    targets,
    poll: {
      intervalMs: NEVER_MS,
      timeoutMs: 30_000,
      concurrency: options.concurrency,
      retries: 2,
      staleAfterMs: 300_000,
      // The bench measures the cycle against ⌈N/C⌉·L: only concurrency and latency may bound it.
      maxRequestsPerSecond: 0,
    },
    discovery: { intervalMs: 300_000 },
    lag: { records: options.lagRecords },
    shard: { index: 0, total: 1, fromHostname: false },
    metrics: { stateSets: options.stateSets },
  };
}

function table(results: {
  pollCycle: { idealSeconds: number; seconds: Summary; ratioToIdeal: Summary; requestsPerCycle: number };
  cpu: { perTargetMs: number };
  render: { ms: Summary; floorMs: Summary; ratioToFloor: number; previousCollectorMs: Summary };
  scrapes: { idleGzipMs: Summary; duringCycleGzipMs: Summary; p99DuringCycleToIdle: number };
  memory: { afterCycleMB: { rss: number; heapUsed: number }; growthMB: { rss: number; heapUsed: number } };
  apiRequests: { perCycle: Summary; minimum: number };
}): string {
  const { pollCycle, cpu, render, scrapes: scraped, memory: mem, apiRequests } = results;
  const rows: [string, string, string][] = [
    [
      'poll cycle (median)',
      `${pollCycle.seconds.median} s vs ideal ${pollCycle.idealSeconds} s (${pollCycle.requestsPerCycle} requests)`,
      `${pollCycle.ratioToIdeal.median}x (target <= 1.15x)`,
    ],
    ['CPU per polled target', `${cpu.perTargetMs} ms`, ''],
    [
      '/metrics render median / p99',
      `${render.ms.median} / ${render.ms.p99} ms vs floor ${render.floorMs.median} ms`,
      `${render.ratioToFloor}x (target <= 0.25x); old collector ${render.previousCollectorMs.median} ms`,
    ],
    [
      'scrape p99 during cycle / idle',
      `${scraped.duringCycleGzipMs.p99} / ${scraped.idleGzipMs.p99} ms (gzip)`,
      `${scraped.p99DuringCycleToIdle}x (target <= 2x)`,
    ],
    [
      'memory after cycle',
      `RSS ${mem.afterCycleMB.rss} MB, heap ${mem.afterCycleMB.heapUsed} MB`,
      `growth RSS ${mem.growthMB.rss} MB, heap ${mem.growthMB.heapUsed} MB (target RSS <= 250, no growth)`,
    ],
    ['API requests per cycle', `${apiRequests.perCycle.median} vs minimum ${apiRequests.minimum}`, ''],
  ];
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map(([a, b, c]) => `${a.padEnd(widths[0]!)}  ${b.padEnd(widths[1]!)}  ${c}`).join('\n');
}

type Memory = { rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number };

function memory(): Memory {
  const usage = process.memoryUsage();
  return {
    rssMB: usage.rss / MB,
    heapUsedMB: usage.heapUsed / MB,
    heapTotalMB: usage.heapTotal / MB,
    externalMB: usage.external / MB,
  };
}

function roundedMemory(usage: Memory): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  return {
    rss: round(usage.rssMB),
    heapUsed: round(usage.heapUsedMB),
    heapTotal: round(usage.heapTotalMB),
    external: round(usage.externalMB),
  };
}

/** A full GC on demand (the npm script gives no --expose-gc, so it is switched on here). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => gc();
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

/**
 * Measures the prom-client floor and the previous collector in a process of their own, from the snapshot as JSON:
 * a registry of the whole fleet needs far more memory than the exporter, which would spoil the exporter's memory
 * figures and break a run with a heap cap (--heap-mb).
 */
async function measureFloorElsewhere(
  snapshot: Snapshot,
  translation: TranslationOptions,
  renders: number,
): Promise<Extract<FloorReply, { type: 'floor' }>> {
  const dir = mkdtempSync(join(os.tmpdir(), 'dis-bench-'));
  const snapshotFile = join(dir, 'snapshot.json');
  try {
    writeFileSync(snapshotFile, JSON.stringify(snapshot));
    const child = forkChild('floor-process');
    sendTo<FloorRequest>(child, { snapshotFile, translation, renders, pollIntervalMs: NEVER_MS });
    return await replyFrom<FloorReply, 'floor'>(child, 'floor');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Forks a helper process of the bench (a module next to this one, by name: .js when compiled, .ts under tsx); the
 * exporter's heap sizes, if any, are not theirs.
 */
function forkChild(name: string): ChildProcess {
  const { NODE_OPTIONS: _sizes, ...env } = process.env;
  return fork(new URL(`${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env,
    execArgv: process.execArgv.filter((arg) => !Object.values(HEAP_FLAGS).some((flag) => arg.startsWith(flag))),
  });
}

function sendTo<T>(child: ChildProcess, message: T): void {
  if (child.connected) child.send(message as object);
}

function replyFrom<R extends { type: string }, K extends R['type']>(
  child: ChildProcess,
  type: K,
): Promise<Extract<R, { type: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: R): void => {
      if (message.type !== type && message.type !== 'error') return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (message.type === 'error') reject(new Error((message as unknown as { message: string }).message));
      else resolve(message as Extract<R, { type: K }>);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`child exited (${String(code)}) while waiting for "${type}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** The V8 flag behind each heap size option of the bench (`--heap-mb`, `--semi-space-mb`). */
const HEAP_FLAGS = { heapMB: '--max-old-space-size', semiSpaceMB: '--max-semi-space-size' } as const;

/** The V8 flags that size the exporter's heap as the options ask. */
function v8HeapFlags(options: BenchOptions): string[] {
  return (Object.keys(HEAP_FLAGS) as (keyof typeof HEAP_FLAGS)[]).flatMap((option) =>
    options[option] === undefined ? [] : [`${HEAP_FLAGS[option]}=${options[option]}`],
  );
}

/** Runs this bench again in a node started with `flags` (V8 reads them only at start); resolves to its exit code. */
function rerunWith(flags: readonly string[]): Promise<number> {
  const script = process.argv[1] ?? '';
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

process.exitCode = await main();
