import { jsonLimitProblem } from './bounded-json.js';
import { DisResponseError } from './errors.js';
import type { DumpTask, DumpTaskSummary, PartitionProgress, StreamPartition } from './types.js';

type JsonObject = { readonly [key: string]: unknown };

/** What an error body of DIS, the API gateway or IAM says, each part only when it is there. */
export type ErrorBody = Readonly<{ apiCode?: string; apiMessage?: string; requestId?: string }>;

/** One page of "Querying Stream Details". */
export type StreamDetailsPage = Readonly<{
  streamName: string;
  partitions: readonly StreamPartition[];
  hasMore: boolean;
}>;

/** One page of "Querying Streams". */
export type StreamNamesPage = Readonly<{ names: readonly string[]; hasMore: boolean }>;

/** Where a destination type keeps its description and which of its fields name the destination. */
type DestinationSpec = Readonly<{ descriptionKeys: readonly string[]; nameKeys: readonly string[] }>;

// The misspelt `*_descripton` keys are what the API reference and the v3 SDKs use; the older DIS SDK spells them
// correctly, and no public source shows which one the server sends, so both are read, the misspelt one first
// (dis-api.md §1.1). Only the `nameKeys` and `deliver_time_interval` are ever read from a description, which is
// what keeps credentials such as DWS `user_password` out of the result.
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

const DECIMAL_DIGITS = /^[0-9]+$/;
// `[`, start, `:`, end, `]`, each part optionally padded with spaces or tabs.
const SEQUENCE_RANGE = /^\[[ \t]*([0-9]+)[ \t]*:[ \t]*([0-9]+)[ \t]*\]$/;
const GOT_STRING_MAX_CHARS = 40;
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

/** Turns a "Querying Dump Task Details" body into a frozen DumpTask; a DisResponseError names any bad path. */
export function parseDumpTask(body: unknown): DumpTask {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const taskName = readRequiredString(body, 'task_name', 'task_name');
  const streamName = readRequiredString(body, 'stream_name', 'stream_name');
  const destinationType = readOptionalString(body, 'destination_type', 'destination_type') ?? '';
  const { destination, deliverIntervalSeconds } = readDestination(body, destinationType);
  return Object.freeze(
    withoutUndefined<DumpTask>({
      streamName,
      taskName,
      taskId: readOptionalString(body, 'task_id', 'task_id') ?? '',
      state: readOptionalString(body, 'state', 'state'),
      destinationType,
      destination,
      createTimeMs: readTimestampMs(body, 'create_time', 'create_time'),
      lastTransferTimestampMs: readTimestampMs(body, 'last_transfer_timestamp', 'last_transfer_timestamp'),
      deliverIntervalSeconds,
      partitions: readPartitions(body),
    }),
  );
}

