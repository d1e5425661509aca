import type { Page, Paging } from './paging.js';
import {
  parseDumpTask,
  parseDumpTaskList,
  parseStreamDetailsPage,
  parseStreamNamesPage,
  type StreamDetailsPage,
  type StreamNamesPage,
} from './parse.js';
import type { DumpTask, DumpTaskSummary, FieldIssue, StreamDetails } from './types.js';

/**
 * The DIS API operations the exporter calls, and the requests for credentials (an IAM token for a password or an OIDC
 * ID token; the metadata service's session token and security key): the `operation` label of the API self-metrics.
 */
export type Operation =
  | 'show_transfer_task'
  | 'list_streams'
  | 'list_transfer_tasks'
  | 'show_stream'
  | 'iam_token'
  | 'oidc_token'
  | 'metadata_token'
  | 'metadata_securitykey';

/** One DIS request: the operation it counts as, its path and query under `/v2/{project_id}`, and its body's parser. */
export type DisRequest<T> = Readonly<{ operation: Operation; path: string; parse: (body: unknown) => T }>;

/** A paged DIS listing: how to walk it, the operation each page counts as, and a page's parser. */
export type PagedRequest<P extends Page> = Paging<P> & Readonly<{ operation: Operation; parse: (body: unknown) => P }>;

/** The documented maxima of `limit` (Querying Streams) and `limit_partitions` (Querying Stream Details). */
const STREAMS_PER_PAGE = 100;
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

/** The details of a stream from all of its pages: their partitions, and the first issue of each field. */
export function mergeStreamDetails(pages: readonly StreamDetailsPage[]): StreamDetails {
  const fieldIssues = firstIssuePerField(pages.flatMap((page) => page.fieldIssues ?? []));
  return Object.freeze({
    partitions: Object.freeze(pages.flatMap((page) => page.partitions)),
    ...(fieldIssues.length === 0 ? {} : { fieldIssues: Object.freeze(fieldIssues) }),
  });
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
