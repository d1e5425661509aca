import type { TargetSelector } from './types.js';
import { describeValue, DIS_NAME, mappingListProblems, splitSlashList } from './values.js';

/** The `targets` wildcard: every stream of the project (`stream`), every dump task of a stream (`task`). */
export const WILDCARD = '*';

/** One `targets` entry as the file or DIS_TARGETS gives it, before validation and normalization. */
export type TargetEntry = { stream: string; task?: string; include?: string; exclude?: string };

const FILTERS = ['include', 'exclude'] as const;
const KEYS: ReadonlySet<string> = new Set(['stream', 'task', ...FILTERS]);

function nameProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'is required';
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)}; quote it in YAML)`;
  if (value !== WILDCARD && !DIS_NAME.test(value)) {
    return `must be 1 to 64 letters, digits, "-" or "_" (got ${describeValue(value)})`;
  }
  return undefined;
}

function taskProblem(stream: unknown, task: unknown): string | undefined {
  if (stream !== WILDCARD) return nameProblem(task);
  if (task === undefined || task === WILDCARD) return undefined;
  return `must be "*" or left out when stream is "*" (got ${describeValue(task)})`;
}

// V8 words it "Invalid regular expression: /<source>/<flags>: <reason>"; only the reason is kept.
function regexpReason(source: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const prefix = `Invalid regular expression: /${source}/: `;
  const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

function patternProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a regular expression in a string (got ${describeValue(value)})`;
  if (value === '') return 'must not be empty; leave it out to keep every name';
  try {
    new RegExp(value);
  } catch (error) {
    return `invalid regular expression: ${regexpReason(value, error)} (got ${describeValue(value)})`;
  }
  return undefined;
}

/** The selector a valid entry stands for: `task` defaults to `"*"` with `stream: "*"`; filters only when set. */
export function toSelector(entry: TargetEntry): TargetSelector {
  const { stream, task, include, exclude } = entry;
  return {
    stream,
    task: task ?? WILDCARD,
    ...(include === undefined ? {} : { include }),
    ...(exclude === undefined ? {} : { exclude }),
  };
}

/** A selector as problem messages show it: `orders/orders-to-obs`, `* / * include "^prod-"`. */
export function describeSelector(selector: TargetSelector): string {
  let text = `${selector.stream}/${selector.task}`;
  if (selector.include !== undefined) text += ` include ${JSON.stringify(selector.include)}`;
  if (selector.exclude !== undefined) text += ` exclude ${JSON.stringify(selector.exclude)}`;
  return text;
}

function entryProblems(entry: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(entry)) if (!KEYS.has(key)) problems.push(`${at}.${key}: unknown key`);
  const streamProblem = nameProblem(entry['stream']);
  if (streamProblem !== undefined) problems.push(`${at}.stream: ${streamProblem}`);
  const taskIssue = streamProblem === undefined ? taskProblem(entry['stream'], entry['task']) : undefined;
  if (taskIssue !== undefined) problems.push(`${at}.task: ${taskIssue}`);
  const concrete = streamProblem === undefined && entry['stream'] !== WILDCARD && entry['task'] !== WILDCARD;
  for (const key of FILTERS) {
    if (!Object.hasOwn(entry, key)) continue;
    const problem = concrete ? 'only applies to "*" targets (stream: "*" or task: "*")' : patternProblem(entry[key]);
    if (problem !== undefined) problems.push(`${at}.${key}: ${problem}`);
  }
  return problems;
}

/**
 * Every problem of a `targets` value, one line each; element problems carry their full path (`targets[i]...`, or
 * under `key`, such as `projects[0].targets[i]...`).
 */
export function targetProblems(value: unknown, key = 'targets'): string[] {
  if (!Array.isArray(value)) return [`must be a list of {stream, task} mappings (got ${describeValue(value)})`];
  if (value.length === 0) return ['at least one target is required'];
  return mappingListProblems(value, key, '{stream: orders, task: orders-to-obs}', entryProblems, (entry) =>
    describeSelector(toSelector(entry as TargetEntry)),
  );
}

/** Parses `DIS_TARGETS="orders/orders-to-obs, clicks/*, *"` into target entries, still unvalidated. */
export function parseTargetList(text: string): TargetEntry[] {
  return splitSlashList(text).map(([stream, task]) => (task === undefined ? { stream } : { stream, task }));
}
