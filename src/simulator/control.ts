import { MAX_TASKS_PER_STREAM, parseFault, parseStreamInput, parseTaskInput } from './scenario.js';
import type { Fault, StreamSpecInput, TaskSpecInput } from './scenario.js';
import type { TemporaryKey } from './agency.js';
import type { FakeDisState, RecordedRequest } from './state.js';
import { streamAt, taskAt, tasksAt } from './world.js';
import type { LiveStream } from './world.js';

/**
 * Changes the simulated world at runtime (effective from the clock's current time) and inspects the traffic.
 * Every change names things that exist now, and throws (changing nothing) otherwise.
 */
export interface FakeDisControl {
  /** Sets a task's state; leaving RUNNING freezes its progress from now on, returning to RUNNING resumes it. */
  setTaskState(stream: string, task: string, state: string): void;
  /** Sets one partition's state within a task; anything but RUNNING freezes that partition's offset. */
  setPartitionState(stream: string, task: string, partitionId: string, state: string): void;
  /** Deletes a task: details answer 400 DIS.4354 and the list no longer shows it. */
  deleteTask(stream: string, task: string): void;
  /** Deletes a stream: its endpoints answer 400 DIS.4301 and the list no longer shows it. */
  deleteStream(stream: string): void;
  /**
   * Adds a dump task (a scenario task entry, validated like one) at the end of the stream's task list. Its time
   * zero is now: it is created now unless `createdMsAgo` says otherwise, and first delivers one interval later.
   * Throws when the name is taken or the stream already has 5 tasks (the DIS quota).
   */
  addTask(stream: string, task: TaskSpecInput): void;
  /**
   * Adds a stream (a scenario stream entry, validated like one, tasks included). Its time zero is now: its end
   * offsets start at `initialRecords` now, and it is created now unless `createdMsAgo` says otherwise.
   */
  addStream(stream: StreamSpecInput): void;
  /**
   * The dump went backwards once (as after a task reset): from now on the task's `last_transfer_offset` for the
   * partition is `records` lower than it would be, but never below the partition start.
   */
  rewindPartition(stream: string, task: string, partitionId: string, records: number): void;
  /** From the next delivery on, the task's deliveries for the partition lag its end offset by `behindRecords`. */
  setPartitionBehind(stream: string, task: string, partitionId: string, behindRecords: number): void;
  /** The partition is EXPIRED from now on: `sequence_number_range` null, no more writes. */
  expirePartition(stream: string, partitionId: string): void;
  /**
   * The partition's end offset grows at `recordsPerSecond` from now on (the records so far stay, so end offsets
   * are continuous); 0 makes it idle.
   */
  setRecordsPerSecond(stream: string, partitionId: string, recordsPerSecond: number): void;
  /** Adds a fault after the existing ones (validated like a scenario's). */
  addFault(fault: Fault): void;
  /** Removes every fault, the scenario's included. */
  clearFaults(): void;
  /**
   * Every request to one of the six DIS operations, to IAM's token requests (`iam_token`, `oidc_token`) or to the
   * metadata service (`metadata_token`, `metadata_securitykey`) so far, oldest first (unknown paths are not recorded).
   */
  requests(): ReadonlyArray<RecordedRequest>;
  /** Forgets the recorded requests. */
  resetRequests(): void;
  /** Every IAM token issued so far is rejected from now on (401 APIGW.0301), as after expiry or a password change. */
  revokeIamTokens(): void;
  /** Every IAM token issued so far, oldest first (for tests that look for leaks). */
  issuedIamTokens(): readonly string[];
  /** Every OIDC ID token presented to IAM so far, oldest first. */
  presentedIdTokens(): readonly string[];
  /** IAM refuses this ID token from now on (as for a deleted service account). */
  revokeIdToken(jwt: string): void;
  /** Every temporary key the metadata service issued so far is refused from now on; throws without an agency. */
  revokeTemporaryKeys(): void;
  /** Every temporary key the metadata service issued so far, oldest first; [] without an agency. */
  issuedTemporaryKeys(): readonly TemporaryKey[];
}

/**
 * The control handle of a fake DIS: each change of the world is checked against the world as it is now, then
 * appended to its events.
 */
