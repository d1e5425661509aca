import type { ParseResult } from './parse-result.js';

/** A syntax error found at `offset`; caught inside parseStrictJson only. */
class JsonFailure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const LITERALS: readonly (readonly [string, unknown])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const WORD_CHAR = /[\w$.+-]/;

/**
 * Pure: the value of a JSON text (RFC 8259), strictly: strings in double quotes with JSON escapes only, no raw
 * control characters in them, no comments or trailing commas, each key once per object (a duplicate is an error, as
 * in YAML, rather than JSON.parse's silent last-one-wins), nesting at most `maxDepth` deep. A leading byte order
 * mark is skipped. Errors are fixed texts with the offset: JSON.parse's messages quote the text around the error,
 * which may be a secret, and differ between Node versions.
 */
export function parseStrictJson(text: string, maxDepth: number): ParseResult {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (message: string, at = pos): never => {
    throw new JsonFailure(at, message);
  };
  const atEnd = (): boolean => pos >= text.length;
  const endOrElse = (message: string): never => fail(atEnd() ? 'unexpected end of file' : message);

  const skipSpace = (): void => {
    while (!atEnd()) {
      const char = text[pos];
      if (char === ' ' || char === '\t' || char === '\n' || char === '\r') pos++;
      else if (char === '/' && (text[pos + 1] === '/' || text[pos + 1] === '*'))
        fail('comments are not allowed in JSON');
      else return;
    }
  };

  const string = (): string => {
    const start = pos;
    pos++;
    let out = '';
    let chunk = pos;
    for (;;) {
      if (atEnd()) fail('missing closing " of a string', start);
      const code = text.charCodeAt(pos);
      if (code === 0x22) {
        out += text.slice(chunk, pos);
        pos++;
        return out;
      }
      if (code < 0x20) fail('control character (a tab or line break) in a string; write it as \\t, \\n or \\uXXXX');
      if (code === 0x5c) {
        out += text.slice(chunk, pos);
        const escape = text[pos + 1] ?? '';
        const simple = Object.hasOwn(ESCAPES, escape) ? ESCAPES[escape] : undefined;
        const hex = text.slice(pos + 2, pos + 6);
        if (simple !== undefined) {
          out += simple;
          pos += 2;
        } else if (escape === 'u' && HEX4.test(hex)) {
          out += String.fromCharCode(Number.parseInt(hex, 16));
          pos += 6;
        } else {
          fail('invalid escape sequence in a string (JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        }
        chunk = pos;
        continue;
      }
      pos++;
    }
  };

  const number = (): number => {
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    const end = match === null ? pos : pos + match[0].length;
    if (match === null || WORD_CHAR.test(text[end] ?? '')) fail('invalid number');
    pos = end;
    return Number(match![0]);
  };

  const value = (depth: number): unknown => {
    skipSpace();
    const char = text[pos];
    if (char === undefined) return fail('unexpected end of file');
    if (char === '{') return object(depth + 1);
    if (char === '[') return array(depth + 1);
    if (char === '"') return string();
    if (char === '-' || (char >= '0' && char <= '9')) return number();
    for (const [word, literal] of LITERALS) {
      if (text.startsWith(word, pos) && !WORD_CHAR.test(text[pos + word.length] ?? '')) {
        pos += word.length;
        return literal;
      }
    }
    // 'x', x, NaN, yes: all strings in YAML, none in JSON.
    if (char === "'" || /[A-Za-z_$]/.test(char)) return fail('strings must be in double quotes');
    return fail('unexpected character');
  };

  const enter = (depth: number): void => {
    if (depth > maxDepth) fail(`nested deeper than ${maxDepth} levels`);
    pos++;
    skipSpace();
  };

  const object = (depth: number): Record<string, unknown> => {
    enter(depth);
    // Keys go in with defineProperty, as JSON.parse does: "__proto__" stays a key (for load.ts to refuse).
    const result: Record<string, unknown> = {};
    if (text[pos] === '}') {
      pos++;
      return result;
    }
    for (;;) {
      const keyAt = pos;
      if (text[pos] !== '"') {
        endOrElse(text[pos] === '}' ? 'trailing comma before }' : 'object keys must be strings in double quotes');
      }
      const key = string();
      if (Object.hasOwn(result, key)) fail('duplicate key (each key may appear once in an object)', keyAt);
      skipSpace();
      if (text[pos] !== ':') endOrElse('missing : after an object key');
      pos++;
      Object.defineProperty(result, key, { value: value(depth), enumerable: true, writable: true, configurable: true });
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return result;
      }
      if (text[pos] !== ',') endOrElse(text[pos] === '"' ? 'missing , between object items' : 'expected , or }');
      pos++;
      skipSpace();
    }
  };

  const array = (depth: number): unknown[] => {
    enter(depth);
    const result: unknown[] = [];
    if (text[pos] === ']') {
      pos++;
      return result;
    }
    for (;;) {
      if (text[pos] === ']') fail('trailing comma before ]');
      result.push(value(depth));
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return result;
      }
      if (text[pos] !== ',') endOrElse('missing , between array items');
      pos++;
      skipSpace();
    }
  };

  try {
    const result = value(0);
    skipSpace();
    if (!atEnd()) fail('unexpected text after the end of the JSON value');
    return { value: result };
  } catch (error) {
    if (error instanceof JsonFailure) return { error: { offset: error.offset, message: error.message } };
    throw error;
  }
}
