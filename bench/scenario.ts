import type { Target } from '../src/config/types.js';
import type { StreamSpecInput } from '../src/simulator/fake-dis.js';

/** The AK/SK pair the simulator accepts and the exporter signs with. */
export const BENCH_CREDENTIALS = { accessKey: 'BENCHACCESSKEY000000', secretKey: 'bench-secret-key-0123456789' };
export const BENCH_PROJECT_ID = 'bench0123456789abcdef0123456789ab';

/** The fleet to simulate. */
export type FleetShape = Readonly<{ tasks: number; partitions: number; tasksPerStream: number; latencyMs: number }>;

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
    faults: shape.latencyMs > 0 ? [{ kind: 'latency', latencyMs: shape.latencyMs }] : [],
  };
}

/** Every dump task of the fleet as a target, in scenario order. */
export function fleetTargets(shape: FleetShape): Target[] {
  return fleetStreams(shape).flatMap((stream) =>
    (stream.tasks ?? []).map((task) => ({ stream: stream.name, task: task.name })),
  );
}

/** API requests per cycle at the least: one details call per task, one stream-details page per 1,000 partitions of each stream. */
export function minimumRequests(shape: FleetShape, lagRecords: boolean): number {
  const streams = Math.ceil(shape.tasks / shape.tasksPerStream);
  return shape.tasks + (lagRecords ? streams * Math.ceil(shape.partitions / 1000) : 0);
}

function streamName(index: number): string {
  return `bench-${String(index).padStart(6, '0')}`;
}
