import { normalizePartitionId } from '../dis/partition-id.js';
import type { AppStreamSpec, ConsumerStateWire, PartitionSpec } from './scenario.js';
import { endOffsetAt, streamAt, type LiveStream, type World } from './world.js';

// The consumer apps of the simulated world (docs/dis-api.md ("Consumer apps")): the app listing and each app's
// consumption state, computed from the scenario and the clock like everything else.

/** An element of the app listing's `apps`. */
export type AppEntryBody = {
  app_name: string;
  app_id: string;
  create_time: number;
  commit_checkpoint_stream_names?: string[];
};

/** The app listing body. */
export type ListAppsBody = { total_number: number; apps: AppEntryBody[]; has_more_app: boolean };

/** An element of `partition_consuming_states`, its values written as the pair's `wire` says. */
export type PartitionConsumingStateBody = {
  partition_id: string | number;
  sequence_number: string | number;
  latest_offset: string | number;
  earliest_offset: string | number;
  checkpoint_type: 'LAST_READ';
  status: string;
};

/** The consumption state body. */
export type ConsumerStateBody = {
  app_name: string;
  stream_name: string;
  partition_consuming_states: PartitionConsumingStateBody[];
  has_more: boolean;
};

/** A consumption state, or what is missing: the app (DIS.4332) or the stream (DIS.4301). */
export type ConsumerStateLookup =
  { found: true; value: ConsumerStateBody } | { found: false; missing: 'app' | 'stream' };

/** The app listing: apps sorted by name, strictly after `startAppName`, at most `limit`; only those of `streamName`. */
export function listAppsBody(
  world: World,
  page: { limit: number; startAppName?: string; streamName?: string },
): ListAppsBody {
  const { streamName, startAppName } = page;
  const all = [...world.scenario.apps]
    .filter((app) => streamName === undefined || Object.hasOwn(app.streams, streamName))
    .sort((a, b) => compare(a.name, b.name));
  const rest = startAppName === undefined ? all : all.filter((app) => compare(app.name, startAppName) > 0);
  const selected = rest.slice(0, page.limit);
  return {
    total_number: all.length,
    apps: selected.map((app) => ({
      app_name: app.name,
      app_id: app.id,
      create_time: world.epochMs - app.createdMsAgo,
      ...(app.listStreams ? { commit_checkpoint_stream_names: Object.keys(app.streams) } : {}),
    })),
    has_more_app: rest.length > selected.length,
  };
}

/**
 * The consumption state of an app in a stream at `nowMs`: its partitions by id (compared whatever form the ids and
 * `startPartitionId` take), strictly after `startPartitionId`, at most `limit`. An app that does not read the stream
 * has no checkpoint there (-1).
 */
export function consumerStateBody(
  world: World,
  nowMs: number,
  names: { app: string; stream: string },
  page: { limit: number; startPartitionId?: string },
): ConsumerStateLookup {
  const app = world.scenario.apps.find((candidate) => candidate.name === names.app);
  if (app === undefined) return { found: false, missing: 'app' };
  const stream = streamAt(world, names.stream, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const reading: AppStreamSpec = app.streams[names.stream] ?? NOT_READING;
  const sorted = stream.spec.partitions
    .map((partition) => ({ partition, id: normalizePartitionId(partition.id) ?? partition.id }))
    .sort((a, b) => compare(a.id, b.id));
  const after = page.startPartitionId === undefined ? undefined : normalizePartitionId(page.startPartitionId);
  const rest = after === undefined ? sorted : sorted.filter(({ id }) => compare(id, after) > 0);
  const selected = rest.slice(0, page.limit);
  return {
    found: true,
    value: {
      app_name: app.name,
      stream_name: stream.spec.name,
      partition_consuming_states: selected.map(({ partition, id }) =>
        partitionState(stream, partition, id, reading, world.epochMs, nowMs),
      ),
      has_more: rest.length > selected.length,
    },
  };
}

const NOT_READING: AppStreamSpec = {
  checkpoint: false,
  behindRecords: 0,
  commitIntervalSeconds: 10,
  wire: { partitionId: 'index', values: 'sdk' },
};

function partitionState(
  stream: LiveStream,
  partition: PartitionSpec,
  id: string,
  reading: AppStreamSpec,
  epochMs: number,
  nowMs: number,
): PartitionConsumingStateBody {
  const latest = Math.max(0, endOffsetAt(stream, partition, nowMs) - 1);
  const checkpoint = reading.checkpoint ? checkpointAt(stream, partition, reading, epochMs, nowMs) : -1;
  const { wire } = reading;
  return {
    partition_id: wireId(id, wire),
    sequence_number: wire.values === 'number' ? checkpoint : String(checkpoint),
    latest_offset: wire.values === 'string' ? String(latest) : latest,
    earliest_offset: wire.values === 'string' ? String(partition.startOffset) : partition.startOffset,
    checkpoint_type: 'LAST_READ',
    status: partition.status,
  };
}

/**
 * The checkpoint the app last committed: at its last commit boundary (every commitIntervalSeconds from time zero) it
 * had read up to `behindRecords` before the newest record, or, reading `readRecordsPerSecond` at most, what it read at
 * that rate since time zero from where it then was.
 */
function checkpointAt(
  stream: LiveStream,
  partition: PartitionSpec,
  reading: AppStreamSpec,
  epochMs: number,
  nowMs: number,
): number {
  const commitMs = reading.commitIntervalSeconds * 1000;
  const committedMs = epochMs + Math.floor((nowMs - epochMs) / commitMs) * commitMs;
  const newest = (atMs: number): number => endOffsetAt(stream, partition, atMs) - 1 - reading.behindRecords;
  let position = newest(committedMs);
  if (reading.readRecordsPerSecond !== undefined) {
    const read = Math.floor((reading.readRecordsPerSecond * (committedMs - epochMs)) / 1000);
    position = Math.min(position, newest(epochMs) + read);
  }
  return Math.max(0, position);
}

/** A partition id as the pair's wire writes it: `"3"`, `3` or `"shardId-0000000003"` (ids of another form as they are). */
function wireId(id: string, wire: ConsumerStateWire): string | number {
  const index = /^shardId-([0-9]+)$/.exec(id)?.[1];
  if (index === undefined || wire.partitionId === 'shardId') return id;
  return wire.partitionId === 'number' ? Number(index) : String(Number(index));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
