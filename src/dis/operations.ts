import type { Page, Paging } from './paging.js';
import { parseAppsPage, parseConsumerStatePage, type AppsPage, type ConsumerStatePage } from './parse-apps.js';
import {
  parseDumpTask,
  parseDumpTaskList,
  parseStreamDetailsPage,
  parseStreamNamesPage,
  type StreamDetailsPage,
  type StreamNamesPage,
} from './parse.js';
import type { AppListing, ConsumerState, DumpTask, DumpTaskSummary, FieldIssue, StreamDetails } from './types.js';

/**
 * The DIS API operations the exporter calls, and the requests for credentials (an IAM token for a password or an OIDC
 * ID token; the metadata service's session token and security key): the `operation` label of the API self-metrics.
 */
export type Operation =
  | 'show_transfer_task'
  | 'list_streams'
  | 'list_transfer_tasks'
  | 'show_stream'
  | 'list_apps'
  | 'show_consumer_state'
  | 'iam_token'
  | 'oidc_token'
  | 'metadata_token'
  | 'metadata_securitykey';

/** One DIS request: the operation it counts as, its path and query under `/v2/{project_id}`, and its body's parser. */
export type DisRequest<T> = Readonly<{ operation: Operation; path: string; parse: (body: unknown) => T }>;

/** A paged DIS listing: how to walk it, the operation each page counts as, and a page's parser. */
export type PagedRequest<P extends Page> = Paging<P> & Readonly<{ operation: Operation; parse: (body: unknown) => P }>;

/**
 * The documented maxima of `limit` (Querying Streams, Querying Apps), `limit_partitions` (Querying Stream Details) and
 * `limit` (Querying App Consumption Status).
 */
const STREAMS_PER_PAGE = 100;
const APPS_PER_PAGE = 100;
const PARTITIONS_PER_PAGE = 1000;

/**
 * "Querying Dump Task Details" of one task. `now` is read when the answer is parsed: the parser judges its
 * timestamps against it.
 */
export function dumpTaskRequest(stream: string, task: string, now: () => number): DisRequest<DumpTask> {
  return {
    operation: 'show_transfer_task',
    path: `/streams/${encodeURIComponent(stream)}/transfer-tasks/${encodeURIComponent(task)}`,
    parse: (body) => parseDumpTask(body, { stream, task, nowMs: now() }),
  };
}

/** "Querying a Dump Task List" of one stream: one request, no paging (docs/dis-api.md ("Dump task list")). */
export function dumpTaskListRequest(stream: string): DisRequest<DumpTaskSummary[]> {
  return {
    operation: 'list_transfer_tasks',
    path: `/streams/${encodeURIComponent(stream)}/transfer-tasks`,
    parse: parseDumpTaskList,
  };
}

/**
 * "Querying Streams", every page: limit=100, start_stream_name = the last name of the previous page (exclusive),
 * while has_more_streams (docs/dis-api.md ("Querying Streams")).
 */
export const STREAM_NAMES_LISTING: PagedRequest<StreamNamesPage> = {
  operation: 'list_streams',
  path: (cursor) => {
    const query = new URLSearchParams({ limit: String(STREAMS_PER_PAGE) });
    if (cursor !== undefined) query.set('start_stream_name', cursor);
    return `/streams${queryString(query)}`;
  },
  parse: parseStreamNamesPage,
  keys: (page) => page.names,
  cursor: (page) => page.names.at(-1),
  moreField: 'has_more_streams',
  noun: 'streams',
};

/**
 * "Querying Stream Details", every page: limit_partitions=1000, start_partitionId = the last partition id of the
 * previous page as DIS sent it (exclusive), while has_more_partitions (docs/dis-api.md ("Paging partitions")).
 */
export function streamDetailsListing(stream: string): PagedRequest<StreamDetailsPage> {
  const streamPath = `/streams/${encodeURIComponent(stream)}`;
  return {
    operation: 'show_stream',
    path: (cursor) => {
      const query = new URLSearchParams({ limit_partitions: String(PARTITIONS_PER_PAGE) });
      if (cursor !== undefined) query.set('start_partitionId', cursor);
      return `${streamPath}${queryString(query)}`;
    },
    parse: (body) => parseStreamDetailsPage(body, { stream }),
    keys: (page) => page.partitions.map((partition) => partition.partitionId),
    cursor: (page) => page.cursor,
    moreField: 'has_more_partitions',
    noun: 'partitions',
  };
}

