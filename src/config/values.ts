/** Whether a parsed value is a YAML/JSON mapping (not a list, not null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a problem message shows a value the user wrote: strings quoted, collections by kind only. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Only the kind of a value (`a string`, `a number`, `a list`...), for places where the value may be a secret. */
export function describeKind(value: unknown): string {
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return describeValue(value);
}

/** A DIS stream or dump task name, and a project ID: they become URL path segments. */
export const DIS_NAME = /^[A-Za-z0-9_-]{1,64}$/;
