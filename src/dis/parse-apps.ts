import {
  answerObject,
  checkEchoedName,
  collectInto,
  describe,
  frozenIssues,
  identifyPartitions,
  isJsonObject,
  partitionPath,
  readCount,
  readFlag,
  readOptionalArray,
  readOptionalString,
  readRequiredString,
  unique,
  withoutUndefined,
  type JsonObject,
  type OnOdd,
} from './answer-fields.js';
import { DisResponseError } from './errors.js';
import type { AppPartitionState, AppSummary, FieldIssue } from './types.js';

// The answers of the consumer app APIs (docs/dis-api.md ("Consumer apps")), read as defensively as the dump task
// details: a body of another shape fails the call, an odd field costs only that field.

/** One page of "Querying Apps". */
export type AppsPage = Readonly<{
  apps: readonly AppSummary[];
  hasMore: boolean;
  /** Fields left out; absent when there are none. */
  fieldIssues?: readonly FieldIssue[];
}>;

/** One page of "Querying App Consumption Status". */
export type ConsumerStatePage = Readonly<{
  partitions: readonly AppPartitionState[];
  hasMore: boolean;
  /** The id of the page's last partition exactly as DIS sent it: the next page's `start_partition_id`. */
  cursor?: string;
  /** Fields left out or overridden; absent when there are none. */
  fieldIssues?: readonly FieldIssue[];
}>;

const STATES = 'partition_consuming_states';
// The consumption state spells the id `partition_id`; `partitionId` is read only when it is missing.
const STATE_ID_KEYS = ['partition_id', 'partitionId'] as const;
// `sequence_number` is a string in the SDK models and DIS's "none" is -1, so "-1" is read as none too.
const NO_CHECKPOINT: ReadonlySet<unknown> = new Set([-1, '-1']);

/**
 * Turns one "Querying Apps" page into its apps and `has_more_app`. `app_name` is required and unique within the page
 * (it is the paging cursor); an odd `app_id` or `commit_checkpoint_stream_names` is left out and listed in
 * `fieldIssues`, as is a stream name in the list that is not a non-empty string.
 */
export function parseAppsPage(body: unknown): AppsPage {
  const object = answerObject(body);
  const issues: FieldIssue[] = [];
  const onOdd = collectInto(issues);
  const hasMore = readFlag(object, 'has_more_app');
  const elements = readOptionalArray(object, 'apps') ?? [];
  const firstPathByName = new Map<string, string>();
  const apps = elements.map((element: unknown, index): AppSummary => {
    const path = `apps[${index}]`;
    if (!isJsonObject(element)) throw new DisResponseError(path, `must be an object (got ${describe(element)})`);
    const namePath = `${path}.app_name`;
    const appName = readRequiredString(element, 'app_name', namePath);
    const firstPath = firstPathByName.get(appName);
    if (firstPath !== undefined)
      throw new DisResponseError(namePath, `duplicate ${describe(appName)} (first at ${firstPath})`);
    firstPathByName.set(appName, namePath);
    return Object.freeze(
      withoutUndefined<AppSummary>({
        appName,
        appId: readOptionalString(element, 'app_id', `${path}.app_id`, onOdd) ?? '',
        streams: readStreamNames(element, `${path}.commit_checkpoint_stream_names`, onOdd),
      }),
    );
  });
  return Object.freeze(
    withoutUndefined<AppsPage>({ apps: Object.freeze(apps), hasMore, fieldIssues: frozenIssues(issues) }),
  );
}

/**
 * Turns one "Querying App Consumption Status" page into its partitions, `has_more` and the next page's cursor. A body
 * of another shape throws a DisResponseError; an odd field, or a partition without a usable id, is left out and
 * listed in `fieldIssues`, and so is an echoed `app_name` or `stream_name` other than the asked one (the data stays the
 * asked pair's). Counts may be JSON numbers or strings of digits; `sequence_number` -1 means no checkpoint yet.
 */
export function parseConsumerStatePage(
  body: unknown,
  request: Readonly<{ app: string; stream: string }>,
): ConsumerStatePage {
  const object = answerObject(body);
  const issues: FieldIssue[] = [];
  const onOdd = collectInto(issues);
  // The SDK models list both echoes as optional, and the reference's examples show them.
  checkEchoedName(object, 'app_name', request.app, onOdd, false);
  checkEchoedName(object, 'stream_name', request.stream, onOdd, false);
  const elements = readOptionalArray(object, STATES) ?? [];
  const identified = identifyPartitions(elements, STATE_ID_KEYS, onOdd, STATES);
  const partitions = unique(identified, onOdd, STATES).map(({ element, id }): AppPartitionState => {
    const path = partitionPath(id, STATES);
    return Object.freeze(
      withoutUndefined<AppPartitionState>({
        partitionId: id,
        ...readCheckpoint(element, `${path}.sequence_number`, onOdd),
        latestOffset: readCount(element, 'latest_offset', `${path}.latest_offset`, onOdd),
        earliestOffset: readCount(element, 'earliest_offset', `${path}.earliest_offset`, onOdd),
      }),
    );
  });
  return Object.freeze(
    withoutUndefined<ConsumerStatePage>({
      partitions: Object.freeze(partitions),
      hasMore: readFlag(object, 'has_more'),
      cursor: identified.at(-1)?.sent,
      fieldIssues: frozenIssues(issues),
    }),
  );
}

/** `sequence_number`: a checkpoint, none yet (-1), or unknown (missing or odd: an issue when odd). */
function readCheckpoint(
  element: JsonObject,
  path: string,
  onOdd: OnOdd,
): Pick<AppPartitionState, 'hasCheckpoint' | 'checkpoint'> {
  const value = element['sequence_number'];
  if (NO_CHECKPOINT.has(value)) return { hasCheckpoint: false };
  const checkpoint = readCount(element, 'sequence_number', path, onOdd);
  return checkpoint === undefined ? {} : { hasCheckpoint: true, checkpoint };
}

/** `commit_checkpoint_stream_names`: the names that are non-empty strings (others are issues); undefined when absent. */
function readStreamNames(element: JsonObject, path: string, onOdd: OnOdd): readonly string[] | undefined {
  const value = element['commit_checkpoint_stream_names'];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    onOdd(path, `must be an array (got ${describe(value)})`);
    return undefined;
  }
  const names = value.filter((name: unknown, index): name is string => {
    if (typeof name === 'string' && name !== '') return true;
    onOdd(`${path}[${index}]`, `must be a non-empty string (got ${describe(name)}); it is left out`);
    return false;
  });
  return Object.freeze([...new Set(names)]);
}