export function createFakeDisControl(fake: FakeDisState): FakeDisControl {
  const { clock, events, faults, iam, log, world } = fake;
  const liveStream = (stream: string): LiveStream => {
    const live = streamAt(world(), stream, clock.now());
    if (live === undefined) throw new Error(`no stream "${stream}"`);
    return live;
  };
  const requireTask = (stream: string, task: string): LiveStream => {
    const live = liveStream(stream);
    if (taskAt(live, task, clock.now()) === undefined) throw new Error(`no task "${task}" in stream "${stream}"`);
    return live;
  };
  const requirePartition = (live: LiveStream, partitionId: string): void => {
    if (!live.spec.partitions.some((p) => p.id === partitionId)) {
      throw new Error(`no partition "${partitionId}" in stream "${live.spec.name}"`);
    }
  };
  const requireCount = (name: string, value: number, min: number, integer: boolean): void => {
    const ok = Number.isFinite(value) && value >= min && (!integer || Number.isSafeInteger(value));
    if (!ok) throw new Error(`${name}: must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  };

  return {
    setTaskState(stream, task, state) {
      requireTask(stream, task);
      events.push({ kind: 'task-state', stream, task, state, atMs: clock.now() });
    },
    setPartitionState(stream, task, partitionId, state) {
      requirePartition(requireTask(stream, task), partitionId);
      events.push({ kind: 'partition-state', stream, task, partitionId, state, atMs: clock.now() });
    },
    deleteTask(stream, task) {
      requireTask(stream, task);
      events.push({ kind: 'delete-task', stream, task, atMs: clock.now() });
    },
    deleteStream(stream) {
      liveStream(stream);
      events.push({ kind: 'delete-stream', stream, atMs: clock.now() });
    },
    addTask(stream, task) {
      const live = liveStream(stream);
      const partitionIds = live.spec.partitions.map((p) => p.id);
      const spec = parseTaskInput(task, stream, partitionIds);
      const existing = tasksAt(live, clock.now());
      if (existing.some((t) => t.spec.name === spec.name)) {
        throw new Error(`task "${spec.name}" already exists in stream "${stream}"`);
      }
      if (existing.length >= MAX_TASKS_PER_STREAM) {
        throw new Error(`stream "${stream}" already has ${MAX_TASKS_PER_STREAM} dump tasks (the DIS quota)`);
      }
      events.push({ kind: 'add-task', stream, spec, atMs: clock.now() });
    },
    addStream(stream) {
      const spec = parseStreamInput(stream);
      if (streamAt(world(), spec.name, clock.now()) !== undefined) {
        throw new Error(`stream "${spec.name}" already exists`);
      }
      events.push({ kind: 'add-stream', spec, atMs: clock.now() });
    },
    rewindPartition(stream, task, partitionId, records) {
      requirePartition(requireTask(stream, task), partitionId);
      requireCount('records', records, 1, true);
      events.push({ kind: 'rewind', stream, task, partitionId, records, atMs: clock.now() });
    },
    setPartitionBehind(stream, task, partitionId, behindRecords) {
      requirePartition(requireTask(stream, task), partitionId);
      requireCount('behindRecords', behindRecords, 0, true);
      events.push({ kind: 'partition-behind', stream, task, partitionId, behindRecords, atMs: clock.now() });
    },
    expirePartition(stream, partitionId) {
      requirePartition(liveStream(stream), partitionId);
      events.push({ kind: 'expire-partition', stream, partitionId, atMs: clock.now() });
    },
    setRecordsPerSecond(stream, partitionId, recordsPerSecond) {
      requirePartition(liveStream(stream), partitionId);
      requireCount('recordsPerSecond', recordsPerSecond, 0, false);
      events.push({ kind: 'records-per-second', stream, partitionId, recordsPerSecond, atMs: clock.now() });
    },
    addFault(fault) {
      faults.add(parseFault(fault));
    },
    clearFaults() {
      faults.clear();
    },
    requests() {
      return [...log];
    },
    resetRequests() {
      log.length = 0;
    },
    revokeIamTokens() {
      iam.revokeAll();
    },
    issuedIamTokens() {
      return iam.issued();
    },
    presentedIdTokens() {
      return iam.presentedIdTokens();
    },
    revokeIdToken(jwt) {
      iam.revokeIdToken(jwt);
    },
    revokeTemporaryKeys() {
      if (fake.agency === undefined) throw new Error('the scenario has no agency');
      fake.agency.revokeAll();
    },
    issuedTemporaryKeys() {
      return fake.agency?.issued() ?? [];
    },
  };
}
