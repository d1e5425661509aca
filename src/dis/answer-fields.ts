import { DisResponseError } from './errors.js';
import { normalizePartitionId } from './partition-id.js';
import type { FieldIssue } from './types.js';

// Reading the fields of a DIS answer: what the parsers of each answer (parse.ts, parse-apps.ts) share. A field that is
// required and broken throws a DisResponseError; an odd optional field is reported through an OnOdd and left out
// (docs/metrics.md ("Odd values in DIS answers")).

/** A JSON object of an answer. */
export type JsonObject = { readonly [key: string]: unknown };

/** Where a reader reports an odd field it leaves out: into a list of issues, or (a strict parser) as a thrown error. */
export type OnOdd = (field: string, problem: string) => void;

/** An OnOdd that fails the answer: the field is not optional. */
export const STRICT: OnOdd = (field, problem) => {
  throw new DisResponseError(field, problem);
};

const DECIMAL_DIGITS = /^[0-9]+$/;
const GOT_STRING_MAX_CHARS = 40;

/** An OnOdd that adds each issue to `issues`. */
export function collectInto(issues: FieldIssue[]): OnOdd {
  return (field, problem) => {
    issues.push(Object.freeze({ field, problem }));
  };
}

/** The issues, frozen; undefined when there are none. */
export function frozenIssues(issues: FieldIssue[]): readonly FieldIssue[] | undefined {
  return issues.length === 0 ? undefined : Object.freeze(issues);
}

/** Whether a value is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object, or a DisResponseError saying what it is instead. */
export function answerObject(body: unknown): JsonObject {
  if (!isJsonObject(body)) throw new DisResponseError('', `body must be an object (got ${describe(body)})`);
  return body;
}

/** A required non-empty string field; a DisResponseError when it is missing or not one. */
export function readRequiredString(object: JsonObject, key: string, path: string): string {
  const value = object[key];
  if (value === undefined || value === null) throw new DisResponseError(path, 'is required');
  if (typeof value !== 'string' || value === '') {
    throw new DisResponseError(path, `must be a non-empty string (got ${describe(value)})`);
  }
  return value;
}

/** An optional string field: undefined when missing or null, and when it is not a string (an issue). */
export function readOptionalString(object: JsonObject, key: string, path: string, onOdd: OnOdd): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  onOdd(path, `must be a string (got ${describe(value)})`);
  return undefined;
}

/**
 * An optional count or offset: a non-negative safe integer, as a JSON number or a string of decimal digits (int64
 * fields arrive as numbers, but the docs show some as strings). Undefined when missing or null, and when odd (an
 * issue), -1 included: DIS's "none".
 */
export function readCount(object: JsonObject, key: string, path: string, onOdd: OnOdd): number | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const count = typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value;
  const problem = countProblem(count, value);
  if (problem !== undefined) {
    onOdd(path, problem);
    return undefined;
  }
  // JSON `-0` parses to -0, which would render as "-0".
  return count === 0 ? 0 : (count as number);
}

function countProblem(count: unknown, value: unknown): string | undefined {
  // DIS writes -1 for "none" (docs/metrics.md ("Odd values in DIS answers")): no value, though not a broken answer
  // either.
  if (count === -1) return `is -1 (DIS's "none")`;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    return `must be a non-negative integer (got ${describe(value)})`;
  }
  // Past 2^53 - 1 the value is already rounded, and a rounded offset would give a wrong lag.
  if (!Number.isSafeInteger(count)) return `must be at most ${Number.MAX_SAFE_INTEGER} (got ${describe(value)})`;
  return undefined;
}

/** A paging flag (`has_more_*`): missing or null means no more pages; anything but a boolean breaks the answer. */
export function readFlag(object: JsonObject, key: string): boolean {
  const value = object[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new DisResponseError(key, `must be a boolean (got ${describe(value)})`);
  return value;
}

/** An optional list field: undefined when missing or null; a DisResponseError when it is not a list. */
export function readOptionalArray(object: JsonObject, key: string): readonly unknown[] | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new DisResponseError(key, `must be an array (got ${describe(value)})`);
  return value;
}

