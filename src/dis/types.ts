/** Task and partition states the contract knows; the API may return others, which are kept as they come. */
export const KNOWN_STATES = ['ABNORMAL', 'DELETE', 'ERROR', 'PAUSED', 'RUNNING', 'STARTING'] as const;

/** One partition's dump progress (the real `partitions[]` element: `partitionId` is camelCase). */
export type PartitionProgress = Readonly<{
  partitionId: string;
  /** Raw `state`; undefined when missing. */
  state?: string;
  discard?: number;
  lastTransferOffset?: number;
  /** Epoch milliseconds; undefined when 0 or missing. */
  lastTransferTimestampMs?: number;
}>;

/** "Querying Dump Task Details", parsed into what the exporter uses. No credential field ever lands here. */
export type DumpTask = Readonly<{
  streamName: string;
  taskName: string;
  /** `""` when absent. */
  taskId: string;
  /** Raw `state`; undefined when missing. */
  state?: string;
  /** Raw `destination_type`; `""` when absent. */
  destinationType: string;
  /** OBS bucket path, MRS/DWS/CloudTable cluster name, `db.table` for DLI, `""` otherwise. */
  destination: string;
  /** Epoch milliseconds; undefined when 0 or missing. */
  createTimeMs?: number;
  /** Epoch milliseconds; undefined when 0 or missing. */
  lastTransferTimestampMs?: number;
  /** The destination description's `deliver_time_interval`, in seconds, when present. */
  deliverIntervalSeconds?: number;
  partitions: readonly PartitionProgress[];
}>;

/** One partition of "Querying Stream Details": `partition_id` (snake_case here) and its sequence range. */
export type StreamPartition = Readonly<{
  partitionId: string;
  /** CREATING, ACTIVE, DELETED, EXPIRED, or whatever the API sent; undefined when missing. */
  status?: string;
  /** Start and end of `sequence_number_range`; both undefined when it is null or unparseable. */
  startOffset?: number;
  endOffset?: number;
}>;

/** "Querying Stream Details", all pages joined. */
export type StreamDetails = Readonly<{ streamName: string; partitions: readonly StreamPartition[] }>;

/** One entry of "Querying a Dump Task List". */
export type DumpTaskSummary = Readonly<{ taskName: string; state?: string }>;
