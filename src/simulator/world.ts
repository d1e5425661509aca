import type { PartitionOverride, PartitionSpec, Scenario, StreamSpec, TaskSpec } from './scenario.js';

/** A change made at runtime (through the control API), effective from `atMs` (epoch ms) on. */
export type WorldEvent =
  | Readonly<{ kind: 'task-state'; stream: string; task: string; state: string; atMs: number }>
  | Readonly<{
      kind: 'partition-state';
      stream: string;
      task: string;
      partitionId: string;
      state: string;
      atMs: number;
    }>
  | Readonly<{ kind: 'delete-task'; stream: string; task: string; atMs: number }>
  | Readonly<{ kind: 'delete-stream'; stream: string; atMs: number }>;

/** Everything the DIS objects are computed from: the scenario, its time zero, and the runtime changes. */
export type World = Readonly<{ scenario: Scenario; epochMs: number; events: readonly WorldEvent[] }>;

/** An element of `stream_info_list` (list streams). */
export type StreamInfoBody = {
  stream_id: string;
  stream_name: string;
  create_time: number;
  retention_period: number;
  status: string;
  stream_type: string;
  data_type: string;
  partition_count: number;
  auto_scale_enabled: boolean;
  tags: never[];
  sys_tags: never[];
};

/** The list-streams response body. */
export type ListStreamsBody = {
  total_number: number;
  stream_names: string[];
  has_more_streams: boolean;
  stream_info_list: StreamInfoBody[];
};

/** An element of the stream-details `partitions` (snake_case `partition_id`). */
export type StreamPartitionBody = {
  partition_id: string;
  status: string;
  hash_range: string;
  /** `"[start : end]"`, or null for an EXPIRED partition (dis-api.md §3.1). */
  sequence_number_range: string | null;
};

/** The stream-details response body. */
export type ShowStreamBody = {
  stream_id: string;
  stream_name: string;
  create_time: number;
  last_modified_time: number;
  retention_period: number;
  status: string;
  stream_type: string;
  data_type: string;
  writable_partition_count: number;
  readable_partition_count: number;
  auto_scale_enabled: boolean;
  tags: never[];
  sys_tags: never[];
  partitions: StreamPartitionBody[];
  has_more_partitions: boolean;
};

/** An element of the list-dump-tasks `tasks` (no partitions, like the real API). */
export type TaskSummaryBody = {
  task_name: string;
  task_id: string;
  state: string;
  destination_type: string;
  create_time: number;
  last_transfer_timestamp: number;
};

/** The list-dump-tasks response body. */
export type ListTasksBody = { total_number: number; tasks: TaskSummaryBody[] };

/** An element of the dump-task-details `partitions` (the real shape: camelCase `partitionId`). */
export type TaskPartitionBody = {
  partitionId: string;
  discard: number;
  state: string;
  last_transfer_timestamp: number;
  last_transfer_offset: number;
};

/** The dump-task-details response body; the destination description sits under a type-specific key. */
export type ShowTaskBody = {
  stream_id: string;
  stream_name: string;
  task_name: string;
  task_id: string;
  destination_type: string;
  state: string;
  create_time: number;
  last_transfer_timestamp: number;
  partitions: TaskPartitionBody[];
  [descriptionKey: string]: unknown;
};

/** What to look up, and whether it exists at the given time. */
export type Lookup<T> = { found: true; value: T } | { found: false; missing: 'stream' | 'task' };

/** A password the simulator puts into DWS descriptions that carry none, so tests can prove it never leaks. */
export const DEFAULT_DWS_PASSWORD = 'simulated-dws-password-must-never-leak';

const HASH_SPACE = 2n ** 63n;

/** The streams that exist at `nowMs`, sorted by name (the order `start_stream_name` pages through). */
export function streamsAt(world: World, nowMs: number): StreamSpec[] {
  return world.scenario.streams
    .filter((stream) => !isStreamDeleted(world, stream.name, nowMs))
    .sort((a, b) => compareNames(a.name, b.name));
}

