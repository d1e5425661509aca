/**
 * Response bodies under the 8 MiB body cap that JSON.parse would build into hundreds of MB (docs/operations.md ("How
 * the exporter behaves when DIS fails"), "Bad bodies"), for the tests that check the exporter refuses them before
 * parsing.
 */

/** The body cap of the DIS client: DEFAULT_MAX_BODY_BYTES. */
export const BODY_CAP_BYTES = 8 * 1024 * 1024;

/** `[[[…]]]` as deep as `bytes` allows: millions of nested arrays. */
export function deepNesting(bytes: number = BODY_CAP_BYTES): string {
  const depth = Math.floor(bytes / 2);
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** `[{},{},…]` as long as `bytes` allows (some 2.8 million objects in 8 MiB). */
export function emptyObjects(bytes: number = BODY_CAP_BYTES): string {
  const count = Math.floor((bytes - 2) / 3);
  return `[${'{},'.repeat(count - 1)}{}]`;
}

/**
 * An error body with these fields and one more, `detail`, holding the bomb: what the fields say is readable only to a
 * parser that builds the bomb too. The whole stays within `bytes`.
 */
export function errorBodyAround(
  fields: Readonly<Record<string, unknown>>,
  bomb: (bytes: number) => string,
  bytes: number = BODY_CAP_BYTES,
): string {
  const head = `${JSON.stringify(fields).slice(0, -1)},"detail":`;
  return `${head}${bomb(bytes - head.length - 1)}}`;
}
