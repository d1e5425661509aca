import type { PartitionOverride, PartitionSpec, PartitionStatus, Scenario, StreamSpec, TaskSpec } from './scenario.js';

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
  | Readonly<{ kind: 'delete-stream'; stream: string; atMs: number }>
  /** A stream that exists from `atMs` on; its own time zero is `atMs`. */
  | Readonly<{ kind: 'add-stream'; spec: StreamSpec; atMs: number }>
  /** A dump task that exists from `atMs` on; its own time zero is `atMs`. */
  | Readonly<{ kind: 'add-task'; stream: string; spec: TaskSpec; atMs: number }>
  /** The task's offset for the partition drops by `records` at `atMs` and stays that much lower. */
  | Readonly<{ kind: 'rewind'; stream: string; task: string; partitionId: string; records: number; atMs: number }>
  /** Deliveries from `atMs` on lag the end offset by `behindRecords`. */
  | Readonly<{
      kind: 'partition-behind';
      stream: string;
      task: string;
      partitionId: string;
      behindRecords: number;
      atMs: number;
    }>
  | Readonly<{ kind: 'expire-partition'; stream: string; partitionId: string; atMs: number }>
  | Readonly<{
      kind: 'records-per-second';
      stream: string;
      partitionId: string;
      recordsPerSecond: number;
      atMs: number;
    }>;

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
  /** `"[start : end]"`, or null for an EXPIRED partition (docs/dis-api.md ("sequence_number_range")). */
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

/** A stream as it exists at some moment: one incarnation (a deleted and re-added stream starts afresh). */
export type LiveStream = Readonly<{
  spec: StreamSpec;
  /** Its time zero, which its `...MsAgo` fields count back from and its offsets grow from. */
  originMs: number;
  /** The runtime changes made to this incarnation (its tasks' included), oldest first. */
  events: readonly WorldEvent[];
}>;

/** A dump task as it exists at some moment: one incarnation. */
export type LiveTask = Readonly<{
  spec: TaskSpec;
  /** Its time zero: the stream's for a task of the stream's spec, else when it was added. */
  originMs: number;
  /** The runtime changes made to this incarnation, oldest first. */
  events: readonly WorldEvent[];
}>;

const HASH_SPACE = 2n ** 63n;

/** The streams that exist at `nowMs`, sorted by name (the order `start_stream_name` pages through). */
export function streamsAt(world: World, nowMs: number): LiveStream[] {
  const names = new Set(world.scenario.streams.map((stream) => stream.name));
  for (const event of world.events) if (event.kind === 'add-stream') names.add(event.spec.name);
  return [...names]
    .sort(compareNames)
    .map((name) => streamAt(world, name, nowMs))
    .filter((stream) => stream !== undefined);
}

/** The incarnation of stream `name` in force at `nowMs`, if it exists then. */
export function streamAt(world: World, name: string, nowMs: number): LiveStream | undefined {
  const spec = world.scenario.streams.find((stream) => stream.name === name);
  let current = spec === undefined ? undefined : { spec, originMs: world.epochMs, from: 0 };
  for (const { event, index } of lifecycle(world.events, nowMs, name, streamLifecycleName)) {
    current = event.kind === 'add-stream' ? { spec: event.spec, originMs: event.atMs, from: index + 1 } : undefined;
  }
  if (current === undefined) return undefined;
  const events = world.events
    .slice(current.from)
    .filter((event) => event.kind !== 'add-stream' && event.stream === name);
  return { spec: current.spec, originMs: current.originMs, events };
}

/** The dump tasks of a stream that exist at `nowMs`: those of its spec, then the added ones, in order. */
export function tasksAt(stream: LiveStream, nowMs: number): LiveTask[] {
  const names = new Set(stream.spec.tasks.map((task) => task.name));
  for (const event of stream.events) if (event.kind === 'add-task') names.add(event.spec.name);
  return [...names].map((name) => taskAt(stream, name, nowMs)).filter((task) => task !== undefined);
}

/** The incarnation of dump task `name` in force at `nowMs`, if it exists then. */
export function taskAt(stream: LiveStream, name: string, nowMs: number): LiveTask | undefined {
  const spec = stream.spec.tasks.find((task) => task.name === name);
  let current = spec === undefined ? undefined : { spec, originMs: stream.originMs, from: 0 };
  for (const { event, index } of lifecycle(stream.events, nowMs, name, taskLifecycleName)) {
    current = event.kind === 'add-task' ? { spec: event.spec, originMs: event.atMs, from: index + 1 } : undefined;
  }
  if (current === undefined) return undefined;
  const events = stream.events.slice(current.from).filter((event) => taskOf(event) === name);
  return { spec: current.spec, originMs: current.originMs, events };
}

