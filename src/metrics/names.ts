import type { StateSets } from '../config/types.js';
import type { ErrorReason } from '../dis/errors.js';

/** Every metric the exporter serves from the snapshot: name, type, label names and HELP, in exposition order. */
export type FamilySpec = Readonly<{
  name: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
  /** HELP for a poll interval ("every 60s") and the `metrics.stateSets` setting. */
  help: (pollEvery: string, stateSets: StateSets) => string;
}>;

/** How a state set's HELP describes its values. */
function members(stateSets: StateSets, what: string): string {
  return stateSets === 'current' ? `only the current ${what}, always 1` : `1 for the current ${what}, 0 for the others`;
}

/**
 * The task and partition states of the state sets (docs/metrics.md ("Dump task metrics")): the task states DIS
 * documents (docs/dis-api.md ("Top-level fields")). The API may return others, which are kept as they come.
 */
export const KNOWN_STATES = ['ABNORMAL', 'DELETE', 'ERROR', 'PAUSED', 'RUNNING', 'STARTING'] as const;

/** Every reason, in the order docs/metrics.md ("Error reasons") lists them. */
export const ERROR_REASONS: readonly ErrorReason[] = [
  'timeout',
  'network',
  'throttled',
  'server_error',
  'auth',
  'not_found',
  'bad_response',
  'client_error',
];

const TASK = ['project_id', 'stream', 'task'] as const;
const PARTITION = [...TASK, 'partition'] as const;
const STREAM_PARTITION = ['project_id', 'stream', 'partition'] as const;
const STREAM = ['project_id', 'stream'] as const;
const APP = ['project_id', 'app', 'stream'] as const;
const APP_PARTITION = [...APP, 'partition'] as const;

/**
 * The stream statuses of dis_stream_status and the stream partition statuses of dis_stream_partition_status, as Huawei's
 * SDK models list them (docs/dis-api.md ("Stream details")); others are kept as they come.
 */
export const KNOWN_STREAM_STATUSES = ['CREATING', 'RUNNING', 'TERMINATING', 'FROZEN'] as const;
export const KNOWN_STREAM_PARTITION_STATUSES = ['ACTIVE', 'DELETED', 'EXPIRED'] as const;

