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

/**
 * The problems of a list of mappings (`targets`, `apps`), one line each under `key[i]`: an entry that is not a mapping
 * (`like` shows one), an entry's own problems (`check`), and an entry whose `idOf` repeats an earlier one's.
 */
export function mappingListProblems(
  list: readonly unknown[],
  key: string,
  like: string,
  check: (entry: Record<string, unknown>, at: string) => string[],
  idOf: (entry: Record<string, unknown>) => string,
): string[] {
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  list.forEach((entry: unknown, index) => {
    const at = `${key}[${index}]`;
    if (!isMapping(entry)) {
      problems.push(`${at}: must be a mapping like ${like} (got ${describeValue(entry)})`);
      return;
    }
    const found = check(entry, at);
    problems.push(...found);
    if (found.length > 0) return;
    const id = idOf(entry);
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, index);
    else problems.push(`${at}: duplicates ${key}[${first}] (${id})`);
  });
  return problems;
}

/**
 * Splits the environment form of a list (`DIS_TARGETS`, `DIS_APPS`): comma-separated entries, each `first/second` or
 * `first` alone, trimmed, empty entries skipped.
 */
export function splitSlashList(text: string): [first: string, second: string | undefined][] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const slash = entry.indexOf('/');
      if (slash === -1) return [entry, undefined];
      return [entry.slice(0, slash).trim(), entry.slice(slash + 1).trim()];
    });
}