/**
 * An echoed name is checked but never used: series are labelled with the asked names, so two streams answered under
 * one name cannot make duplicate series. A different name is an issue. A `required` one must be there, as a body
 * without it is not this answer; an optional one may be left out.
 */
export function checkEchoedName(body: JsonObject, key: string, asked: string, onOdd: OnOdd, required = true): void {
  const echoed = required ? readRequiredString(body, key, key) : readOptionalString(body, key, key, onOdd);
  if (echoed !== undefined && echoed !== asked) {
    onOdd(key, `is ${describe(echoed)} where ${describe(asked)} was asked for; the series keep ${describe(asked)}`);
  }
}

/** A partition element with a usable id: normalised, and as sent (`sent`, the paging cursor). */
export type IdentifiedPartition = Readonly<{
  element: JsonObject;
  id: string;
  sent: string;
  index: number;
  idPath: string;
}>;

/**
 * The elements of `list` (`partitions`, `partition_consuming_states`) with a usable id, read from the first of `keys`
 * that is present; an element that is not an object or has no usable id is left out, as an issue.
 */
export function identifyPartitions(
  elements: readonly unknown[],
  keys: readonly string[],
  onOdd: OnOdd,
  list = 'partitions',
): IdentifiedPartition[] {
  const identified: IdentifiedPartition[] = [];
  elements.forEach((element: unknown, index) => {
    const path = `${list}[${index}]`;
    if (!isJsonObject(element)) {
      onOdd(path, `must be an object (got ${describe(element)}); it is left out`);
      return;
    }
    const key = keys.find((candidate) => element[candidate] !== undefined && element[candidate] !== null);
    if (key === undefined) {
      onOdd(`${path}.${keys[0]}`, 'is required; the partition is left out');
      return;
    }
    const value = element[key];
    const idPath = `${path}.${key}`;
    const id = normalizePartitionId(value);
    if (id === undefined) {
      const problem = `must be a non-empty string or a non-negative integer (got ${describe(value)})`;
      onOdd(idPath, `${problem}; the partition is left out`);
      return;
    }
    identified.push({ element, id, sent: String(value), index, idPath });
  });
  return identified;
}

/** The partitions whose id no other element has: which of two elements with one id is right cannot be told. */
export function unique(
  identified: readonly IdentifiedPartition[],
  onOdd: OnOdd,
  list = 'partitions',
): IdentifiedPartition[] {
  const firstIndexById = new Map<string, number>();
  const repeated = new Set<string>();
  for (const { id, index, idPath } of identified) {
    const first = firstIndexById.get(id);
    if (first === undefined) {
      firstIndexById.set(id, index);
    } else {
      repeated.add(id);
      onOdd(idPath, `repeats ${describe(id)} (first at ${list}[${first}]); every partition with it is left out`);
    }
  }
  return identified.filter(({ id }) => !repeated.has(id));
}

/** The path of a partition's fields in issues: by its id, which (unlike its index) stays put from poll to poll. */
export function partitionPath(id: string, list = 'partitions'): string {
  return `${list}[${truncate(id, GOT_STRING_MAX_CHARS)}]`;
}

/** A string as error messages quote it: JSON-quoted, cut to its first 40 characters. */
export function quoteForError(text: string): string {
  return JSON.stringify(truncate(text, GOT_STRING_MAX_CHARS));
}

/** A value as issues and error messages show it: strings quoted and cut, collections by kind only. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return quoteForError(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** The first `maxChars` characters of a text and `…`, or the text when it is short enough. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Cutting between the halves of a surrogate pair would leave a lone half that JSON.stringify escapes.
  const head = text.slice(0, maxChars).replace(/[\uD800-\uDBFF]$/, '');
  return `${head}…`;
}

/** The record without its undefined fields, so deep equality and JSON output do not depend on `key: undefined`. */
export function withoutUndefined<T extends object>(record: T): T {
  // A plain loop, not entries/filter/fromEntries: this runs for every partition of every poll.
  const defined: Record<string, unknown> = {};
  for (const key in record) {
    const value = record[key];
    if (value !== undefined) defined[key] = value;
  }
  return defined as T;
}
