import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import got from 'got';
import { JSON_LIMITS, jsonLimitProblem } from '../../src/dis/bounded-json.js';
import { parseErrorBody, parseJsonBody } from '../../src/dis/parse.js';
import { parseScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import { responseErrorOf } from '../helpers/errors.js';
import { PROJECT_ID, SCENARIO } from '../helpers/exporter.js';

/** What JSON.parse built of `text`, counted as the scanner counts: values (keys aside) and levels of nesting. */
function referenceCounts(text: string): { values: number; depth: number } {
  const walk = (value: unknown, level: number): { values: number; depth: number } => {
    if (typeof value !== 'object' || value === null) return { values: 1, depth: level - 1 };
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    return children.reduce<{ values: number; depth: number }>(
      (total, child) => {
        const counted = walk(child, level + 1);
        return { values: total.values + counted.values, depth: Math.max(total.depth, counted.depth) };
      },
      { values: 1, depth: level },
    );
  };
  return walk(JSON.parse(text), 1);
}

/** `text` passes limits of exactly its counts, and fails one value or one level fewer with the exact problem. */
function expectExactCounts(text: string, values: number, depth: number): void {
  expect(jsonLimitProblem(text, { maxDepth: depth, maxValues: values }), 'at its counts').to.equal(undefined);
  expect(jsonLimitProblem(text, { maxDepth: depth, maxValues: values - 1 })).to.equal(
    `has more than ${values - 1} values`,
  );
  if (depth > 0) {
    expect(jsonLimitProblem(text, { maxDepth: depth - 1, maxValues: values })).to.equal(
      `nests deeper than ${depth - 1} levels`,
    );
  }
}

describe('jsonLimitProblem: nesting depth and number of values before JSON.parse', () => {
  const counted: ReadonlyArray<[string, string, number, number]> = [
    ['a number', '42', 1, 0],
    ['a string', '"x"', 1, 0],
    ['literals in an array', '[true,false,null]', 4, 1],
    ['an empty object', '{}', 1, 1],
    ['an object, whose keys do not count', '{"a":1,"b":"2","c":null}', 4, 1],
    ['nested objects and arrays', '{"a":{"b":[1,[2,{}]]}}', 7, 5],
    ['brackets, quotes and backslashes inside strings', String.raw`["[[[{{{", "\"]]]", "\\", "}}}\\\"[["]`, 5, 1],
    ['keys with brackets and escaped quotes', String.raw`{"[{":"}]","a\"[":[],"\\":{}}`, 4, 2],
    ['unicode escapes of brackets and quotes', String.raw`["\u005b\u007b", "\u0022", "\u005C"]`, 4, 1],
    ['numbers of every form', '[-0, 1.5e+10, -2E-3, 12345678901234567890]', 5, 1],
    ['whitespace everywhere', ' \n\t{ "a" : [ 1 , 2 ] ,\r\n"b" : { } }\r\n', 5, 2],
  ];
  for (const [name, text, values, depth] of counted) {
    it(`counts ${name}: ${values} values, ${depth} levels`, () => {
      expect(referenceCounts(text)).to.deep.equal({ values, depth });
      expectExactCounts(text, values, depth);
    });
  }

  it('passes 64 levels and refuses 65 with "nests deeper than 64 levels"', () => {
    const arrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const mixed = (levels: number) => `${'{"a":['.repeat(levels / 2)}${']}'.repeat(levels / 2)}`;
    expect(jsonLimitProblem(arrays(64))).to.equal(undefined);
    expect(jsonLimitProblem(arrays(65))).to.equal('nests deeper than 64 levels');
    expect(jsonLimitProblem(mixed(64))).to.equal(undefined);
    expect(jsonLimitProblem(`[${mixed(64)}]`)).to.equal('nests deeper than 64 levels');
    // A quarter of a million brackets inside a string are text, not nesting.
    expect(jsonLimitProblem(`["${'['.repeat(250_000)}"]`)).to.equal(undefined);
  });

  it('passes 100000 values and refuses 100001 with "has more than 100000 values"', () => {
    const zeros = (count: number) => `[${'0,'.repeat(count - 2)}0]`;
    const members = (count: number) => `{${Array.from({ length: count - 1 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(jsonLimitProblem(zeros(100_000))).to.equal(undefined);
    expect(jsonLimitProblem(zeros(100_001))).to.equal('has more than 100000 values');
    expect(jsonLimitProblem(members(100_000))).to.equal(undefined);
    expect(jsonLimitProblem(members(100_001))).to.equal('has more than 100000 values');
    expect(jsonLimitProblem(`[${'{},'.repeat(99_998)}{}]`)).to.equal(undefined);
    expect(jsonLimitProblem(`[${'{},'.repeat(99_999)}{}]`)).to.equal('has more than 100000 values');
  });

  it('counts exactly what JSON.parse builds, for any JSON value, compact or indented (property)', () => {
    const text = fc.tuple(fc.jsonValue(), fc.constantFrom(undefined, 2, '\t')).map(([value, indent]) => {
      return JSON.stringify(value, null, indent);
    });
    fc.assert(
      fc.property(text, (json) => {
        const { values, depth } = referenceCounts(json);
        expectExactCounts(json, values, depth);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('never throws on text that is not JSON, and says nothing but its two problems (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', '0', 'a', ' ') }),
    );
    fc.assert(
      fc.property(text, (body) => {
        const problem = jsonLimitProblem(body, { maxDepth: 3, maxValues: 5 });
        expect([undefined, 'nests deeper than 3 levels', 'has more than 5 values']).to.include(problem);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('passes every wire fixture', () => {
    const dir = new URL('../fixtures/dis/', import.meta.url);
    const names = readdirSync(dir).filter((name) => name.endsWith('.json'));
    expect(names).to.have.length.above(10);
    for (const name of names) {
      expect([name, jsonLimitProblem(readFileSync(new URL(name, dir), 'utf8'))]).to.deep.equal([name, undefined]);
    }
  });

  it('leaves a margin of 16 times over the largest real answers: 1,000 partitions of stream details and a dump task', async () => {
    const partitions = Array.from({ length: 1000 }, () => ({ initialRecords: 123_456_789, recordsPerSecond: 10 }));
    const [orders] = SCENARIO.streams;
    const scenario = parseScenario({ ...SCENARIO, streams: [{ ...orders!, partitions }] }, 'scenario');
    const dis = await startFakeDis({ scenario, credentials: [] });
    try {
      const base = `${dis.url}/v2/${PROJECT_ID}/streams/orders`;
      const streamPage = (await got(`${base}?limit_partitions=1000`)).body;
      const taskDetails = (await got(`${base}/transfer-tasks/orders-to-obs`)).body;
      expect(referenceCounts(streamPage)).to.deep.equal({ values: 5016, depth: 3 });
      expect(referenceCounts(taskDetails)).to.deep.equal({ values: 6013, depth: 3 });
      expectExactCounts(streamPage, 5016, 3);
      expectExactCounts(taskDetails, 6013, 3);
      expect(JSON_LIMITS.maxValues).to.be.at.least(16 * 6013);
      expect(JSON_LIMITS.maxDepth).to.be.at.least(16 * 3);
    } finally {
      await dis.close();
    }
  });
});

describe('parseJsonBody and parseErrorBody over the JSON limits', () => {
  it('refuse a body over the limits with a DisResponseError that quotes none of it', () => {
    const deep = `${'['.repeat(65)}"hunter2"${']'.repeat(65)}`;
    const many = `["hunter2",${'0,'.repeat(99_999)}0]`;
    for (const [text, problem] of [
      [deep, 'body nests deeper than 64 levels'],
      [many, 'body has more than 100000 values'],
    ] as const) {
      const error = responseErrorOf(() => parseJsonBody(text));
      expect([error.field, error.message, error.reason]).to.deep.equal(['', problem, 'bad_response']);
    }
  });

  it('read an error body over the limits as no body, and one at the limits as usual', () => {
    const around = (levels: number) =>
      `{"errorCode":"DIS.4301","message":"Stream does not exist.","detail":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    expect(parseErrorBody(around(63))).to.deep.equal({ apiCode: 'DIS.4301', apiMessage: 'Stream does not exist.' });
    expect(parseErrorBody(around(64))).to.deep.equal({});
    expect(parseErrorBody(`{"errorCode":"DIS.5000","detail":[${'0,'.repeat(99_998)}0]}`)).to.deep.equal({});
  });
});
