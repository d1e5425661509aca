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
  const reader = new StrictJsonReader(text, maxDepth);
  try {
    const result = reader.value(0);
    reader.skipSpace();
    if (!reader.atEnd()) reader.fail('unexpected text after the end of the JSON value');
    return { value: result };
  } catch (error) {
    if (error instanceof JsonFailure) return { error: { offset: error.offset, message: error.message } };
    throw error;
  }
}

/** A recursive-descent reader of one JSON text; each method reads from `pos` on and throws JsonFailure. */
class StrictJsonReader {
  readonly #text: string;
  readonly #maxDepth: number;
  #pos: number;

  constructor(text: string, maxDepth: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
    this.#pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  fail(message: string, at = this.#pos): never {
    throw new JsonFailure(at, message);
  }

  atEnd(): boolean {
    return this.#pos >= this.#text.length;
  }

  skipSpace(): void {
    const text = this.#text;
    while (!this.atEnd()) {
      const char = text[this.#pos];
      if (char === ' ' || char === '\t' || char === '\n' || char === '\r') this.#pos++;
      else if (char === '/' && (text[this.#pos + 1] === '/' || text[this.#pos + 1] === '*'))
        this.fail('comments are not allowed in JSON');
      else return;
    }
  }

  value(depth: number): unknown {
    this.skipSpace();
    const text = this.#text;
    const char = text[this.#pos];
    if (char === undefined) return this.fail('unexpected end of file');
    if (char === '{') return this.#object(depth + 1);
    if (char === '[') return this.#array(depth + 1);
    if (char === '"') return this.#string();
    if (char === '-' || (char >= '0' && char <= '9')) return this.#number();
    for (const [word, literal] of LITERALS) {
      if (text.startsWith(word, this.#pos) && !WORD_CHAR.test(text[this.#pos + word.length] ?? '')) {
        this.#pos += word.length;
        return literal;
      }
    }
    // 'x', x, NaN, yes: all strings in YAML, none in JSON.
    if (char === "'" || /[A-Za-z_$]/.test(char)) return this.fail('strings must be in double quotes');
    return this.fail('unexpected character');
  }

  #endOrElse(message: string): never {
    return this.fail(this.atEnd() ? 'unexpected end of file' : message);
  }

  #string(): string {
    const text = this.#text;
    const start = this.#pos;
    this.#pos++;
    let out = '';
    let chunk = this.#pos;
    for (;;) {
      if (this.atEnd()) this.fail('missing closing " of a string', start);
      const code = text.charCodeAt(this.#pos);
      if (code === 0x22) {
        out += text.slice(chunk, this.#pos);
        this.#pos++;
        return out;
      }
      if (code < 0x20) {
        this.fail('control character (a tab or line break) in a string; write it as \\t, \\n or \\uXXXX');
      }
      if (code === 0x5c) {
        out += text.slice(chunk, this.#pos);
        out += this.#escape();
        chunk = this.#pos;
        continue;
      }
      this.#pos++;
    }
  }

  /** The character an escape sequence at `pos` stands for; moves past it. */
  #escape(): string {
    const text = this.#text;
    const escape = text[this.#pos + 1] ?? '';
    const simple = Object.hasOwn(ESCAPES, escape) ? ESCAPES[escape] : undefined;
    const hex = text.slice(this.#pos + 2, this.#pos + 6);
    if (simple !== undefined) {
      this.#pos += 2;
      return simple;
    }
    if (escape === 'u' && HEX4.test(hex)) {
      this.#pos += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    return this.fail('invalid escape sequence in a string (JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
  }

  #number(): number {
    const text = this.#text;
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(text);
    const end = match === null ? this.#pos : this.#pos + match[0].length;
    if (match === null || WORD_CHAR.test(text[end] ?? '')) this.fail('invalid number');
    this.#pos = end;
    return Number(match![0]);
  }

  #enter(depth: number): void {
    if (depth > this.#maxDepth) this.fail(`nested deeper than ${this.#maxDepth} levels`);
    this.#pos++;
    this.skipSpace();
  }

  #object(depth: number): Record<string, unknown> {
    const text = this.#text;
    this.#enter(depth);
    // Keys go in with defineProperty, as JSON.parse does: "__proto__" stays a key (for load.ts to refuse).
    const result: Record<string, unknown> = {};
    if (text[this.#pos] === '}') {
      this.#pos++;
      return result;
    }
    for (;;) {
      const keyAt = this.#pos;
      if (text[this.#pos] !== '"') {
        this.#endOrElse(
          text[this.#pos] === '}' ? 'trailing comma before }' : 'object keys must be strings in double quotes',
        );
      }
      const key = this.#string();
      if (Object.hasOwn(result, key)) this.fail('duplicate key (each key may appear once in an object)', keyAt);
      this.skipSpace();
      if (text[this.#pos] !== ':') this.#endOrElse('missing : after an object key');
      this.#pos++;
      const item = this.value(depth);
      Object.defineProperty(result, key, { value: item, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      if (text[this.#pos] === '}') {
        this.#pos++;
        return result;
      }
      if (text[this.#pos] !== ',') {
        this.#endOrElse(text[this.#pos] === '"' ? 'missing , between object items' : 'expected , or }');
      }
      this.#pos++;
      this.skipSpace();
    }
  }

  #array(depth: number): unknown[] {
    const text = this.#text;
    this.#enter(depth);
    const result: unknown[] = [];
    if (text[this.#pos] === ']') {
      this.#pos++;
      return result;
    }
    for (;;) {
      if (text[this.#pos] === ']') this.fail('trailing comma before ]');
      result.push(this.value(depth));
      this.skipSpace();
      if (text[this.#pos] === ']') {
        this.#pos++;
        return result;
      }
      if (text[this.#pos] !== ',') this.#endOrElse('missing , between array items');
      this.#pos++;
      this.skipSpace();
    }
  }
}
