import { DisResponseError } from './errors.js';
import { quoteForError } from './answer-fields.js';

/** A paged listing that still says "more" after this many pages is treated as a broken server, not followed further. */
export const MAX_PAGES = 1000;

/** One page of a listing: whether the server says that more pages follow. */
export type Page = Readonly<{ hasMore: boolean }>;

/** How to walk one paged listing: the path of each page, the keys a page lists and the cursor it ends on. */
export type Paging<P extends Page> = Readonly<{
  /** The path and query of the page after `cursor` (the first page when undefined). */
  path: (cursor: string | undefined) => string;
  /** The page's keys: each must be new (a key seen before means the server ignored the cursor). */
  keys: (page: P) => readonly string[];
  /** What the page after this one starts after: its last key as the server sent it; undefined for an empty page. */
  cursor: (page: P) => string | undefined;
  /** `has_more_streams` or `has_more_partitions`, for error messages. */
  moreField: string;
  /** `streams` or `partitions`, for error messages. */
  noun: string;
}>;

/**
 * Fetches every page of a listing, in order, one request after the other: `fetchPage` gets each page's path, and
 * `requestOf` names the request of a path in error messages (`GET /v2/...`). A key seen on an earlier page means
 * the server ignored the cursor, and an empty page that still says "more" leaves no cursor: either would loop, so
 * either ends the walk with a DisResponseError, as does a listing longer than MAX_PAGES pages
 * (docs/dis-api.md ("Paging partitions")).
 */
export async function walkPages<P extends Page>(
  paging: Paging<P>,
  fetchPage: (path: string) => Promise<P>,
  requestOf: (path: string) => string,
): Promise<P[]> {
  const pages: P[] = [];
  const pageByKey = new Map<string, number>();
  let cursor: string | undefined;
  for (let number = 1; ; number++) {
    const path = paging.path(cursor);
    const page = await fetchPage(path);
    const failure = (problem: string) => new DisResponseError(paging.moreField, problem, requestOf(path));
    const keys = paging.keys(page);
    for (const key of keys) {
      const first = pageByKey.get(key);
      if (first !== undefined) {
        throw failure(
          `was true on page ${number - 1} but page ${number} repeats ${quoteForError(key)} from page ${first}`,
        );
      }
    }
    for (const key of keys) pageByKey.set(key, number);
    pages.push(page);
    if (!page.hasMore) return pages;
    const next = paging.cursor(page);
    if (next === undefined) throw failure(`is true but page ${number} lists no ${paging.noun}`);
    if (number >= MAX_PAGES) throw failure(`is still true after ${MAX_PAGES} pages`);
    cursor = next;
  }
}
