import type { DumpTask, PartitionProgress, StreamPartition } from '../../src/dis/types.js';
import { mulberry32 } from '../../src/simulator/prng.js';
import type { Snapshot, StreamStatus, TargetStatus } from '../../src/poll/store.js';
import type { Observation, PartitionTrack } from '../../src/poll/verdict.js';

/** How big a generated snapshot is. */
export type LargeSnapshotShape = Readonly<{ tasks: number; partitions: number; seed?: number; projectId?: string }>;

/** The project of a large snapshot's targets and streams unless its shape names another. */
export const LARGE_SNAPSHOT_PROJECT_ID = '0123456789abcdef0123456789abcdef';

const STATES = ['RUNNING', 'RUNNING', 'RUNNING', 'PAUSED', 'ABNORMAL', 'STARTING', 'ERROR', 'DELETE', 'SUSPENDED'];
const DESTINATIONS = [
  ['OBS', 'bucket/path'],
  ['DLI', 'db.table "q"\\x'],
  ['DWS', 'dws-cluster'],
  ['MRS', 'mrs\ncluster'],
  ['CLOUDTABLE', ''],
] as const;

/**
 * A deterministic snapshot of `tasks` targets (two tasks per stream for every tenth stream) with `partitions`
 * partitions each, taken `scrapeMs - 20 s`: every series lifecycle case (down, stale, dropped, not found),
 * unknown and missing states, escaped label values, every verdict, missing timestamps and offsets.
 */