/** List streams: names strictly after `startStreamName`, at most `limit` of them. */
export function listStreamsBody(
  world: World,
  nowMs: number,
  page: { limit: number; startStreamName?: string },
): ListStreamsBody {
  const all = streamsAt(world, nowMs);
  const after = page.startStreamName;
  const rest = after === undefined ? all : all.filter((stream) => compareNames(stream.spec.name, after) > 0);
  const selected = rest.slice(0, page.limit);
  return {
    total_number: all.length,
    stream_names: selected.map((stream) => stream.spec.name),
    has_more_streams: rest.length > selected.length,
    stream_info_list: selected.map((stream) => streamInfo(stream, nowMs)),
  };
}

/** Stream details with partitions strictly after `startPartitionId`, at most `limit` of them. */
export function showStreamBody(
  world: World,
  nowMs: number,
  streamName: string,
  page: { limit: number; startPartitionId?: string },
): Lookup<ShowStreamBody> {
  const stream = streamAt(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const { partitions } = stream.spec;
  const sorted = partitions.map((partition, index) => ({ partition, index }));
  sorted.sort((a, b) => compareNames(a.partition.id, b.partition.id));
  const after = page.startPartitionId;
  const rest = after === undefined ? sorted : sorted.filter(({ partition }) => compareNames(partition.id, after) > 0);
  const selected = rest.slice(0, page.limit);
  const statuses = partitions.map((partition) => partitionStatusAt(stream, partition, nowMs));
  const createTime = stream.originMs - stream.spec.createdMsAgo;
  const body: ShowStreamBody = {
    stream_id: stream.spec.id,
    stream_name: stream.spec.name,
    create_time: createTime,
    last_modified_time: createTime,
    retention_period: stream.spec.retentionPeriodHours,
    status: stream.spec.status,
    stream_type: 'COMMON',
    data_type: 'BLOB',
    writable_partition_count: statuses.filter((status) => status === 'ACTIVE').length,
    readable_partition_count: statuses.filter((status) => status === 'ACTIVE' || status === 'DELETED').length,
    auto_scale_enabled: false,
    tags: [],
    sys_tags: [],
    partitions: selected.map(({ partition, index }) => ({
      partition_id: partition.id,
      status: statuses[index] ?? partition.status,
      hash_range: hashRange(index, partitions.length),
      sequence_number_range: sequenceNumberRange(stream, partition, statuses[index] ?? partition.status, nowMs),
    })),
    has_more_partitions: rest.length > selected.length,
  };
  return { found: true, value: withWireOverride(body, stream.spec.wireOverride) };
}

/** List dump tasks of a stream (task-level fields only). */
export function listTasksBody(world: World, nowMs: number, streamName: string): Lookup<ListTasksBody> {
  const stream = streamAt(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const tasks = tasksAt(stream, nowMs);
  return {
    found: true,
    value: {
      total_number: tasks.length,
      tasks: tasks.map((task) => {
        const details = taskDetails(stream, task, nowMs);
        return {
          task_name: task.spec.name,
          task_id: task.spec.id,
          state: details.state,
          destination_type: task.spec.destinationType,
          create_time: details.create_time,
          last_transfer_timestamp: details.last_transfer_timestamp,
        };
      }),
    },
  };
}

/**
 * Dump task details in the real wire shape (docs/dis-api.md ("Wire format versus the official schema"),
 * ("Example")).
 */
export function showTaskBody(world: World, nowMs: number, streamName: string, taskName: string): Lookup<ShowTaskBody> {
  const stream = streamAt(world, streamName, nowMs);
  if (stream === undefined) return { found: false, missing: 'stream' };
  const task = taskAt(stream, taskName, nowMs);
  if (task === undefined) return { found: false, missing: 'task' };
  return { found: true, value: withWireOverride(taskDetails(stream, task, nowMs), task.spec.wireOverride) };
}

/**
 * End offset (exclusive "next sequence number") of a partition at `atMs`: `initialRecords` at the stream's time
 * zero, growing at `recordsPerSecond` as changed at runtime, frozen once the partition expires.
 */
export function endOffsetAt(stream: LiveStream, partition: PartitionSpec, atMs: number): number {
  const recordMs = integrate(rateSegments(stream, partition), stream.originMs, atMs);
  return Math.max(0, partition.initialRecords + Math.floor(recordMs / 1000));
}

/** The partition's status at `atMs`: EXPIRED from its expiry on, else its spec's. */
export function partitionStatusAt(stream: LiveStream, partition: PartitionSpec, atMs: number): PartitionStatus {
  return expiryMs(stream, partition) <= atMs ? 'EXPIRED' : partition.status;
}

/** The response key of a destination description: the documented misspelling for DWS/CloudTable unless asked otherwise. */
export function descriptionKey(destinationType: string, correctSpelling: boolean): string {
  const type = destinationType.toLowerCase();
  const misspelt = type === 'dws' || type === 'cloudtable';
  // The doc and v3 SDKs spell it "descripton" for these two; the old DIS SDK spells it correctly (docs/dis-api.md
  // ("Destination descriptions")).
  return `${type}_destination_${misspelt && !correctSpelling ? 'descripton' : 'description'}`;
}

/**
 * A body with the fields of a scenario's `wireOverride` put over it, sent exactly as given (a test hook: `-1`, a
 * seconds timestamp, a numeric id, another stream's name), so the result may break the body's own field types.
 */
function withWireOverride<T extends object>(body: T, wireOverride: Readonly<Record<string, unknown>> | undefined): T {
  return wireOverride === undefined ? body : ({ ...body, ...wireOverride } as T);
}

function taskDetails(stream: LiveStream, task: LiveTask, nowMs: number): ShowTaskBody {
  const { spec } = task;
  const createTime = task.originMs - spec.createdMsAgo;
  const taskTimeline = taskStateTimeline(task);
  const taskState = stateAt(taskTimeline, nowMs);
  const runningMs = timeInState(taskTimeline, 'RUNNING', task.originMs, nowMs);
  const computed = stream.spec.partitions.map((partition) => {
    const override = spec.partitions[partition.id] ?? NO_OVERRIDE;
    const explicitStates = partitionStateTimeline(task, partition.id, override);
    const { delivery, offset } = partitionProgress(stream, task, partition, taskTimeline, explicitStates, nowMs);
    const body: TaskPartitionBody = {
      partitionId: partition.id,
      discard: override.discard + Math.floor((override.discardPerSecond * runningMs) / 1000),
      state: stateAt(explicitStates, nowMs) ?? taskState ?? 'RUNNING',
      last_transfer_timestamp: delivery ?? 0,
      last_transfer_offset: offset,
    };
    return { body, wire: withWireOverride(body, override.wireOverride) };
  });
  const description: Record<string, unknown> = { ...spec.destination };
  if (spec.destinationType.toUpperCase() === 'DWS' && description['user_password'] === undefined) {
    description['user_password'] = DEFAULT_DWS_PASSWORD;
  }
  return {
    stream_id: stream.spec.id,
    stream_name: stream.spec.name,
    task_name: spec.name,
    task_id: spec.id,
    destination_type: spec.destinationType,
    state: taskState ?? 'RUNNING',
    create_time: createTime,
    // The task's last dump is the partitions' real one, whatever a partition's wireOverride claims.
    last_transfer_timestamp: Math.max(0, ...computed.map(({ body }) => body.last_transfer_timestamp)),
    [descriptionKey(spec.destinationType, spec.correctSpelling)]: description,
    partitions: computed.map(({ wire }) => wire),
  };
}

/**
 * A partition's dump progress at `nowMs`: the latest delivery (undefined before the first) and the offset it
 * reached, less the runtime rewinds.
 *
 * A delivery reaches the end offset at its boundary less `behindRecords` (never below the partition start, when the
 * data had reached it), capped by `dumpRecordsPerSecond` for deliveries after the task's time zero, and never
 * backwards. A rewind lowers the offset by its records from then on, never below the partition start.
 */
function partitionProgress(
  stream: LiveStream,
  task: LiveTask,
  partition: PartitionSpec,
  taskTimeline: readonly StateChange[],
  explicitStates: readonly StateChange[],
  nowMs: number,
): { delivery: number | undefined; offset: number } {
  const override = task.spec.partitions[partition.id] ?? NO_OVERRIDE;
  const createTime = task.originMs - task.spec.createdMsAgo;
  const intervalMs = task.spec.deliverIntervalSeconds * 1000;
  const stalledFrom = override.stalled ? task.originMs - override.sinceMsAgo : Number.POSITIVE_INFINITY;
  const advancing = (atMs: number): boolean =>
    stateAt(taskTimeline, atMs) === 'RUNNING' &&
    (stateAt(explicitStates, atMs) ?? 'RUNNING') === 'RUNNING' &&
    atMs < stalledFrom;
  const changes = [...taskTimeline, ...explicitStates].map((change) => change.atMs);
  if (Number.isFinite(stalledFrom)) changes.push(stalledFrom);
  const deliveredBy = (atMs: number): number | undefined =>
    lastDelivery(createTime, intervalMs, changes, advancing, atMs);

  const behindChanges = sortTimeline(
    task.events.flatMap((event) =>
      event.kind === 'partition-behind' && event.partitionId === partition.id
        ? [{ atMs: event.atMs, value: event.behindRecords }]
        : [],
    ),
  );
  const behindAt = (atMs: number): number => valueAt(behindChanges, atMs) ?? override.behindRecords;
  const cap = override.dumpRecordsPerSecond;
  // The offset one delivery reaches, given the previous delivery (if any) after the task's time zero.
  const settle = (atMs: number, previous?: { atMs: number; offset: number }): number => {
    const end = endOffsetAt(stream, partition, atMs);
    let offset = end - behindAt(atMs);
    if (previous !== undefined) {
      if (cap !== undefined) offset = Math.min(offset, previous.offset + (cap * (atMs - previous.atMs)) / 1000);
      offset = Math.max(offset, previous.offset);
    }
    // The start is known only once the data has reached it: a partition whose retention has since moved past
    // an old delivery keeps that delivery's lower offset (records expired before they were dumped).
    return Math.max(end >= partition.startOffset ? partition.startOffset : 0, offset);
  };
  const progressAt = (atMs: number): { delivery: number | undefined; offset: number } => {
    const last = deliveredBy(atMs);
    if (last === undefined) return { delivery: undefined, offset: 0 };
    // Without a cap or a runtime behind change every delivery is independent of the previous one.
    if (cap === undefined && behindChanges.length === 0) return { delivery: last, offset: settle(last) };
    const from = Math.min(task.originMs, atMs);
    const first = deliveredBy(from);
    let previous = first === undefined ? undefined : { atMs: first, offset: settle(first) };
    const lastIndex = Math.round((last - createTime) / intervalMs);
    for (let k = Math.max(1, Math.floor((from - createTime) / intervalMs) + 1); k <= lastIndex; k += 1) {
      const boundary = createTime + k * intervalMs;
      if (advancing(boundary)) previous = { atMs: boundary, offset: settle(boundary, previous) };
    }
    return { delivery: last, offset: previous?.offset ?? 0 };
  };

  let rewound = 0;
  const rewinds = sortTimeline(
    task.events.flatMap((event) =>
      event.kind === 'rewind' && event.partitionId === partition.id && event.atMs <= nowMs
        ? [{ atMs: event.atMs, value: event.records }]
        : [],
    ),
  );
  for (const rewind of rewinds) {
    const offset = Math.floor(progressAt(rewind.atMs).offset) - rewound;
    rewound += Math.min(rewind.value, Math.max(0, offset - Math.min(offset, partition.startOffset)));
  }
  const now = progressAt(nowMs);
  return { delivery: now.delivery, offset: Math.floor(now.offset) - rewound };
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

function taskStateTimeline(task: LiveTask): StateChange[] {
  // A task not RUNNING at time zero is taken to have run until it entered its state, so it has a last delivery.
  const timeline: StateChange[] = [{ atMs: Number.NEGATIVE_INFINITY, state: 'RUNNING' }];
  if (task.spec.state !== 'RUNNING') {
    timeline.push({ atMs: task.originMs - task.spec.stateSinceMsAgo, state: task.spec.state });
  }
  for (const event of task.events) {
    if (event.kind === 'task-state') timeline.push({ atMs: event.atMs, state: event.state });
  }
  return sortTimeline(timeline);
}

function partitionStateTimeline(task: LiveTask, partitionId: string, override: PartitionOverride): StateChange[] {
  const timeline: StateChange[] = [];
  if (override.state !== undefined) {
    timeline.push({ atMs: Number.NEGATIVE_INFINITY, state: 'RUNNING' });
    timeline.push({ atMs: task.originMs - override.sinceMsAgo, state: override.state });
  }
  for (const event of task.events) {
    if (event.kind === 'partition-state' && event.partitionId === partitionId) {
      timeline.push({ atMs: event.atMs, state: event.state });
    }
  }
  return sortTimeline(timeline);
}

function sortTimeline<T extends { atMs: number }>(timeline: T[]): T[] {
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

/** The value in force at `atMs` of a sorted list of changes, or undefined before the first. */
function valueAt(changes: readonly { atMs: number; value: number }[], atMs: number): number | undefined {
  let value: number | undefined;
  for (const change of changes) {
    if (change.atMs > atMs) break;
    value = change.value;
  }
  return value;
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

/** A rate that holds from `fromMs` until the next segment. */
type RateSegment = { fromMs: number; rate: number };

function rateSegments(stream: LiveStream, partition: PartitionSpec): RateSegment[] {
  const segments: RateSegment[] = [{ fromMs: Number.NEGATIVE_INFINITY, rate: partition.recordsPerSecond }];
  const changes = sortTimeline(
    stream.events.flatMap((event) =>
      event.kind === 'records-per-second' && event.partitionId === partition.id
        ? [{ atMs: event.atMs, rate: event.recordsPerSecond }]
        : [],
    ),
  );
  for (const change of changes) segments.push({ fromMs: change.atMs, rate: change.rate });
  const expiry = expiryMs(stream, partition);
  if (Number.isFinite(expiry)) {
    // An expired partition takes no more writes: its end offset freezes.
    return [...segments.filter((segment) => segment.fromMs < expiry), { fromMs: expiry, rate: 0 }];
  }
  return segments;
}

/** The integral of the piecewise-constant rate from `fromMs` to `toMs` (negative when `toMs` is earlier), in record·ms/s. */
function integrate(segments: readonly RateSegment[], fromMs: number, toMs: number): number {
  if (toMs < fromMs) return -integrate(segments, toMs, fromMs);
  let total = 0;
  segments.forEach((segment, i) => {
    const start = Math.max(segment.fromMs, fromMs);
    const end = Math.min(segments[i + 1]?.fromMs ?? Number.POSITIVE_INFINITY, toMs);
    if (end > start) total += segment.rate * (end - start);
  });
  return total;
}

/** When the partition expires: the earliest of its spec's `expiresMsAgo` and a runtime expiry; +∞ if never. */
function expiryMs(stream: LiveStream, partition: PartitionSpec): number {
  let at = partition.expiresMsAgo === undefined ? Number.POSITIVE_INFINITY : stream.originMs - partition.expiresMsAgo;
  for (const event of stream.events) {
    if (event.kind === 'expire-partition' && event.partitionId === partition.id) at = Math.min(at, event.atMs);
  }
  return at;
}

function sequenceNumberRange(
  stream: LiveStream,
  partition: PartitionSpec,
  status: PartitionStatus,
  nowMs: number,
): string | null {
  if (partition.rangeOverride !== undefined) return partition.rangeOverride;
  // An EXPIRED partition's range is null (docs/dis-api.md ("sequence_number_range")).
  if (status === 'EXPIRED') return null;
  return `[${partition.startOffset} : ${endOffsetAt(stream, partition, nowMs)}]`;
}

function streamInfo(stream: LiveStream, nowMs: number): StreamInfoBody {
  return {
    stream_id: stream.spec.id,
    stream_name: stream.spec.name,
    create_time: stream.originMs - stream.spec.createdMsAgo,
    retention_period: stream.spec.retentionPeriodHours,
    status: stream.spec.status,
    stream_type: 'COMMON',
    data_type: 'BLOB',
    partition_count: stream.spec.partitions.filter(
      (partition) => partitionStatusAt(stream, partition, nowMs) === 'ACTIVE',
    ).length,
    auto_scale_enabled: false,
    tags: [],
    sys_tags: [],
  };
}

/** The i-th of n equal slices of the 63-bit hash space, e.g. `"[0 : 9223372036854775807]"` for a single partition. */
function hashRange(index: number, count: number): string {
  const size = HASH_SPACE / BigInt(count);
  const start = size * BigInt(index);
  const end = index === count - 1 ? HASH_SPACE - 1n : start + size - 1n;
  return `[${start} : ${end}]`;
}

/** The add/delete events of one stream or task up to `nowMs`, in time order, with their index in `events`. */
function lifecycle(
  events: readonly WorldEvent[],
  nowMs: number,
  name: string,
  nameOf: (event: WorldEvent) => string | undefined,
): { event: WorldEvent; index: number; atMs: number }[] {
  return sortTimeline(
    events
      .map((event, index) => ({ event, index, atMs: event.atMs }))
      .filter(({ event }) => event.atMs <= nowMs && nameOf(event) === name),
  );
}

function streamLifecycleName(event: WorldEvent): string | undefined {
  if (event.kind === 'add-stream') return event.spec.name;
  return event.kind === 'delete-stream' ? event.stream : undefined;
}

function taskLifecycleName(event: WorldEvent): string | undefined {
  if (event.kind === 'add-task') return event.spec.name;
  return event.kind === 'delete-task' ? event.task : undefined;
}

function taskOf(event: WorldEvent): string | undefined {
  switch (event.kind) {
    case 'task-state':
    case 'partition-state':
    case 'delete-task':
    case 'rewind':
    case 'partition-behind':
      return event.task;
    default:
      return undefined;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
