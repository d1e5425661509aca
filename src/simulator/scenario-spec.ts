// What a simulator scenario is made of (src/simulator/scenario.ts reads and checks them): the DIS world of the fake
// service, its IAM, its metadata service and its faults.

import type { Operation } from '../dis/operations.js';

/**
 * What the simulator serves, named as the exporter's `operation` label names it: the six DIS operations, IAM's token
 * requests (`POST /v3/auth/tokens` for a password, `POST /v3.0/OS-AUTH/id-token/tokens` for an OIDC ID token) and the
 * metadata service's (session token, security key).
 */
export type { Operation };

/** Every operation, for validation and for tables in tests. */
export const OPERATIONS: readonly Operation[] = [
  'list_streams',
  'show_stream',
  'list_transfer_tasks',
  'show_transfer_task',
  'list_apps',
  'show_consumer_state',
  'iam_token',
  'oidc_token',
  'metadata_token',
  'metadata_securitykey',
];

/** What an injected fault does to a matching request. */
export type FaultKind = 'latency' | 'status' | 'timeout' | 'malformed' | 'reset' | 'oversized';

/** Every fault kind. */
export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'status', 'timeout', 'malformed', 'reset', 'oversized'];

/** Stream partition states (docs/dis-api.md ("Stream partitions")). */
export type PartitionStatus = 'CREATING' | 'ACTIVE' | 'DELETED' | 'EXPIRED';

export const PARTITION_STATUSES: readonly PartitionStatus[] = ['CREATING', 'ACTIVE', 'DELETED', 'EXPIRED'];

/** A fault injected into matching requests; times are milliseconds since the scenario's time zero. */
export type Fault = Readonly<{
  /** Every given field must equal the request's; an absent field matches anything. */
  match?: Readonly<{ operation?: Operation; stream?: string; task?: string }>;
  kind: FaultKind;
  /** `latency`: how long to wait before answering normally (or before a later terminal fault). */
  latencyMs?: number;
  /** `status`: the HTTP status to answer with. */
  status?: number;
  /** `status` and `malformed`: the body; an object is sent as JSON, a string as is. */
  body?: string | Readonly<Record<string, unknown>>;
  /** `status` and `malformed`: the Content-Type header (e.g. `text/html` for a proxy's error page); default JSON. */
  contentType?: string;
  /** `oversized`: a 200 whose body is this many bytes, streamed without a Content-Length (a body past a size cap). */
  bytes?: number;
  /** `status`: a `Retry-After` header, sent as is (delta-seconds or an HTTP-date); an integer means seconds. */
  retryAfter?: string;
  /** Chance (0..1) that a matching request is hit, drawn from the scenario's seeded PRNG. */
  probability?: number;
  /** Hit at most this many requests. */
  times?: number;
  /** Active from this offset since time zero (inclusive). */
  fromMs?: number;
  /** Active until this offset since time zero (exclusive). */
  untilMs?: number;
}>;

/** AK/SK pair the simulator accepts. */
/** An AK/SK the fake DIS accepts; with `securityToken`, a temporary one whose requests must carry that token. */
export type ScenarioCredential = Readonly<{ accessKey: string; secretKey: string; securityToken?: string }>;

/** An IAM user whose password the simulator's IAM endpoint trades for a token. */
export type IamUser = Readonly<{ domain: string; name: string; password: string }>;

/**
 * The simulator's IAM: its users, the ids of the OpenID Connect identity providers whose ID tokens it trades for
 * tokens (CCE workload identity), and how long the tokens it issues live.
 */
export type IamSettings = Readonly<{
  users: readonly IamUser[];
  identityProviders: readonly string[];
  tokenLifetimeMs: number;
}>;

/** Whether the metadata service hands out session tokens, and whether the key request needs one. */
export type SessionTokens = 'required' | 'optional' | 'unsupported';

export const SESSION_TOKEN_MODES: readonly SessionTokens[] = ['required', 'optional', 'unsupported'];

/** The metadata service of an ECS server with an agency: how long its temporary keys live and when it renews them. */
export type AgencySettings = Readonly<{
  /** Keys live this long (an hour on the real service). */
  keyLifetimeMs: number;
  /** A new key is issued from this long before the current one expires (10 minutes on the real service). */
  renewBeforeMs: number;
  sessionTokens: SessionTokens;
}>;

