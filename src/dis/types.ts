/**
 * A field of a DIS answer the exporter left out or overrode, and why: `field` is its path (a partition's fields by
 * its id, `partitions[shardId-0000000001].discard`; a partition without a usable id by its index), `problem` quotes
 * at most the start of the value. Never a secret: only fields the exporter reads are checked.
 */
export type FieldIssue = Readonly<{ field: string; problem: string }>;

/** One partition's dump progress (the real `partitions[]` element: `partitionId` is camelCase). */
export type PartitionProgress = Readonly<{
  /** Normalised: `shardId-0000000003` also for `3` or `"3"`. */
  partitionId: string;
  /** Raw `state`; undefined when missing. */
  state?: string;
  discard?: number;
  lastTransferOffset?: number;
  /** Epoch milliseconds; undefined when 0, missing or implausible. */
  lastTransferTimestampMs?: number;
}>;

/**
 * "Querying Dump Task Details", parsed into what the exporter uses. No credential field ever lands here, and no
 * name the answer echoes: series are labelled with the names the exporter asked for.
 */
export type DumpTask = Readonly<{
  /** `""` when absent. */
  taskId: string;
  /** Raw `state`; undefined when missing. */
  state?: string;
  /** Raw `destination_type`; `""` when absent. */
  destinationType: string;
  /** OBS bucket path, MRS/DWS/CloudTable cluster name, `db.table` for DLI, `""` otherwise. */
  destination: string;
  /** Epoch milliseconds; undefined when 0, missing or implausible. */
  createTimeMs?: number;
  /** Epoch milliseconds; undefined when 0, missing or implausible. */
  lastTransferTimestampMs?: number;
  /** The destination description's `deliver_time_interval`, in seconds, when present. */
  deliverIntervalSeconds?: number;
  /** The partitions with a usable, unique id. */
  partitions: readonly PartitionProgress[];
  /** Fields left out or overridden; absent when there are none. */
  fieldIssues?: readonly FieldIssue[];
}>;

/** One partition of "Querying Stream Details": `partition_id` (snake_case here) and its sequence range. */
export type StreamPartition = Readonly<{
  /** Normalised like PartitionProgress.partitionId, so the two join. */
  partitionId: string;
  /** CREATING, ACTIVE, DELETED, EXPIRED, or whatever the API sent; undefined when missing. */
  status?: string;
  /** Start and end of `sequence_number_range`; both undefined when it is null or unparseable. */
  startOffset?: number;
  endOffset?: number;
}>;

/** "Querying Stream Details", all pages joined; the stream is the one asked for, whatever name the answer echoes. */
export type StreamDetails = Readonly<{
  partitions: readonly StreamPartition[];
  /** Fields left out or overridden, over all pages; absent when there are none. */
  fieldIssues?: readonly FieldIssue[];
}>;

/** One entry of "Querying a Dump Task List". */
export type DumpTaskSummary = Readonly<{ taskName: string; state?: string }>;
