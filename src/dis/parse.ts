import {
  checkEchoedName,
  collectInto,
  describe,
  frozenIssues,
  identifyPartitions,
  isJsonObject,
  partitionPath,
  readCount,
  readFlag,
  readOptionalString,
  readRequiredString,
  STRICT,
  truncate,
  unique,
  withoutUndefined,
  type JsonObject,
  type OnOdd,
} from './answer-fields.js';
import { jsonLimitProblem } from './bounded-json.js';
import { DisResponseError } from './errors.js';
import { implausibleTimestamp } from './plausible-timestamp.js';
import type {
  DumpTask,
  DumpTaskSummary,
  FieldIssue,
  PartitionProgress,
  StreamFacts,
  StreamPartition,
} from './types.js';

/** What an error body of DIS, the API gateway or IAM says, each part only when it is there. */
export type ErrorBody = Readonly<{ apiCode?: string; apiMessage?: string; requestId?: string }>;

/** One page of "Querying Stream Details": the stream's own fields (every page repeats them) and some partitions. */
export type StreamDetailsPage = Readonly<{
  facts: StreamFacts;
  partitions: readonly StreamPartition[];
  hasMore: boolean;
  /** The id of the page's last partition exactly as DIS sent it: the next page's `start_partitionId`. */
  cursor?: string;
  /** Fields left out or overridden; absent when there are none. */
  fieldIssues?: readonly FieldIssue[];
}>;

/** What the exporter asked "Querying Dump Task Details" for, and when: the answer is checked against it. */
export type DumpTaskRequest = Readonly<{ stream: string; task: string; nowMs: number }>;

/** One page of "Querying Streams". */
export type StreamNamesPage = Readonly<{ names: readonly string[]; hasMore: boolean }>;

/** Where a destination type keeps its description and which of its fields name the destination. */
type DestinationSpec = Readonly<{ descriptionKeys: readonly string[]; nameKeys: readonly string[] }>;

// The misspelt `*_descripton` keys are what the API reference and the v3 SDKs use; the older DIS SDK spells them
// correctly, and no public source shows which one the server sends, so both are read, the misspelt one first
// (docs/dis-api.md ("Destination descriptions")). Only the `nameKeys` and `deliver_time_interval` are ever read
// from a description, which is what keeps credentials such as DWS `user_password` out of the result.
const DESTINATIONS: ReadonlyMap<string, DestinationSpec> = new Map([
  ['OBS', { descriptionKeys: ['obs_destination_description'], nameKeys: ['obs_bucket_path'] }],
  ['MRS', { descriptionKeys: ['mrs_destination_description'], nameKeys: ['mrs_cluster_name'] }],
  [
    'DWS',
    { descriptionKeys: ['dws_destination_descripton', 'dws_destination_description'], nameKeys: ['dws_cluster_name'] },
  ],
  [
    'CLOUDTABLE',
    {
      descriptionKeys: ['cloudtable_destination_descripton', 'cloudtable_destination_description'],
      nameKeys: ['cloudtable_cluster_name'],
    },
  ],
  ['DLI', { descriptionKeys: ['dli_destination_description'], nameKeys: ['dli_database_name', 'dli_table_name'] }],
]);

// `[`, start, `:`, end, `]`, each part optionally padded with spaces or tabs.
const SEQUENCE_RANGE = /^\[[ \t]*([0-9]+)[ \t]*:[ \t]*([0-9]+)[ \t]*\]$/;
const BODY_SNIPPET_MAX_CHARS = 60;
const ERROR_TEXT_MAX_CHARS = 200;

/**
 * Parses a response body text as JSON, or throws a DisResponseError that quotes only its start. A body that nests
 * too deep or holds too many values (bounded-json.ts) is refused before JSON.parse builds it, and quoted not at all.
 */