/** The real service's key lifetime and renewal lead (docs/dis-api.md ("Agency keys from the metadata service")). */
export const DEFAULT_AGENCY: AgencySettings = {
  keyLifetimeMs: 3_600_000,
  renewBeforeMs: 600_000,
  sessionTokens: 'optional',
};

/** IAM tokens live 24 hours (docs/dis-api.md ("IAM tokens")). */
export const DEFAULT_TOKEN_LIFETIME_MS = 24 * 3_600_000;

/**
 * One stream partition: its offsets grow from `initialRecords` at time zero by `recordsPerSecond`. Its
 * `sequence_number_range` is `"[startOffset : end]"`, `end` being the next sequence number, or null once EXPIRED.
 */
export type PartitionSpec = Readonly<{
  id: string;
  /** Records already gone to retention: the start of `sequence_number_range`. */
  startOffset: number;
  /** End offset at time zero. */
  initialRecords: number;
  /** Growth of the end offset (a runtime `setRecordsPerSecond` changes it from then on). */
  recordsPerSecond: number;
  /** Status before any expiry (an expiry turns it EXPIRED). */
  status: PartitionStatus;
  /**
   * When the partition expired: this many ms before time zero (negative: after it). From then on its status is
   * EXPIRED, its range null and its end offset frozen. Not for a partition whose `status` is already EXPIRED.
   */
  expiresMsAgo?: number;
  /**
   * A test hook: `sequence_number_range` exactly as given (e.g. `"[5 : null]"`, `"5 : 9"`, or null), whatever the
   * partition's state; the dump tasks still see the real offsets.
   */
  rangeOverride?: string | null;
}>;

/** How one dump task treats one partition. */
export type PartitionOverride = Readonly<{
  /** Explicit partition `state`; without it the partition reports the task's state. Anything but RUNNING stops its offset. */
  state?: string;
  /** `discard` at time zero. */
  discard: number;
  /** Growth of `discard` while the task is RUNNING. */
  discardPerSecond: number;
  /** The offset stops moving (from `sinceMsAgo` before time zero). */
  stalled: boolean;
  /** The dump lags the delivery boundary's end offset by this many records. */
  behindRecords: number;
  /** How long before time zero `state` and `stalled` took effect. */
  sinceMsAgo: number;
  /**
   * Dump throughput cap: each delivery after time zero moves the offset at most this many records per second
   * elapsed since the previous delivery, so the task falls further behind while the stream grows faster.
   * Absent: unlimited (every delivery reaches the end offset less `behindRecords`).
   */
  dumpRecordsPerSecond?: number;
  /**
   * A test hook: fields of this partition's element in the dump task details sent exactly as given over the
   * computed ones (e.g. `last_transfer_offset: -1`, a seconds `last_transfer_timestamp`, a numeric `partitionId`).
   */
  wireOverride?: WireOverride;
}>;

/** Fields of a response body (or of one of its elements) sent exactly as given, whatever their type. */
export type WireOverride = Readonly<Record<string, unknown>>;

/** One dump (transfer) task. */
export type TaskSpec = Readonly<{
  name: string;
  id: string;
  destinationType: string;
  /** The destination description object, sent as is (DWS gains a `user_password` when it has none). */
  destination: Readonly<Record<string, unknown>>;
  /** Use `*_description` for DWS/CloudTable instead of the documented `*_descripton`. */
  correctSpelling: boolean;
  state: string;
  /** How long before time zero the task entered `state` (when it is not RUNNING). */
  stateSinceMsAgo: number;
  createdMsAgo: number;
  /** Seconds between deliveries: the destination's `deliver_time_interval`, else 60. */
  deliverIntervalSeconds: number;
  /** Per-partition behaviour, keyed by partition id; every partition of the stream has an entry. */
  partitions: Readonly<Record<string, PartitionOverride>>;
  /** A test hook: top-level fields of the dump task details sent exactly as given (e.g. another `task_name`). */
  wireOverride?: WireOverride;
}>;

