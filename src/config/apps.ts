import type { AppSelector } from './types.js';
import { describeValue, DIS_NAME, mappingListProblems, splitSlashList } from './values.js';

// The `apps` setting (docs/configuration.md ("Consumer apps")): which consumer apps' checkpoints to poll, as
// {app, stream} selectors, at the top level (the single-project form) and in each `projects` entry.

/** The `apps` wildcard: every app DIS lists (`app`), every stream the app checkpoints (`stream`). */
export const ANY = '*';

/** One `apps` entry as the file or DIS_APPS gives it, before validation and normalization. */
export type AppEntry = { app: string; stream?: string };

const KEYS: ReadonlySet<string> = new Set(['app', 'stream']);

// DIS app names: 1 to 200 letters, digits, "-" and "_" ("Creating Consumption Apps": docs/dis-api.md ("Consumer
// apps")). They become URL path segments.
const APP_NAME = /^[A-Za-z0-9_-]{1,200}$/;

function appProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'is required';
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)}; quote it in YAML)`;
  if (value !== ANY && !APP_NAME.test(value)) {
    return `must be "*" or 1 to 200 letters, digits, "-" or "_" (got ${describeValue(value)})`;
  }
  return undefined;
}

function streamProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)}; quote it in YAML)`;
  if (value !== ANY && !DIS_NAME.test(value)) {
    return `must be "*", left out, or 1 to 64 letters, digits, "-" or "_" (got ${describeValue(value)})`;
  }
  return undefined;
}

/** The selector a valid entry stands for: a left-out `stream` is `"*"` (every stream the app checkpoints). */
export function toAppSelector(entry: AppEntry): AppSelector {
  return { app: entry.app, stream: entry.stream ?? ANY };
}

/** Whether a selector needs the app listing to know its pairs: `"*"` in its app or its stream. */
export function isAppWildcard(selector: AppSelector): boolean {
  return selector.app === ANY || selector.stream === ANY;
}

/**
 * Every problem of an `apps` value, one line each, with the full path of each element (`apps[i].app`, or under
 * `key`, such as `projects[0].apps[i].app`). An empty list is no problem: apps are optional.
 */
export function appProblems(value: unknown, key = 'apps'): string[] {
  if (!Array.isArray(value)) return [`must be a list of {app, stream} mappings (got ${describeValue(value)})`];
  return mappingListProblems(value, key, '{app: billing, stream: orders}', entryProblems, (entry) => {
    const { app, stream } = toAppSelector(entry as AppEntry);
    return `${app}/${stream}`;
  });
}

/** The problems of one `apps` entry (a mapping) at `at`. */
function entryProblems(entry: Record<string, unknown>, at: string): string[] {
  const found: string[] = [];
  for (const name of Object.keys(entry)) if (!KEYS.has(name)) found.push(`${at}.${name}: unknown key`);
  const app = appProblem(entry['app']);
  if (app !== undefined) found.push(`${at}.app: ${app}`);
  const stream = streamProblem(entry['stream']);
  if (stream !== undefined) found.push(`${at}.stream: ${stream}`);
  return found;
}

/** Parses `DIS_APPS="billing/orders, audit"` (`app/stream` or `app` per entry) into app entries, still unvalidated. */
export function parseAppList(text: string): AppEntry[] {
  return splitSlashList(text).map(([app, stream]) => (stream === undefined ? { app } : { app, stream }));
}