/** The data and per-target families, keyed by a short name used in the translation. */
export const FAMILIES = {
  taskInfo: {
    name: 'dis_dump_task_info',
    type: 'gauge',
    labelNames: [...TASK, 'task_id', 'destination_type', 'destination'],
    help: (p) => `Dump task metadata, always 1 (polled ${p}).`,
  },
  taskState: {
    name: 'dis_dump_task_state',
    type: 'gauge',
    labelNames: [...TASK, 'state'],
    help: (p, s) => `Dump task state: ${members(s, 'state')} (polled ${p}).`,
  },
  taskCreateTime: {
    name: 'dis_dump_task_create_time_seconds',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `When the dump task was created, in seconds since the epoch (polled ${p}).`,
  },
  taskLastTransfer: {
    name: 'dis_dump_task_last_transfer_timestamp_seconds',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `Latest dump time of the task, in seconds since the epoch (polled ${p}).`,
  },
  taskLag: {
    name: 'dis_dump_task_lag_seconds',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `Scrape time minus the task's latest dump time, at least 0 (dump time polled ${p}).`,
  },
  taskDeliverInterval: {
    name: 'dis_dump_task_deliver_interval_seconds',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `The destination's deliver_time_interval in seconds (polled ${p}).`,
  },
  taskPartitions: {
    name: 'dis_dump_task_partitions',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `Number of partitions the dump task reports (polled ${p}).`,
  },
  partitionState: {
    name: 'dis_dump_task_partition_state',
    type: 'gauge',
    labelNames: [...PARTITION, 'state'],
    help: (p, s) => `Partition dump state: ${members(s, 'state')} (polled ${p}).`,
  },
  partitionDiscarded: {
    name: 'dis_dump_task_partition_discarded_records',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) => `Records the dump task discarded in this partition, as DIS reports them (polled ${p}).`,
  },
  partitionOffset: {
    name: 'dis_dump_task_partition_last_transfer_offset',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) => `Sequence number the dump reached in this partition (polled ${p}).`,
  },
  partitionLastTransfer: {
    name: 'dis_dump_task_partition_last_transfer_timestamp_seconds',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) => `Latest dump time of this partition, in seconds since the epoch (polled ${p}).`,
  },
  partitionLag: {
    name: 'dis_dump_task_partition_lag_seconds',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) => `Scrape time minus the partition's latest dump time, at least 0 (dump time polled ${p}).`,
  },
  partitionLagRecords: {
    name: 'dis_dump_task_partition_lag_records',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) => `Records waiting in the partition: max(0, stream end offset - last_transfer_offset) (polled ${p}).`,
  },
  partitionExpiredRecords: {
    name: 'dis_dump_task_partition_expired_records',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) =>
      `Records that left the stream's retention before the dump reached them: max(0, stream start offset - last_transfer_offset) (polled ${p}).`,
  },
  partitionStalledSeconds: {
    name: 'dis_dump_task_partition_stalled_seconds',
    type: 'gauge',
    labelNames: PARTITION,
    help: (p) =>
      `How long last_transfer_offset has not moved while records were waiting; 0 when idle, progressing or paused (polled ${p}).`,
  },
  partitionStatus: {
    name: 'dis_dump_task_partition_status',
    type: 'gauge',
    labelNames: [...PARTITION, 'status'],
    help: (p, s) =>
      s === 'current'
        ? `Verdict on the partition's dump, one of idle, progressing, stalled, rewound, falling_behind, paused: only the current one, always 1 (polled ${p}).`
        : `Verdict on the partition's dump: 1 for the current one of idle, progressing, stalled, rewound, falling_behind, paused (polled ${p}).`,
  },
  streamStartOffset: {
    name: 'dis_stream_partition_start_offset',
    type: 'gauge',
    labelNames: STREAM_PARTITION,
    help: (p) => `Start of the partition's sequence_number_range: the oldest retained record (polled ${p}).`,
  },
  streamEndOffset: {
    name: 'dis_stream_partition_end_offset',
    type: 'gauge',
    labelNames: STREAM_PARTITION,
    help: (p) => `End of the partition's sequence_number_range: the next sequence number to be written (polled ${p}).`,
  },
  streamInfo: {
    name: 'dis_stream_info',
    type: 'gauge',
    labelNames: [...STREAM, 'stream_id', 'stream_type', 'data_type'],
    help: (p) =>
      `Stream metadata from its details, always 1; stream_id joins Cloud Eye's SYS.DAYU metrics (polled ${p}).`,
  },
  streamStatus: {
    name: 'dis_stream_status',
    type: 'gauge',
    labelNames: [...STREAM, 'status'],
    help: (p, s) => `Stream status (FROZEN: the account is in arrears): ${members(s, 'status')} (polled ${p}).`,
  },
  streamRetention: {
    name: 'dis_stream_retention_seconds',
    type: 'gauge',
    labelNames: STREAM,
    help: (p) => `How long the stream keeps a record: its retention_period in seconds (polled ${p}).`,
  },
  streamWritablePartitions: {
    name: 'dis_stream_writable_partitions',
    type: 'gauge',
    labelNames: STREAM,
    help: (p) => `Partitions the stream writes to (ACTIVE ones) (polled ${p}).`,
  },
  streamReadablePartitions: {
    name: 'dis_stream_readable_partitions',
    type: 'gauge',
    labelNames: STREAM,
    help: (p) => `Partitions the stream can be read from (ACTIVE and DELETED ones) (polled ${p}).`,
  },
  streamPartitionStatus: {
    name: 'dis_stream_partition_status',
    type: 'gauge',
    labelNames: [...STREAM_PARTITION, 'status'],
    help: (p, s) => `Stream partition status: ${members(s, 'status')} (polled ${p}).`,
  },
  appInfo: {
    name: 'dis_app_info',
    type: 'gauge',
    labelNames: ['project_id', 'app', 'app_id'],
    help: () => 'A consumer app this exporter polls, as DIS lists it (every discovery.interval), always 1.',
  },
  appCheckpointOffset: {
    name: 'dis_app_partition_checkpoint_offset',
    type: 'gauge',
    labelNames: APP_PARTITION,
    help: (p) => `The app's checkpoint in the partition: the sequence_number it committed (polled ${p}).`,
  },
  appLagRecords: {
    name: 'dis_app_partition_lag_records',
    type: 'gauge',
    labelNames: APP_PARTITION,
    help: (p) => `Records the app has not consumed: max(0, latest_offset - checkpoint) (polled ${p}).`,
  },
  appExpiredRecords: {
    name: 'dis_app_partition_expired_records',
    type: 'gauge',
    labelNames: APP_PARTITION,
    help: (p) =>
      `Records that left the stream's retention before the app consumed them: max(0, earliest_offset - checkpoint) (polled ${p}).`,
  },
  appHasCheckpoint: {
    name: 'dis_app_partition_has_checkpoint',
    type: 'gauge',
    labelNames: APP_PARTITION,
    help: (p) => `1 if the app has a checkpoint in the partition, 0 if not yet (sequence_number -1) (polled ${p}).`,
  },
  appUp: {
    name: 'dis_exporter_app_up',
    type: 'gauge',
    labelNames: APP,
    help: (p) => `1 if the latest poll of this app and stream succeeded, else 0 (polled ${p}).`,
  },
  appErrors: {
    name: 'dis_exporter_app_errors_total',
    type: 'counter',
    labelNames: [...APP, 'reason'],
    help: (p) => `Failed polls of this app and stream after retries, by reason (polled ${p}).`,
  },
  targetUp: {
    name: 'dis_exporter_target_up',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `1 if the latest poll of this target succeeded, else 0 (polled ${p}).`,
  },
  targetLastSuccess: {
    name: 'dis_exporter_target_last_success_timestamp_seconds',
    type: 'gauge',
    labelNames: TASK,
    help: (p) => `When a poll of this target last succeeded, in seconds since the epoch (polled ${p}).`,
  },
  targetErrors: {
    name: 'dis_exporter_target_errors_total',
    type: 'counter',
    labelNames: [...TASK, 'reason'],
    help: (p) => `Failed polls of this target after retries, by reason (polled ${p}).`,
  },
  targets: {
    name: 'dis_exporter_targets',
    type: 'gauge',
    labelNames: [],
    help: (p) => `Targets this replica polls, after discovery and sharding (polled ${p}).`,
  },
  discoveryErrors: {
    name: 'dis_exporter_discovery_errors_total',
    type: 'counter',
    labelNames: [],
    help: () => 'Failed discovery list calls; the previous target set is kept.',
  },
  lastDiscoverySuccess: {
    name: 'dis_exporter_last_discovery_success_timestamp_seconds',
    type: 'gauge',
    labelNames: [],
    help: () => 'When discovery last listed every wildcard target without an error, in seconds since the epoch.',
  },
} as const satisfies Record<string, FamilySpec>;