/** One stream with its partitions and dump tasks. */
export type StreamSpec = Readonly<{
  name: string;
  id: string;
  createdMsAgo: number;
  retentionPeriodHours: number;
  /** The stream's `status`: RUNNING, or FROZEN (arrears), CREATING, TERMINATING, or any other text. */
  status: string;
  partitions: readonly PartitionSpec[];
  tasks: readonly TaskSpec[];
  /** A test hook: top-level fields of the stream details sent exactly as given (e.g. another `stream_name`). */
  wireOverride?: WireOverride;
}>;

/** How the simulator writes a consumption state: partition ids, and counts as the SDK model, strings or numbers. */
export type ConsumerStateWire = Readonly<{
  /** `index`: `"0"` (the default, as the doc example); `number`: `0`; `shardId`: `"shardId-0000000000"`. */
  partitionId: 'index' | 'number' | 'shardId';
  /** `sdk`: `sequence_number` a string, offsets numbers (the default); `string`: all strings; `number`: all numbers. */
  values: 'sdk' | 'string' | 'number';
}>;

/**
 * How a consumer app reads one stream: from its time zero at `readRecordsPerSecond` at most (unlimited: it keeps
 * `behindRecords` behind the newest record), committing its checkpoint every `commitIntervalSeconds`. Without a
 * `checkpoint` it has none yet: `sequence_number` -1 in every partition.
 */
export type AppStreamSpec = Readonly<{
  checkpoint: boolean;
  behindRecords: number;
  readRecordsPerSecond?: number;
  commitIntervalSeconds: number;
  wire: ConsumerStateWire;
}>;

/** A consumer app (an application reading streams with the DIS SDK) and the streams it reads, by name. */
export type AppSpec = Readonly<{
  name: string;
  id: string;
  createdMsAgo: number;
  /** Whether the app listing names its streams (`commit_checkpoint_stream_names`, which the reference's table lacks). */
  listStreams: boolean;
  streams: Readonly<Record<string, AppStreamSpec>>;
}>;

/** A partition as written in a scenario file, before validation and defaults. */
export type PartitionSpecInput = Readonly<{
  id?: string;
  startOffset?: number;
  initialRecords?: number;
  recordsPerSecond?: number;
  status?: PartitionStatus;
  expiresMsAgo?: number;
  rangeOverride?: string | null;
}>;

/** A task's per-partition behaviour as written in a scenario file. */
export type PartitionOverrideInput = Readonly<{
  state?: string;
  discard?: number;
  discardPerSecond?: number;
  stalled?: boolean;
  behindRecords?: number;
  sinceMsAgo?: number;
  dumpRecordsPerSecond?: number;
  wireOverride?: WireOverride;
}>;

/** A dump task as written in a scenario file (also what `FakeDisControl.addTask` takes). */
export type TaskSpecInput = Readonly<{
  name: string;
  id?: string;
  destinationType: string;
  destination?: Readonly<Record<string, unknown>>;
  correctSpelling?: boolean;
  state?: string;
  stateSinceMsAgo?: number;
  createdMsAgo?: number;
  partitions?: Readonly<Record<string, PartitionOverrideInput>>;
  wireOverride?: WireOverride;
}>;

/** A stream as written in a scenario file (also what `FakeDisControl.addStream` takes). */
export type StreamSpecInput = Readonly<{
  name: string;
  id?: string;
  createdMsAgo?: number;
  retentionPeriodHours?: number;
  status?: string;
  partitions: readonly PartitionSpecInput[];
  tasks?: readonly TaskSpecInput[];
  wireOverride?: WireOverride;
}>;

/** A validated scenario with every default filled in. */
export type Scenario = Readonly<{
  projectId: string;
  credentials: readonly ScenarioCredential[];
  /** Users of the IAM endpoint; none by default. */
  iam: IamSettings;
  /** The metadata service, served on a port of its own; absent: none. */
  agency?: AgencySettings;
  /** Time zero in epoch ms; undefined means "the clock's time when the simulator starts". */
  epochMs?: number;
  /** Seed of the PRNG behind fault `probability`. */
  seed: number;
  streams: readonly StreamSpec[];
  /** Consumer apps; none by default. */
  apps: readonly AppSpec[];
  faults: readonly Fault[];
}>;
