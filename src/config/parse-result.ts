/** What a config text parser gives: the value, or its first syntax error. */
export type ParseResult = Readonly<{ value: unknown } | { error: SyntaxProblem }>;

/**
 * A syntax error: where (an offset into the text; absent when it has no place) and what, in a fixed text chosen by
 * the parser's code, never the parser's own words, which can quote the text (a secret).
 */
export type SyntaxProblem = Readonly<{ offset?: number; message: string }>;

/**
 * How deep `{...}` and `[...]` may nest. A config nests a few levels; a file of a million "[" would cost the
 * YAML parser seconds and a gigabyte (and the JSON parser its stack) before it failed.
 */
export const MAX_NESTING_DEPTH = 100;

/** The 1-based line and column of an offset into a text, lines ending at "\n". */
export function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, col: offset - lineStart + 1 };
}