/**
 * Reads a stream partition's `sequence_number_range`, `"[289911 : 289927]"`; never throws. Like Huawei's own Kafka
 * adapter (dis-api.md §3.1), anything else is "unknown": null (an expired partition), a value not in brackets
 * (partition missing or scaling), `null` inside the brackets. So are non-numeric or negative bounds, bounds past
 * 2^53 - 1 (already rounded), and a start after the end.
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

/** Turns one "Querying Stream Details" page into its stream name, partitions and `has_more_partitions`. */
export function parseStreamDetailsPage(body: unknown): StreamDetailsPage {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  const streamName = readRequiredString(body, 'stream_name', 'stream_name');
  const value = body['partitions'];
  let partitions: readonly StreamPartition[] = [];
  if (value !== undefined && value !== null) {
    if (!Array.isArray(value)) throw new DisResponseError('partitions', `must be an array (got ${describe(value)})`);
    const firstIndexById = new Map<string, number>();
    partitions = value.map((element: unknown, index): StreamPartition => {
      const path = `partitions[${index}]`;
      if (!isJsonObject(element)) throw new DisResponseError(path, `must be an object (got ${describe(element)})`);
      const { id, idPath } = readStreamPartitionId(element, path);
      const firstIndex = firstIndexById.get(id);
      if (firstIndex !== undefined) {
        throw new DisResponseError(idPath, `duplicate ${describe(id)} (first at partitions[${firstIndex}])`);
      }
      firstIndexById.set(id, index);
      const range = parseSequenceRange(element['sequence_number_range']);
      return Object.freeze(
        withoutUndefined<StreamPartition>({
          partitionId: id,
          status: readOptionalString(element, 'status', `${path}.status`),
          startOffset: range?.start,
          endOffset: range?.end,
        }),
      );
    });
  }
  return Object.freeze({
    streamName,
    partitions: Object.freeze(partitions),
    hasMore: readFlag(body, 'has_more_partitions'),
  });
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
      withoutUndefined<DumpTaskSummary>({ taskName, state: readOptionalString(element, 'state', `${path}.state`) }),
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

function readPartitions(body: JsonObject): readonly PartitionProgress[] {
  const value = body['partitions'];
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value)) throw new DisResponseError('partitions', `must be an array (got ${describe(value)})`);
  const firstIndexById = new Map<string, number>();
  const partitions = value.map((element: unknown, index): PartitionProgress => {
    const path = `partitions[${index}]`;
    if (!isJsonObject(element)) throw new DisResponseError(path, `must be an object (got ${describe(element)})`);
    const { id, idPath } = readPartitionId(element, path);
    const firstIndex = firstIndexById.get(id);
    if (firstIndex !== undefined) {
      throw new DisResponseError(idPath, `duplicate ${describe(id)} (first at partitions[${firstIndex}])`);
    }
    firstIndexById.set(id, index);
    return Object.freeze(
      withoutUndefined<PartitionProgress>({
        partitionId: id,
        state: readOptionalString(element, 'state', `${path}.state`),
        discard: readCount(element, 'discard', `${path}.discard`),
        lastTransferOffset: readCount(element, 'last_transfer_offset', `${path}.last_transfer_offset`),
        lastTransferTimestampMs: readTimestampMs(element, 'last_transfer_timestamp', `${path}.last_transfer_timestamp`),
      }),
    );
  });
  return Object.freeze(partitions);
}

// `partition_id` is the stream-details spelling (dis-api.md §7); a numeric id there is kept as its decimal string
// ("0", not "shardId-0000000000") because padding would invent a format the server never sent.
function readPartitionId(element: JsonObject, path: string): { id: string; idPath: string } {
  const camel = element['partitionId'];
  if (camel !== undefined && camel !== null) {
    const idPath = `${path}.partitionId`;
    if (typeof camel !== 'string' || camel === '') {
      throw new DisResponseError(idPath, `must be a non-empty string (got ${describe(camel)})`);
    }
    return { id: camel, idPath };
  }
  const snake = element['partition_id'];
  if (snake === undefined || snake === null) throw new DisResponseError(`${path}.partitionId`, 'is required');
  const idPath = `${path}.partition_id`;
  if (typeof snake === 'string' && snake !== '') return { id: snake, idPath };
  if (typeof snake === 'number' && Number.isSafeInteger(snake) && snake >= 0) return { id: String(snake), idPath };
  throw new DisResponseError(idPath, `must be a non-empty string or a non-negative integer (got ${describe(snake)})`);
}

// Stream details spell it `partition_id` (dis-api.md §7); `partitionId` is read only when that is missing.
function readStreamPartitionId(element: JsonObject, path: string): { id: string; idPath: string } {
  for (const key of ['partition_id', 'partitionId']) {
    const value = element[key];
    if (value === undefined || value === null) continue;
    const idPath = `${path}.${key}`;
    if (typeof value === 'string' && value !== '') return { id: value, idPath };
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { id: String(value), idPath };
    throw new DisResponseError(idPath, `must be a non-empty string or a non-negative integer (got ${describe(value)})`);
  }
  throw new DisResponseError(`${path}.partition_id`, 'is required');
}

