import type { AppSelector, Target } from '../src/config/types.js';
import type { StreamSpecInput } from '../src/simulator/fake-dis.js';

/** The AK/SK pair the simulator accepts and the exporter signs with. */
export const BENCH_CREDENTIALS = { accessKey: 'BENCHACCESSKEY000000', secretKey: 'bench-secret-key-0123456789' };
export const BENCH_PROJECT_ID = 'bench0123456789abcdef0123456789ab';

/** The fleet to simulate: `apps` consumer apps read every stream. */
export type FleetShape = Readonly<{
  tasks: number;
  partitions: number;
  tasksPerStream: number;
  apps: number;
  latencyMs: number;
}>;

/** The streams of the fleet: ⌈tasks / tasksPerStream⌉ streams of `partitions` partitions, the tasks spread over them. */
export function fleetStreams(shape: FleetShape): StreamSpecInput[] {
  const streams: StreamSpecInput[] = [];
  for (let index = 0, s = 0; index < shape.tasks; s++) {
    const tasks = [];
    for (let t = 0; t < shape.tasksPerStream && index < shape.tasks; t++, index++) {
      tasks.push({
        name: `dump-${t}`,
        destinationType: 'OBS',
        destination: { obs_bucket_path: `bench-bucket-${s % 10}`, deliver_time_interval: 30 * (1 + (index % 4)) },
      });
    }
    streams.push({
      name: streamName(s),
      // Offsets that move at different rates, so lag, records and verdicts vary between partitions.
      partitions: Array.from({ length: shape.partitions }, (_, p) => ({
        initialRecords: 10_000 + p,
        recordsPerSecond: (s + p) % 7,
      })),
      tasks,
    });
  }
  return streams;
}

/** The scenario the simulator serves: the fleet, and the fixed latency on every request. */
export function fleetScenario(shape: FleetShape): Record<string, unknown> {
  return {
    projectId: BENCH_PROJECT_ID,
    credentials: [BENCH_CREDENTIALS],
    streams: fleetStreams(shape),
    apps: fleetApps(shape),
    faults: shape.latencyMs > 0 ? [{ kind: 'latency', latencyMs: shape.latencyMs }] : [],
  };
}

/** The consumer apps of the fleet: each reads every stream, app k some hundred records further behind than app k - 1. */
function fleetApps(shape: FleetShape): Record<string, unknown>[] {
  const names = fleetStreams(shape).map((stream) => stream.name);
  return Array.from({ length: shape.apps }, (_, k) => ({
    name: `bench-app-${String(k).padStart(3, '0')}`,
    streams: Object.fromEntries(names.map((name) => [name, { behindRecords: 100 * k }])),
  }));
}

/** The `apps` setting of the bench: every app DIS lists in every stream it reads; none without apps. */
export function fleetAppSelectors(shape: FleetShape): AppSelector[] {
  return shape.apps === 0 ? [] : [{ app: '*', stream: '*' }];
}

/** Every dump task of the fleet as a target, in scenario order. */
export function fleetTargets(shape: FleetShape): Target[] {
  return fleetStreams(shape).flatMap((stream) =>
    (stream.tasks ?? []).map((task) => ({ stream: stream.name, task: task.name })),
  );
}

/**
 * API requests per cycle at the least (docs/operations.md ("The API budget")): one details call per task, one
 * stream-details page per 1,000 partitions of each stream, one consumption-state page per 1,000 partitions of each
 * app/stream pair. The app listing comes once per discovery interval, not per cycle.
 */
export function minimumRequests(shape: FleetShape, lagRecords: boolean): number {
  const streams = Math.ceil(shape.tasks / shape.tasksPerStream);
  const pages = Math.ceil(shape.partitions / 1000);
  return shape.tasks + (lagRecords ? streams * pages : 0) + shape.apps * streams * pages;
}

function streamName(index: number): string {
  return `bench-${String(index).padStart(6, '0')}`;
}
