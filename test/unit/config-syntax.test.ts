import { expect } from 'chai';
import fc from 'fast-check';
import { parseStrictJson } from '../../src/config/parse-json.js';
import { lineAndColumn } from '../../src/config/parse-result.js';
import { parseStrictYaml } from '../../src/config/parse-yaml.js';

// The strict JSON and YAML parsers behind config and web config files (src/config/parse-*.ts). Whole-file cases
// with their exact error lines are fixtures in test/fixtures/config; these cover the parsers themselves.

const SEED = process.env.PROPERTY_SEED === undefined ? 42 : Number(process.env.PROPERTY_SEED);
const options = { seed: SEED, numRuns: 1000 };

/** `line:col message` of a failed parse, or `value <json>`. */
function outcome(text: string, parse: typeof parseStrictJson): string {
  const result = parse(text, 4);
  if ('value' in result) return `value ${JSON.stringify(result.value)}`;
  const { offset, message } = result.error;
  if (offset === undefined) return message;
  const { line, col } = lineAndColumn(text, offset);
  return `${line}:${col} ${message}`;
}

describe('parseStrictJson', () => {
  it('gives what JSON.parse gives for any JSON text (no duplicate keys), however it is indented', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const result = parseStrictJson(text, 10);
        expect(result).to.deep.equal({ value: JSON.parse(text) });
      }),
      options,
    );
  });

  it('accepts nothing JSON.parse refuses, and agrees with it on what both accept', () => {
    const jsonish = fc.stringMatching(/^[\s{}[\]",:0-9a-z.+\-\\'/*]{0,24}$/);
    fc.assert(
      fc.property(jsonish, (text) => {
        const result = parseStrictJson(text, 10);
        if ('value' in result) expect(result.value).to.deep.equal(JSON.parse(text));
      }),
      options,
    );
  });

  const cases: ReadonlyArray<[string, string]> = [
    ['{"a": 1, "b": [true, false, null, -0.5e+2, "\\u0041\\t\\/"]}', 'value {"a":1,"b":[true,false,null,-50,"A\\t/"]}'],
    ['\ufeff{"bom": "skipped"}', 'value {"bom":"skipped"}'],
    ['', '1:1 unexpected end of file'],
    ['{"a": 1}\n\n  x', '3:3 unexpected text after the end of the JSON value'],
    ['{"a": [1, 2}', '1:12 missing , between array items'],
    ['{"a": 1 x}', '1:9 expected , or }'],
    ['{"a": yes}', '1:7 strings must be in double quotes'],
    ['{"a": NaN}', '1:7 strings must be in double quotes'],
    ['{a: 1}', '1:2 object keys must be strings in double quotes'],
    ['{"a": +1}', '1:7 unexpected character'],
    ['{"a": 1e}', '1:7 invalid number'],
    ['{"a": 0x41}', '1:7 invalid number'],
    ['{"a": "\\u12G4"}', '1:8 invalid escape sequence in a string (JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'],
    [
      '{"a": "line\nbreak"}',
      '1:12 control character (a tab or line break) in a string; write it as \\t, \\n or \\uXXXX',
    ],
    ['{"a": "open', '1:7 missing closing " of a string'],
    ['{"a": 1 /* no */}', '1:9 comments are not allowed in JSON'],
    ['[[[[1]]]]', 'value [[[[1]]]]'],
    ['[[[[[1]]]]]', '1:5 nested deeper than 4 levels'],
    ['{"a": {"a": 1}, "a": 2}', '1:17 duplicate key (each key may appear once in an object)'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected}`, () => expect(outcome(text, parseStrictJson)).to.equal(expected));
  }

  it('keeps "__proto__" as a key, as JSON.parse does, without touching the prototype', () => {
    const result = parseStrictJson('{"__proto__": {"polluted": true}}', 4);
    if (!('value' in result)) return expect.fail(result.error.message);
    const value = result.value as Record<string, unknown>;
    expect(Object.keys(value)).to.deep.equal(['__proto__']);
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });
});

describe('parseStrictYaml', () => {
  const cases: ReadonlyArray<[string, string]> = [
    ['a: &x {b: 1}\nc: *x\n', 'value {"a":{"b":1},"c":{"b":1}}'],
    ['a: !!str 5\nb: !!int "6"\n', 'value {"a":"5","b":6}'],
    ['%YAML 1.1\n---\na: yes\n', 'value {"a":"yes"}'],
    [
      'a: !secret x\n',
      '1:4 unknown tag, or a tag that does not fit its value (only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)',
    ],
    [
      'a: !!set {b}\n',
      '1:4 unknown tag, or a tag that does not fit its value (only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)',
    ],
    ['%FOO bar\n---\na: 1\n', '1:1 unknown or invalid directive (a line starting with %)'],
    ['a: *nowhere\n', '1:4 an alias (*name) with no anchor (&name) before it'],
    ['a: &x [1, *x]\n', '1:11 an alias (*name) inside the value it names (a cycle)'],
    ['{[k]: 1}\n', '1:2 mapping keys must be strings'],
    ['a: "x\\qy"\n', '1:6 invalid escape sequence in a double-quoted string'],
    ['a: [1, 2\n', '2:1 flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a: b: c\n', '1:4 nested mappings are not allowed in compact mappings'],
    ['a: 1\na: 2\n', '2:1 map keys must be unique'],
    ['a: [[[[1]]]]\n', 'value {"a":[[[[1]]]]}'],
    ['a: "[[[[[" # [[[[[\nb: [[[[[1]]]]]\n', '2:8 nested deeper than 4 levels'],
    [
      `a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [${'*b, '.repeat(10)}*b]\n`,
      'aliases expand to more than 100 values',
    ],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected}`, () => expect(outcome(text, parseStrictYaml)).to.equal(expected));
  }

  it('nests a million "[" in a fraction of a second (the parser alone took seconds and a gigabyte)', () => {
    const text = `a: ${'['.repeat(1_000_000)}`;
    const started = process.hrtime.bigint();
    expect(outcome(text, parseStrictYaml)).to.equal('1:8 nested deeper than 4 levels');
    // Generous: it stops at the fifth "[".
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.lessThan(1000);
  });
});

describe('lineAndColumn', () => {
  it('counts lines by "\\n" and columns from 1', () => {
    const text = 'ab\r\ncd\n\nef';
    expect([0, 1, 4, 5, 7, 8, 9].map((offset) => lineAndColumn(text, offset))).to.deep.equal([
      { line: 1, col: 1 },
      { line: 1, col: 2 },
      { line: 2, col: 1 },
      { line: 2, col: 2 },
      { line: 3, col: 1 },
      { line: 4, col: 1 },
      { line: 4, col: 2 },
    ]);
  });
});