/** List streams: names strictly after `startStreamName`, at most `limit` of them. */
export function listStreamsBody(
  world: World,
  nowMs: number,
  page: { limit: number; startStreamName?: string },
): ListStreamsBody {
  const all = streamsAt(world, nowMs);
  const after = page.startStreamName;
  const rest = after === undefined ? all : all.filter((stream) => compareNames(stream.name, after) > 0);
  const selected = rest.slice(0, page.limit);
  return {
    total_number: all.length,
    stream_names: selected.map((stream) => stream.name),
    has_more_streams: rest.length > selected.length,
    stream_info_list: selected.map((stream) => streamInfo(world, stream)),
  };
}

/** Stream details with partitions strictly after `startPartitionId`, at most `limit` of them. */
export function showStreamBody(
  world: World,
  nowMs: number,
  streamName: string,
  page: { limit: number; startPartitionId?: string },
): Lookup<ShowStreamBody> {
  const stream = findStream(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const sorted = [...stream.partitions].sort((a, b) => compareNames(a.id, b.id));
  const after = page.startPartitionId;
  const rest = after === undefined ? sorted : sorted.filter((partition) => compareNames(partition.id, after) > 0);
  const selected = rest.slice(0, page.limit);
  const createTime = world.epochMs - stream.createdMsAgo;
  return {
    found: true,
    value: {
      stream_id: stream.id,
      stream_name: stream.name,
      create_time: createTime,
      last_modified_time: createTime,
      retention_period: stream.retentionPeriodHours,
      status: 'RUNNING',
      stream_type: 'COMMON',
      data_type: 'BLOB',
      writable_partition_count: stream.partitions.filter((p) => p.status === 'ACTIVE').length,
      readable_partition_count: stream.partitions.filter((p) => p.status === 'ACTIVE' || p.status === 'DELETED').length,
      auto_scale_enabled: false,
      tags: [],
      sys_tags: [],
      partitions: selected.map((partition) => streamPartition(world, stream, partition, nowMs)),
      has_more_partitions: rest.length > selected.length,
    },
  };
}

/** List dump tasks of a stream (task-level fields only). */
export function listTasksBody(world: World, nowMs: number, streamName: string): Lookup<ListTasksBody> {
  const stream = findStream(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const tasks = stream.tasks.filter((task) => !isTaskDeleted(world, stream.name, task.name, nowMs));
  return {
    found: true,
    value: {
      total_number: tasks.length,
      tasks: tasks.map((task) => {
        const details = taskDetails(world, stream, task, nowMs);
        return {
          task_name: task.name,
          task_id: task.id,
          state: details.state,
          destination_type: task.destinationType,
          create_time: details.create_time,
          last_transfer_timestamp: details.last_transfer_timestamp,
        };
      }),
    },
  };
}

/** Dump task details in the real wire shape (dis-api.md §1.1, §1.5). */
export function showTaskBody(world: World, nowMs: number, streamName: string, taskName: string): Lookup<ShowTaskBody> {
  const stream = findStream(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const task = stream.tasks.find((candidate) => candidate.name === taskName);
  if (task === undefined || isTaskDeleted(world, stream.name, task.name, nowMs))
    return { found: false, missing: 'task' };
  return { found: true, value: taskDetails(world, stream, task, nowMs) };
}

/** End offset (exclusive "next sequence number") of a partition at `atMs`: linear in time through `initialRecords` at time zero. */
export function endOffsetAt(world: World, partition: PartitionSpec, atMs: number): number {
  const grown = Math.floor((partition.recordsPerSecond * (atMs - world.epochMs)) / 1000);
  return Math.max(0, partition.initialRecords + grown);
}

/** The response key of a destination description: the documented misspelling for DWS/CloudTable unless asked otherwise. */
export function descriptionKey(destinationType: string, correctSpelling: boolean): string {
  const type = destinationType.toLowerCase();
  const misspelt = type === 'dws' || type === 'cloudtable';
  // dis-api.md §1.1: the doc and v3 SDKs spell it "descripton" for these two; the old DIS SDK spells it correctly.
  return `${type}_destination_${misspelt && !correctSpelling ? 'descripton' : 'description'}`;
}

function taskDetails(world: World, stream: StreamSpec, task: TaskSpec, nowMs: number): ShowTaskBody {
  const createTime = world.epochMs - task.createdMsAgo;
  const taskTimeline = taskStateTimeline(world, stream.name, task);
  const taskState = stateAt(taskTimeline, nowMs);
  const partitions = stream.partitions.map((partition) => {
    const override = task.partitions[partition.id] ?? NO_OVERRIDE;
    const explicitStates = partitionStateTimeline(world, stream.name, task.name, partition.id, override);
    const stalledFrom = override.stalled ? world.epochMs - override.sinceMsAgo : Number.POSITIVE_INFINITY;
    const advancing = (atMs: number): boolean =>
      stateAt(taskTimeline, atMs) === 'RUNNING' &&
      (stateAt(explicitStates, atMs) ?? 'RUNNING') === 'RUNNING' &&
      atMs < stalledFrom;
    const changes = [...taskTimeline, ...explicitStates].map((change) => change.atMs);
    if (Number.isFinite(stalledFrom)) changes.push(stalledFrom);
    const delivery = lastDelivery(createTime, task.deliverIntervalSeconds * 1000, changes, advancing, nowMs);
    const offset =
      delivery === undefined
        ? 0
        : Math.max(partition.startOffset, endOffsetAt(world, partition, delivery) - override.behindRecords);
    const runningMs = timeInState(taskTimeline, 'RUNNING', world.epochMs, nowMs);
    return {
      partitionId: partition.id,
      discard: override.discard + Math.floor((override.discardPerSecond * runningMs) / 1000),
      state: stateAt(explicitStates, nowMs) ?? taskState ?? 'RUNNING',
      last_transfer_timestamp: delivery ?? 0,
      last_transfer_offset: offset,
    };
  });
  const description: Record<string, unknown> = { ...task.destination };
  if (task.destinationType.toUpperCase() === 'DWS' && description['user_password'] === undefined) {
    description['user_password'] = DEFAULT_DWS_PASSWORD;
  }
  return {
    stream_id: stream.id,
    stream_name: stream.name,
    task_name: task.name,
    task_id: task.id,
    destination_type: task.destinationType,
    state: taskState ?? 'RUNNING',
    create_time: createTime,
    last_transfer_timestamp: Math.max(0, ...partitions.map((p) => p.last_transfer_timestamp)),
    [descriptionKey(task.destinationType, task.correctSpelling)]: description,
    partitions,
  };
}

const NO_OVERRIDE: PartitionOverride = {
  discard: 0,
  discardPerSecond: 0,
  stalled: false,
  behindRecords: 0,
  sinceMsAgo: 0,
};

/** A state that holds from `atMs` until the next change. */
type StateChange = { atMs: number; state: string };

function taskStateTimeline(world: World, streamName: string, task: TaskSpec): StateChange[] {
  // A task not RUNNING at time zero is taken to have run until it entered its state, so it has a last delivery.
  const timeline: StateChange[] = [{ atMs: Number.NEGATIVE_INFINITY, state: 'RUNNING' }];
  if (task.state !== 'RUNNING') timeline.push({ atMs: world.epochMs - task.stateSinceMsAgo, state: task.state });
  for (const event of world.events) {
    if (event.kind === 'task-state' && event.stream === streamName && event.task === task.name) {
      timeline.push({ atMs: event.atMs, state: event.state });
    }
  }
  return sortTimeline(timeline);
}

function partitionStateTimeline(
  world: World,
  streamName: string,
  taskName: string,
  partitionId: string,
  override: PartitionOverride,
): StateChange[] {
  const timeline: StateChange[] = [];
  if (override.state !== undefined) {
    timeline.push({ atMs: Number.NEGATIVE_INFINITY, state: 'RUNNING' });
    timeline.push({ atMs: world.epochMs - override.sinceMsAgo, state: override.state });
  }
  for (const event of world.events) {
    if (
      event.kind === 'partition-state' &&
      event.stream === streamName &&
      event.task === taskName &&
      event.partitionId === partitionId
    ) {
      timeline.push({ atMs: event.atMs, state: event.state });
    }
  }
  return sortTimeline(timeline);
}

function sortTimeline(timeline: StateChange[]): StateChange[] {
  // Stable sort, so changes at the same instant apply in the order they were made; `|| 0` because
  // -Infinity minus -Infinity is NaN.
  return timeline.sort((a, b) => a.atMs - b.atMs || 0);
}

/** The state in force at `atMs`, or undefined when the timeline has not started. */
function stateAt(timeline: readonly StateChange[], atMs: number): string | undefined {
  let state: string | undefined;
  for (const change of timeline) {
    if (change.atMs > atMs) break;
    state = change.state;
  }
  return state;
}

/** Milliseconds within [fromMs, toMs] during which the timeline is in `state`. */
function timeInState(timeline: readonly StateChange[], state: string, fromMs: number, toMs: number): number {
  let total = 0;
  timeline.forEach((change, i) => {
    if (change.state !== state) return;
    const start = Math.max(change.atMs, fromMs);
    const end = Math.min(timeline[i + 1]?.atMs ?? Number.POSITIVE_INFINITY, toMs);
    if (end > start) total += end - start;
  });
  return total;
}

/**
 * The latest delivery boundary (`createTime + k × interval`, k ≥ 1) at or before `nowMs` at which the partition was
 * advancing, or undefined when there was none yet.
 */
function lastDelivery(
  createTime: number,
  intervalMs: number,
  changeTimes: readonly number[],
  advancing: (atMs: number) => boolean,
  nowMs: number,
): number | undefined {
  // Between two change points `advancing` is constant, so each segment is judged by its start.
  const starts = [...new Set(changeTimes.filter((atMs) => atMs <= nowMs))].sort((a, b) => a - b);
  if (starts[0] !== Number.NEGATIVE_INFINITY) starts.unshift(Number.NEGATIVE_INFINITY);
  let hi = nowMs;
  for (let i = starts.length - 1; i >= 0; i -= 1) {
    const lo = starts[i] as number;
    const k = Math.floor((hi - createTime) / intervalMs);
    if (k < 1) return undefined;
    const boundary = createTime + k * intervalMs;
    const probe = Number.isFinite(lo) ? lo : boundary;
    if (boundary >= lo && advancing(probe)) return boundary;
    // The segment's start is itself a change: a boundary exactly there belongs to this segment, so go below it.
    hi = lo - 1;
  }
  return undefined;
}

function streamInfo(world: World, stream: StreamSpec): StreamInfoBody {
  return {
    stream_id: stream.id,
    stream_name: stream.name,
    create_time: world.epochMs - stream.createdMsAgo,
    retention_period: stream.retentionPeriodHours,
    status: 'RUNNING',
    stream_type: 'COMMON',
    data_type: 'BLOB',
    partition_count: stream.partitions.filter((p) => p.status === 'ACTIVE').length,
    auto_scale_enabled: false,
    tags: [],
    sys_tags: [],
  };
}

function streamPartition(
  world: World,
  stream: StreamSpec,
  partition: PartitionSpec,
  nowMs: number,
): StreamPartitionBody {
  return {
    partition_id: partition.id,
    status: partition.status,
    hash_range: hashRange(stream.partitions.indexOf(partition), stream.partitions.length),
    sequence_number_range:
      partition.status === 'EXPIRED' ? null : `[${partition.startOffset} : ${endOffsetAt(world, partition, nowMs)}]`,
  };
}

/** The i-th of n equal slices of the 63-bit hash space, e.g. `"[0 : 9223372036854775807]"` for a single partition. */
function hashRange(index: number, count: number): string {
  const size = HASH_SPACE / BigInt(count);
  const start = size * BigInt(index);
  const end = index === count - 1 ? HASH_SPACE - 1n : start + size - 1n;
  return `[${start} : ${end}]`;
}

function findStream(world: World, name: string, nowMs: number): StreamSpec | undefined {
  const stream = world.scenario.streams.find((candidate) => candidate.name === name);
  return stream === undefined || isStreamDeleted(world, name, nowMs) ? undefined : stream;
}

function isStreamDeleted(world: World, stream: string, nowMs: number): boolean {
  return world.events.some((event) => event.kind === 'delete-stream' && event.stream === stream && event.atMs <= nowMs);
}

function isTaskDeleted(world: World, stream: string, task: string, nowMs: number): boolean {
  return world.events.some(
    (event) => event.kind === 'delete-task' && event.stream === stream && event.task === task && event.atMs <= nowMs,
  );
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