// `has_more_*`: missing or null means no more pages.
function readFlag(object: JsonObject, key: string): boolean {
  const value = object[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new DisResponseError(key, `must be a boolean (got ${describe(value)})`);
  return value;
}

function readDestination(
  body: JsonObject,
  destinationType: string,
): { destination: string; deliverIntervalSeconds: number | undefined } {
  const spec = DESTINATIONS.get(destinationType.toUpperCase());
  if (spec === undefined) return { destination: '', deliverIntervalSeconds: undefined };
  const descriptionKey = spec.descriptionKeys.find((key) => body[key] !== undefined && body[key] !== null);
  if (descriptionKey === undefined) return { destination: '', deliverIntervalSeconds: undefined };
  const description = body[descriptionKey];
  if (!isJsonObject(description)) {
    throw new DisResponseError(descriptionKey, `must be an object (got ${describe(description)})`);
  }
  const destination = spec.nameKeys
    .map((key) => readOptionalString(description, key, `${descriptionKey}.${key}`) ?? '')
    .filter((part) => part !== '')
    .join('.');
  const intervalPath = `${descriptionKey}.deliver_time_interval`;
  return { destination, deliverIntervalSeconds: readCount(description, 'deliver_time_interval', intervalPath) };
}

function readRequiredString(object: JsonObject, key: string, path: string): string {
  const value = object[key];
  if (value === undefined || value === null) throw new DisResponseError(path, 'is required');
  if (typeof value !== 'string' || value === '') {
    throw new DisResponseError(path, `must be a non-empty string (got ${describe(value)})`);
  }
  return value;
}

function readOptionalString(object: JsonObject, key: string, path: string): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new DisResponseError(path, `must be a string (got ${describe(value)})`);
  return value;
}

// int64 fields arrive as JSON numbers, but the docs show some as strings, so decimal-digit strings count too.
function readCount(object: JsonObject, key: string, path: string): number | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const count = typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new DisResponseError(path, `must be a non-negative integer (got ${describe(value)})`);
  }
  // Past 2^53 - 1 the value is already rounded, and a rounded offset would give a wrong lag.
  if (!Number.isSafeInteger(count)) {
    throw new DisResponseError(path, `must be at most ${Number.MAX_SAFE_INTEGER} (got ${describe(value)})`);
  }
  // JSON `-0` parses to -0, which would render as "-0".
  return count === 0 ? 0 : count;
}

// DIS reports "never" as 0, which must not become 1970-01-01 (contract §4).
function readTimestampMs(object: JsonObject, key: string, path: string): number | undefined {
  const milliseconds = readCount(object, key, path);
  return milliseconds === 0 ? undefined : milliseconds;
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

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string as error messages quote it: JSON-quoted, cut to its first 40 characters. */
export function quoteForError(text: string): string {
  return JSON.stringify(truncate(text, GOT_STRING_MAX_CHARS));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return quoteForError(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function sketchBody(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  if (collapsed === '') return 'empty body';
  return `${text.length} chars starting with ${JSON.stringify(truncate(collapsed, BODY_SNIPPET_MAX_CHARS))}`;
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Cutting between the halves of a surrogate pair would leave a lone half that JSON.stringify escapes.
  const head = text.slice(0, maxChars).replace(/[\uD800-\uDBFF]$/, '');
  return `${head}…`;
}

function withoutUndefined<T extends object>(record: T): T {
  // Absent optional fields stay absent, so deep equality and JSON output do not depend on `key: undefined`.
  // A plain loop, not entries/filter/fromEntries: this runs for every partition of every poll.
  const defined: Record<string, unknown> = {};
  for (const key in record) {
    const value = record[key];
    if (value !== undefined) defined[key] = value;
  }
  return defined as T;
}