export function parseJsonBody(text: string): unknown {
  const problem = jsonLimitProblem(text);
  if (problem !== undefined) throw new DisResponseError('', `body ${problem}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new DisResponseError('', `body is not JSON: ${sketchBody(text)}`);
  }
}

/**
 * Turns a "Querying Dump Task Details" body into a frozen DumpTask. A body that is not the documented shape (not an
 * object, no `stream_name`/`task_name`, `partitions` not an array) throws a DisResponseError naming the path; an
 * odd optional field, or a partition without a usable id, is left out and listed in `fieldIssues` (docs/metrics.md
 * ("Odd values in DIS answers")). Timestamps are judged against `request.nowMs`.
 */
export function parseDumpTask(body: unknown, request: DumpTaskRequest): DumpTask {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const issues: FieldIssue[] = [];
  const onOdd = collectInto(issues);
  checkEchoedName(body, 'stream_name', request.stream, onOdd);
  checkEchoedName(body, 'task_name', request.task, onOdd);
  const destinationType = readOptionalString(body, 'destination_type', 'destination_type', onOdd) ?? '';
  const { destination, deliverIntervalSeconds } = readDestination(body, destinationType, onOdd);
  const { nowMs } = request;
  const timestamp = (key: string): number | undefined => readTimestampMs(body, key, key, nowMs, onOdd);
  return Object.freeze(
    withoutUndefined<DumpTask>({
      taskId: readOptionalString(body, 'task_id', 'task_id', onOdd) ?? '',
      state: readOptionalString(body, 'state', 'state', onOdd),
      destinationType,
      destination,
      createTimeMs: timestamp('create_time'),
      lastTransferTimestampMs: timestamp('last_transfer_timestamp'),
      deliverIntervalSeconds,
      partitions: readPartitions(body, nowMs, onOdd),
      fieldIssues: frozenIssues(issues),
    }),
  );
}

/**
 * Reads a stream partition's `sequence_number_range`, `"[289911 : 289927]"`; never throws. Like Huawei's own Kafka
 * adapter (docs/dis-api.md ("sequence_number_range")), anything else is "unknown": null (an expired partition), a
 * value not in brackets (partition missing or scaling), `null` inside the brackets. So are non-numeric or negative
 * bounds, bounds past 2^53 - 1 (already rounded), and a start after the end.
 */
export function parseSequenceRange(value: unknown): { start: number; end: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = SEQUENCE_RANGE.exec(value.trim());
  if (match === null) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end) return undefined;
  return { start, end };
}

/**
 * Turns one "Querying Stream Details" page into the stream's own fields, its partitions, `has_more_partitions` and
 * the next page's cursor. A
 * body of another shape throws a DisResponseError; an odd field or a partition without a usable id is left out and
 * listed in `fieldIssues`, and so is a `stream_name` other than `request.stream` (the data stays the asked stream's).
 */
export function parseStreamDetailsPage(body: unknown, request: Readonly<{ stream: string }>): StreamDetailsPage {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const issues: FieldIssue[] = [];
  const onOdd = collectInto(issues);
  checkEchoedName(body, 'stream_name', request.stream, onOdd);
  const value = body['partitions'];
  let partitions: readonly StreamPartition[] = [];
  let cursor: string | undefined;
  if (value !== undefined && value !== null) {
    if (!Array.isArray(value)) throw new DisResponseError('partitions', `must be an array (got ${describe(value)})`);
    const identified = identifyPartitions(value, STREAM_ID_KEYS, onOdd);
    cursor = identified.at(-1)?.sent;
    partitions = unique(identified, onOdd).map(({ element, id }): StreamPartition => {
      const path = partitionPath(id);
      const rangePath = `${path}.sequence_number_range`;
      const range = readSequenceRange(element['sequence_number_range'], rangePath, onOdd);
      return Object.freeze(
        withoutUndefined<StreamPartition>({
          partitionId: id,
          status: readOptionalString(element, 'status', `${path}.status`, onOdd),
          startOffset: range?.start,
          endOffset: range?.end,
        }),
      );
    });
  }
  return Object.freeze(
    withoutUndefined<StreamDetailsPage>({
      facts: readStreamFacts(body, onOdd),
      partitions: Object.freeze(partitions),
      hasMore: readFlag(body, 'has_more_partitions'),
      cursor,
      fieldIssues: frozenIssues(issues),
    }),
  );
}

/** Turns one "Querying Streams" page into its stream names (`stream_names`, else `stream_info_list[].stream_name`). */
export function parseStreamNamesPage(body: unknown): StreamNamesPage {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const hasMore = readFlag(body, 'has_more_streams');
  const plain = body['stream_names'];
  const infos = body['stream_info_list'];
  let entries: { name: string; path: string }[] = [];
  if (plain !== undefined && plain !== null) {
    if (!Array.isArray(plain)) throw new DisResponseError('stream_names', `must be an array (got ${describe(plain)})`);
    entries = plain.map((name: unknown, index) => {
      const path = `stream_names[${index}]`;
      if (typeof name !== 'string' || name === '') {
        throw new DisResponseError(path, `must be a non-empty string (got ${describe(name)})`);
      }
      return { name, path };
    });
  } else if (infos !== undefined && infos !== null) {
    if (!Array.isArray(infos)) {
      throw new DisResponseError('stream_info_list', `must be an array (got ${describe(infos)})`);
    }
    entries = infos.map((info: unknown, index) => {
      const path = `stream_info_list[${index}]`;
      if (!isJsonObject(info)) throw new DisResponseError(path, `must be an object (got ${describe(info)})`);
      const namePath = `${path}.stream_name`;
      return { name: readRequiredString(info, 'stream_name', namePath), path: namePath };
    });
  }
  const firstPathByName = new Map<string, string>();
  for (const { name, path } of entries) {
    const firstPath = firstPathByName.get(name);
    if (firstPath !== undefined)
      throw new DisResponseError(path, `duplicate ${describe(name)} (first at ${firstPath})`);
    firstPathByName.set(name, path);
  }
  return Object.freeze({ names: Object.freeze(entries.map(({ name }) => name)), hasMore });
}

/** Turns a "Querying a Dump Task List" body into its tasks' names and states; no `tasks` means none. */
export function parseDumpTaskList(body: unknown): DumpTaskSummary[] {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const value = body['tasks'];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new DisResponseError('tasks', `must be an array (got ${describe(value)})`);
  const firstIndexByName = new Map<string, number>();
  return value.map((element: unknown, index): DumpTaskSummary => {
    const path = `tasks[${index}]`;
    if (!isJsonObject(element)) throw new DisResponseError(path, `must be an object (got ${describe(element)})`);
    const namePath = `${path}.task_name`;
    const taskName = readRequiredString(element, 'task_name', namePath);
    const firstIndex = firstIndexByName.get(taskName);
    if (firstIndex !== undefined) {
      throw new DisResponseError(namePath, `duplicate ${describe(taskName)} (first at tasks[${firstIndex}])`);
    }
    firstIndexByName.set(taskName, index);
    return Object.freeze(
      withoutUndefined<DumpTaskSummary>({
        taskName,
        state: readOptionalString(element, 'state', `${path}.state`, STRICT),
      }),
    );
  });
}

/**
 * Reads code, message and request id from an error body of DIS, the API gateway or IAM; never throws. A body over
 * the JSON limits (bounded-json.ts) reads as no body: the status alone then says what went wrong.
 */
export function parseErrorBody(text: string): ErrorBody {
  if (jsonLimitProblem(text) !== undefined) return Object.freeze({});
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return Object.freeze({});
  }
  if (!isJsonObject(body)) return Object.freeze({});
  const nested = body['error'];
  // IAM (Keystone style) wraps its error as {"error":{"code":401,"message":...}}; top-level keys win over it.
  const sources = isJsonObject(nested) ? [body, nested] : [body];
  return Object.freeze(
    withoutUndefined<ErrorBody>({
      apiCode: firstText(sources, ['errorCode', 'error_code', 'code']),
      apiMessage: firstText(sources, ['message', 'error_msg', 'errorMessage']),
      requestId: firstText(sources, ['request_id']),
    }),
  );
}

// Dump-task details spell the id `partitionId`, stream details `partition_id`; each reads the other spelling only
// when its own is missing.
const DUMP_TASK_ID_KEYS = ['partitionId', 'partition_id'] as const;
const STREAM_ID_KEYS = ['partition_id', 'partitionId'] as const;

function readPartitions(body: JsonObject, nowMs: number, onOdd: OnOdd): readonly PartitionProgress[] {
  const value = body['partitions'];
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value)) throw new DisResponseError('partitions', `must be an array (got ${describe(value)})`);
  const partitions = unique(identifyPartitions(value, DUMP_TASK_ID_KEYS, onOdd), onOdd).map(
    ({ element, id }): PartitionProgress => {
      const path = partitionPath(id);
      const timestampPath = `${path}.last_transfer_timestamp`;
      return Object.freeze(
        withoutUndefined<PartitionProgress>({
          partitionId: id,
          state: readOptionalString(element, 'state', `${path}.state`, onOdd),
          discard: readCount(element, 'discard', `${path}.discard`, onOdd),
          lastTransferOffset: readCount(element, 'last_transfer_offset', `${path}.last_transfer_offset`, onOdd),
          lastTransferTimestampMs: readTimestampMs(element, 'last_transfer_timestamp', timestampPath, nowMs, onOdd),
        }),
      );
    },
  );
  return Object.freeze(partitions);
}

/**
 * The stream's own fields of a stream details page, each left out when missing or odd (docs/dis-api.md ("Stream
 * details")): what the stream health metrics show.
 */
function readStreamFacts(body: JsonObject, onOdd: OnOdd): StreamFacts {
  return Object.freeze(
    withoutUndefined<StreamFacts>({
      streamId: readOptionalString(body, 'stream_id', 'stream_id', onOdd),
      status: readOptionalString(body, 'status', 'status', onOdd),
      streamType: readOptionalString(body, 'stream_type', 'stream_type', onOdd),
      dataType: readOptionalString(body, 'data_type', 'data_type', onOdd),
      retentionHours: readCount(body, 'retention_period', 'retention_period', onOdd),
      writablePartitions: readCount(body, 'writable_partition_count', 'writable_partition_count', onOdd),
      readablePartitions: readCount(body, 'readable_partition_count', 'readable_partition_count', onOdd),
    }),
  );
}

/** parseSequenceRange, reporting a range that is odd beyond the forms DIS uses for "unknown". */
function readSequenceRange(value: unknown, path: string, onOdd: OnOdd): { start: number; end: number } | undefined {
  const range = parseSequenceRange(value);
  if (range === undefined && !isUnknownRange(value)) {
    onOdd(path, `must be "[start : end]" with safe integers 0 <= start <= end (got ${describe(value)})`);
  }
  return range;
}

// What Huawei's Kafka adapter reads as "unknown" without complaint: null (an expired partition), a value not in
// brackets (a partition missing or scaling) and `null` inside the brackets.
function isUnknownRange(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'string') return false;
  const text = value.trim();
  return !text.startsWith('[') || /\bnull\b/.test(text);
}

function readDestination(
  body: JsonObject,
  destinationType: string,
  onOdd: OnOdd,
): { destination: string; deliverIntervalSeconds: number | undefined } {
  const none = { destination: '', deliverIntervalSeconds: undefined };
  const spec = DESTINATIONS.get(destinationType.toUpperCase());
  if (spec === undefined) return none;
  const descriptionKey = spec.descriptionKeys.find((key) => body[key] !== undefined && body[key] !== null);
  if (descriptionKey === undefined) return none;
  const description = body[descriptionKey];
  if (!isJsonObject(description)) {
    onOdd(descriptionKey, `must be an object (got ${describe(description)})`);
    return none;
  }
  const destination = spec.nameKeys
    .map((key) => readOptionalString(description, key, `${descriptionKey}.${key}`, onOdd) ?? '')
    .filter((part) => part !== '')
    .join('.');
  const intervalPath = `${descriptionKey}.deliver_time_interval`;
  return { destination, deliverIntervalSeconds: readCount(description, 'deliver_time_interval', intervalPath, onOdd) };
}

// DIS reports "never" as 0, which must not become 1970-01-01; an implausible value is an issue (docs/metrics.md
// ("Odd values in DIS answers")).
function readTimestampMs(
  object: JsonObject,
  key: string,
  path: string,
  nowMs: number,
  onOdd: OnOdd,
): number | undefined {
  const milliseconds = readCount(object, key, path, onOdd);
  if (milliseconds === undefined || milliseconds === 0) return undefined;
  const problem = implausibleTimestamp(milliseconds, nowMs);
  if (problem === undefined) return milliseconds;
  onOdd(path, problem);
  return undefined;
}

function firstText(sources: readonly JsonObject[], keys: readonly string[]): string | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = source[key];
      if (typeof value === 'string' && value.trim() !== '') return truncate(value, ERROR_TEXT_MAX_CHARS);
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    }
  }
  return undefined;
}

function sketchBody(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  if (collapsed === '') return 'empty body';
  return `${text.length} chars starting with ${JSON.stringify(truncate(collapsed, BODY_SNIPPET_MAX_CHARS))}`;
}