/**
 * The details of a stream from all of its pages: the stream's own fields as the first page gives them (every page
 * repeats them), the partitions of every page, and the first issue of each field.
 */
export function mergeStreamDetails(pages: readonly StreamDetailsPage[]): StreamDetails {
  return Object.freeze({ ...pages[0]?.facts, ...mergedPartitions(pages) });
}

/**
 * "Querying Apps", every page: limit=100, start_app_name = the last name of the previous page (exclusive), while
 * has_more_app (docs/dis-api.md ("Consumer apps")).
 */
export const APPS_LISTING: PagedRequest<AppsPage> = {
  operation: 'list_apps',
  path: (cursor) => {
    const query = new URLSearchParams({ limit: String(APPS_PER_PAGE) });
    if (cursor !== undefined) query.set('start_app_name', cursor);
    return `/apps${queryString(query)}`;
  },
  parse: parseAppsPage,
  keys: (page) => page.apps.map((app) => app.appName),
  cursor: (page) => page.apps.at(-1)?.appName,
  moreField: 'has_more_app',
  noun: 'apps',
};

/**
 * "Querying App Consumption Status" of one app and stream, every page: checkpoint_type=LAST_READ, limit=1000,
 * start_partition_id = the last partition id of the previous page as DIS sent it (exclusive), while has_more
 * (docs/dis-api.md ("Consumer apps")).
 */
export function consumerStateListing(app: string, stream: string): PagedRequest<ConsumerStatePage> {
  const pairPath = `/apps/${encodeURIComponent(app)}/streams/${encodeURIComponent(stream)}`;
  return {
    operation: 'show_consumer_state',
    path: (cursor) => {
      const query = new URLSearchParams({ checkpoint_type: 'LAST_READ', limit: String(PARTITIONS_PER_PAGE) });
      if (cursor !== undefined) query.set('start_partition_id', cursor);
      return `${pairPath}${queryString(query)}`;
    },
    parse: (body) => parseConsumerStatePage(body, { app, stream }),
    keys: (page) => page.partitions.map((partition) => partition.partitionId),
    cursor: (page) => page.cursor,
    moreField: 'has_more',
    noun: 'partitions',
  };
}

/** The apps of every page of the app listing, in order, and the first issue of each field. */
export function mergeAppListing(pages: readonly AppsPage[]): AppListing {
  const fieldIssues = firstIssuePerField(pages.flatMap((page) => page.fieldIssues ?? []));
  return Object.freeze({
    apps: Object.freeze(pages.flatMap((page) => page.apps)),
    ...(fieldIssues.length === 0 ? {} : { fieldIssues: Object.freeze(fieldIssues) }),
  });
}

/** An app's consumption state of a stream from all of its pages: their partitions, and the first issue of each field. */
export function mergeConsumerState(pages: readonly ConsumerStatePage[]): ConsumerState {
  return Object.freeze(mergedPartitions(pages));
}

/** The partitions of every page, in order, and the first issue of each field over the pages. */
function mergedPartitions<T>(
  pages: readonly Readonly<{ partitions: readonly T[]; fieldIssues?: readonly FieldIssue[] }>[],
): { partitions: readonly T[]; fieldIssues?: readonly FieldIssue[] } {
  const fieldIssues = firstIssuePerField(pages.flatMap((page) => page.fieldIssues ?? []));
  return {
    partitions: Object.freeze(pages.flatMap((page) => page.partitions)),
    ...(fieldIssues.length === 0 ? {} : { fieldIssues: Object.freeze(fieldIssues) }),
  };
}

/** One issue per field: every page of stream details may echo the same odd `stream_name`. */
function firstIssuePerField(issues: readonly FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter(({ field }) => {
    if (seen.has(field)) return false;
    seen.add(field);
    return true;
  });
}

/** RFC 3986 percent-encoding: a space is `%20` (never `+`, which URLSearchParams.toString writes), and `!'()*` are encoded too. */
function encodeQueryPart(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `?k=v&…` in insertion order, RFC 3986-encoded (the signer sorts its own copy); `''` when empty. */
function queryString(params: URLSearchParams): string {
  const pairs = [...params].map(([key, value]) => `${encodeQueryPart(key)}=${encodeQueryPart(value)}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}