export function largeSnapshot(shape: LargeSnapshotShape, scrapeMs: number): Snapshot {
  const random = mulberry32(shape.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const polledMs = scrapeMs - 20_000;
  const projectId = shape.projectId ?? LARGE_SNAPSHOT_PROJECT_ID;
  const targets: TargetStatus[] = [];
  const streams: StreamStatus[] = [];
  let index = 0;
  for (let s = 0; index < shape.tasks; s++) {
    const stream = `stream-${String(s).padStart(5, '0')}`;
    const partitionIds = Array.from({ length: shape.partitions }, (_, p) => `shardId-${String(p).padStart(10, '0')}`);
    const ranges: StreamPartition[] = partitionIds.map((partitionId, p) =>
      p === 2
        ? { partitionId, status: 'EXPIRED' }
        : { partitionId, status: 'ACTIVE', startOffset: 100 * s, endOffset: 100 * s + 5000 + p },
    );
    const streamFailing = s % 37 === 5;
    streams.push({
      projectId,
      stream,
      details: { partitions: [...ranges].reverse() },
      lastSuccessMs: streamFailing ? scrapeMs - 400_000 : polledMs,
      ...(streamFailing ? { lastError: { reason: 'timeout', message: 'no answer', atMs: polledMs } } : {}),
    });
    const tasksHere = s % 10 === 3 ? 2 : 1;
    for (let t = 0; t < tasksHere && index < shape.tasks; t++, index++) {
      const status = targetStatus(
        index,
        stream,
        `task-${index}`,
        partitionIds,
        ranges,
        polledMs,
        scrapeMs,
        pick,
        random,
      );
      targets.push({ projectId, ...status });
    }
  }
  return {
    cyclesCompleted: 7,
    lastCycleEndMs: polledMs,
    targets,
    streams,
    discovery: { errors: 1, lastSuccessMs: polledMs },
  };
}

function targetStatus(
  index: number,
  stream: string,
  task: string,
  partitionIds: readonly string[],
  ranges: readonly StreamPartition[],
  polledMs: number,
  scrapeMs: number,
  pick: <T>(items: readonly T[]) => T,
  random: () => number,
): Omit<TargetStatus, 'projectId'> {
  const [destinationType, destination] = pick(DESTINATIONS);
  const partitions: PartitionProgress[] = partitionIds.map((partitionId, p) => {
    const base = ranges[p]?.startOffset ?? 0;
    return {
      partitionId,
      ...(p === 1 && index % 5 === 0 ? {} : { state: pick(STATES) }),
      ...(index % 7 === 0 ? {} : { discard: Math.floor(random() * 50) }),
      ...(index % 11 === 0 && p === 0 ? {} : { lastTransferOffset: base + Math.floor(random() * 5200) - 100 }),
      ...(index % 13 === 0 ? {} : { lastTransferTimestampMs: polledMs - Math.floor(random() * 600_000) + 30_000 }),
    };
  });
  const details: DumpTask = {
    taskId: index % 9 === 0 ? '' : `id${index}`,
    ...(index % 17 === 0 ? {} : { state: pick(STATES) }),
    destinationType,
    destination,
    ...(index % 19 === 0 ? {} : { createTimeMs: polledMs - 86_400_000 - index }),
    ...(index % 23 === 0 ? {} : { lastTransferTimestampMs: polledMs - Math.floor(random() * 120_000) + 0.5 }),
    ...(index % 3 === 0 ? {} : { deliverIntervalSeconds: 30 * (1 + (index % 4)) }),
    partitions: index % 29 === 0 ? [] : [...partitions].reverse(),
  };
  const tracks: Record<string, PartitionTrack> = {};
  for (const partition of partitions) {
    if (partition.lastTransferOffset === undefined || random() < 0.1) continue;
    tracks[partition.partitionId] = track(partition.lastTransferOffset, polledMs, scrapeMs, random);
  }
  const target = { stream, task };
  const errors = index % 4 === 0 ? { timeout: index % 3, throttled: 1 } : {};
  switch (index % 31) {
    case 1: // failing for 2 minutes: still served
      return {
        target,
        up: false,
        lastPollMs: polledMs,
        lastSuccessMs: scrapeMs - 120_000,
        lastError: { reason: 'server_error', message: 'HTTP 500', atMs: polledMs },
        task: details,
        errors: { server_error: 2 },
        tracks,
      };
    case 2: // failing for 6 minutes: past staleAfter
      return {
        target,
        up: false,
        lastPollMs: polledMs,
        lastSuccessMs: scrapeMs - 360_000,
        lastError: { reason: 'throttled', message: 'HTTP 429', atMs: polledMs },
        task: details,
        errors: { throttled: 6 },
      };
    case 3: // deleted
      return {
        target,
        up: false,
        lastPollMs: polledMs,
        lastError: { reason: 'not_found', message: 'HTTP 400 DIS.4354', atMs: polledMs },
        errors: { not_found: 3 },
      };
    default:
      return { target, up: true, lastPollMs: polledMs, lastSuccessMs: polledMs, task: details, errors, tracks };
  }
}

/** A partition history ending at `offset` that lands on each verdict in turn. */
function track(offset: number, polledMs: number, scrapeMs: number, random: () => number): PartitionTrack {
  const kind = Math.floor(random() * 5);
  const at = (back: number): number => polledMs - back * 60_000;
  const obs = (back: number, o: number, lag: number): Observation => ({ atMs: at(back), offset: o, lagRecords: lag });
  switch (kind) {
    case 0: // idle
      return { recent: [obs(1, offset, 0), obs(0, offset, 0)] };
    case 1: // stalled or still waiting
      return {
        recent: [obs(1, offset, 10), obs(0, offset, 20)],
        waitingSinceMs: scrapeMs - Math.floor(random() * 900_000) - 60_000,
      };
    case 2: // rewound
      return { recent: [obs(1, offset + 50, 5), obs(0, offset, 55)], waitingSinceMs: at(0) };
    case 3: {
      // falling behind
      const deliveries = [
        obs(3, offset - 30, 10),
        obs(2, offset - 20, 20),
        obs(1, offset - 10, 30),
        obs(0, offset, 40),
      ];
      return { recent: deliveries, waitingSinceMs: at(0), deliveries };
    }
    default: // progressing
      return { recent: [obs(1, offset - 5, 3), obs(0, offset, 3)], waitingSinceMs: at(0) };
  }
}