/** Short name of a family in FAMILIES. */
export type FamilyKey = keyof typeof FAMILIES;

/** Names and HELP of the long-lived self-metric instruments. */
export const SELF_METRICS = {
  apiRequests: {
    name: 'dis_exporter_api_requests_total',
    help: 'HTTP requests sent to DIS and IAM, by operation and HTTP status (`error` when no response came).',
  },
  apiRequestDuration: {
    name: 'dis_exporter_api_request_duration_seconds',
    help: 'Duration of HTTP requests sent to DIS and IAM, by operation.',
  },
  pollDuration: {
    name: 'dis_exporter_poll_duration_seconds',
    help: 'Duration of one whole poll cycle over every target.',
  },
  pollOverruns: {
    name: 'dis_exporter_poll_overruns_total',
    help: 'Poll cycles that took longer than the poll interval, so the next one started late.',
  },
  buildInfo: {
    name: 'dis_exporter_build_info',
    help: 'Build information of the exporter, always 1.',
  },
  shardInfo: {
    name: 'dis_exporter_shard_info',
    help: 'This replica shard index and the number of shards, always 1.',
  },
  projectInfo: {
    name: 'dis_exporter_project_info',
    help: 'A project this exporter polls, with its region, always 1.',
  },
  configReloadSuccessful: {
    name: 'dis_exporter_config_last_reload_successful',
    help: 'Whether the last configuration reload succeeded (1 from start); 0 means it was rejected and the previous configuration still runs.',
  },
  configReloadSuccessTimestamp: {
    name: 'dis_exporter_config_last_reload_success_timestamp_seconds',
    help: 'When the running configuration was loaded (at start or by the last successful reload), in seconds since the epoch.',
  },
  credentialsExpiry: {
    name: 'dis_exporter_credentials_expiry_timestamp_seconds',
    help: 'When the IAM token or temporary keys in use expire, in seconds since the epoch; renewed ahead of it (method iam, oidc or metadata; a static AK/SK has none).',
  },
  credentialsRefreshFailures: {
    name: 'dis_exporter_credentials_refresh_failures_total',
    help: 'Failed requests for an IAM token or temporary keys, by method (iam, oidc, metadata).',
  },
} as const;

/** Formats a poll interval for HELP strings: "every 60s", "every 5m". */
export function describeInterval(intervalMs: number): string {
  if (intervalMs % 3_600_000 === 0) return `every ${intervalMs / 3_600_000}h`;
  if (intervalMs % 60_000 === 0 && intervalMs >= 300_000) return `every ${intervalMs / 60_000}m`;
  if (intervalMs % 1000 === 0) return `every ${intervalMs / 1000}s`;
  return `every ${intervalMs}ms`;
}
