import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  parseDumpTaskList,
  parseJsonBody,
  parseSequenceRange,
  parseStreamDetailsPage,
  parseStreamNamesPage,
  type StreamDetailsPage,
  type StreamNamesPage,
} from '../../src/dis/parse.js';
import type { DumpTaskSummary } from '../../src/dis/types.js';
import { responseErrorOf } from '../helpers/errors.js';

function fixture(name: string): unknown {
  return parseJsonBody(readFileSync(new URL(`../fixtures/dis/${name}`, import.meta.url), 'utf8'));
}

type BadCase = Readonly<{ body: unknown; field: string; message: string }>;

function rejects(parse: (body: unknown) => unknown, cases: readonly BadCase[]): void {
  for (const { body, field, message } of cases) {
    it(message, () => {
      const error = responseErrorOf(() => parse(body));
      expect(error.message).to.equal(message);
      expect(error.field).to.equal(field);
      expect(error).to.include({ name: 'DisResponseError', code: 'ERR_DIS_RESPONSE', reason: 'bad_response' });
    });
  }
}

describe('parseSequenceRange', () => {
  const ranges: ReadonlyArray<[string, unknown, { start: number; end: number } | undefined]> = [
    ['the doc example', '[289911 : 289927]', { start: 289911, end: 289927 }],
    ['a fresh empty partition', '[0 : 0]', { start: 0, end: 0 }],
    ['extra spaces inside', '[  12   :34 ]', { start: 12, end: 34 }],
    ['no spaces', '[12:34]', { start: 12, end: 34 }],
    ['tabs', '[\t12\t:\t34\t]', { start: 12, end: 34 }],
    ['spaces around the brackets', '  [12 : 34]  ', { start: 12, end: 34 }],
    ['leading zeros', '[007 : 010]', { start: 7, end: 10 }],
    ['the largest safe integer', '[9007199254740991 : 9007199254740991]', { start: 2 ** 53 - 1, end: 2 ** 53 - 1 }],
    ['a bound past 2^53 - 1', '[0 : 9007199254740992]', undefined],
    ['null (an expired partition)', null, undefined],
    ['a missing value', undefined, undefined],
    ['a number', 42, undefined],
    ['an object', { start: 1, end: 2 }, undefined],
    ['an array', [1, 2], undefined],
    ['an empty string', '', undefined],
    ['no brackets', '12 : 34', undefined],
    ['no closing bracket', '[12 : 34', undefined],
    ['no opening bracket', '12 : 34]', undefined],
    ['"[null : null]"', '[null : null]', undefined],
    ['"[5 : null]"', '[5 : null]', undefined],
    ['"[null : 5]"', '[null : 5]', undefined],
    ['letters', '[a : b]', undefined],
    ['a negative start', '[-1 : 5]', undefined],
    ['a fraction', '[1.5 : 2]', undefined],
    ['an exponent', '[1e3 : 2e3]', undefined],
    ['hex', '[0x10 : 0x20]', undefined],
    ['a missing start', '[ : 5]', undefined],
    ['three parts', '[1 : 2 : 3]', undefined],
    ['a comma instead of a colon', '[1, 2]', undefined],
    ['a start after the end', '[9 : 3]', undefined],
  ];
  for (const [name, value, expected] of ranges) {
    it(`reads ${name} as ${JSON.stringify(expected)}`, () => {
      expect(parseSequenceRange(value)).to.deep.equal(expected);
    });
  }
});

/** Parses a page as if the exporter had asked for `stream`, by default the stream it echoes (else `asked`). */
function parsePage(body: unknown, stream?: string): StreamDetailsPage {
  const echoed =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['stream_name'] : undefined;
  return parseStreamDetailsPage(body, { stream: stream ?? (typeof echoed === 'string' ? echoed : 'asked') });
}

describe('parseStreamDetailsPage', () => {
  const cases: ReadonlyArray<{ name: string; body: unknown; stream?: string; expected: StreamDetailsPage }> = [
    {
      name: 'the doc example (stream-details-doc-example.json)',
      body: fixture('stream-details-doc-example.json'),
      expected: {
        facts: {
          streamId: '8QM3Nt9YTLOwtUVYJhO',
          status: 'RUNNING',
          streamType: 'COMMON',
          dataType: 'BLOB',
          retentionHours: 24,
          writablePartitions: 1,
          readablePartitions: 1,
        },
        partitions: [{ partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 289911, endOffset: 289927 }],
        hasMore: false,
        cursor: 'shardId-0000000000',
      },
    },
    {
      name: 'the SDK sample of fresh partitions (stream-details-sdk-empty-partitions.json)',
      body: fixture('stream-details-sdk-empty-partitions.json'),
      expected: {
        facts: { status: 'RUNNING', streamType: 'ADVANCED', retentionHours: 24 },
        partitions: [
          { partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 0, endOffset: 0 },
          { partitionId: 'shardId-0000000001', status: 'ACTIVE', startOffset: 0, endOffset: 0 },
        ],
        hasMore: false,
        cursor: 'shardId-0000000001',
      },
    },
    {
      name: 'odd ranges and id spellings (stream-details-odd-ranges.json)',
      body: fixture('stream-details-odd-ranges.json'),
      expected: {
        facts: {},
        partitions: [
          { partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 12, endOffset: 34 },
          { partitionId: 'shardId-0000000001', status: 'EXPIRED' },
          { partitionId: 'shardId-0000000002', status: 'ACTIVE' },
          { partitionId: 'shardId-0000000003', status: 'DELETED' },
          { partitionId: 'shardId-0000000004', status: 'ACTIVE' },
          { partitionId: 'shardId-0000000005', status: 'ACTIVE' },
          { partitionId: 'shardId-0000000006', status: 'ACTIVE' },
          { partitionId: 'shardId-0000000007', status: 'CREATING' },
          { partitionId: 'shardId-0000000008', status: 'ACTIVE' },
          { partitionId: 'shardId-0000000009', startOffset: 0, endOffset: 0 },
          { partitionId: 'shardId-0000000010', startOffset: 7, endOffset: 8 },
          { partitionId: 'shardId-0000000011' },
        ],
        hasMore: false,
        cursor: 'shardId-0000000011',
        // null, no brackets and `null` inside are DIS's "unknown" (no issue); the rest is odd
        fieldIssues: [
          {
            field: 'partitions[shardId-0000000005].sequence_number_range',
            problem: 'must be "[start : end]" with safe integers 0 <= start <= end (got "[a : b]")',
          },
          {
            field: 'partitions[shardId-0000000006].sequence_number_range',
            problem: 'must be "[start : end]" with safe integers 0 <= start <= end (got "[9 : 3]")',
          },
          {
            field: 'partitions[shardId-0000000008].sequence_number_range',
            problem: 'must be "[start : end]" with safe integers 0 <= start <= end (got 42)',
          },
        ],
      },
    },
    {
      // Regression: a page of another stream_name labelled its series with that name.
      name: 'an answer for another stream name (stream-details-another-stream-name.json)',
      body: fixture('stream-details-another-stream-name.json'),
      stream: 'orders',
      expected: {
        facts: { streamId: 'RdMFID6edQdf8eDzc9e', status: 'RUNNING' },
        partitions: [{ partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 289911, endOffset: 289927 }],
        hasMore: false,
        cursor: 'shardId-0000000000',
        fieldIssues: [
          { field: 'stream_name', problem: 'is "dis-orders" where "orders" was asked for; the series keep "orders"' },
        ],
      },
    },
    {
      // Regression: a numeric id did not join the dump task's `shardId-` one; the cursor stays as sent.
      name: 'numeric partition ids (stream-details-numeric-partition-ids.json)',
      body: fixture('stream-details-numeric-partition-ids.json'),
      expected: {
        facts: {},
        partitions: [
          { partitionId: 'shardId-0000000000', status: 'ACTIVE', startOffset: 0, endOffset: 10 },
          { partitionId: 'shardId-0000000001', status: 'ACTIVE', startOffset: 0, endOffset: 11 },
          { partitionId: 'shardId-0000000002', status: 'ACTIVE', startOffset: 0, endOffset: 12 },
        ],
        hasMore: false,
        cursor: 'shardId-0000000002',
      },
    },
    {
      name: 'a middle page',
      body: {
        stream_name: 's',
        partitions: [{ partition_id: 'p1', sequence_number_range: '[1 : 2]' }],
        has_more_partitions: true,
      },
      expected: {
        facts: {},
        partitions: [{ partitionId: 'p1', startOffset: 1, endOffset: 2 }],
        hasMore: true,
        cursor: 'p1',
      },
    },
    {
      name: 'a page whose last id is numeric: the cursor is its decimal text',
      body: { stream_name: 's', partitions: [{ partition_id: 7 }], has_more_partitions: true },
      expected: { facts: {}, partitions: [{ partitionId: 'shardId-0000000007' }], hasMore: true, cursor: '7' },
    },
    {
      name: "the stream's own fields as numbers or strings of digits, each odd one left out with an issue",
      body: {
        stream_name: 's',
        stream_id: 42,
        status: 'FROZEN',
        stream_type: 'ADVANCED',
        data_type: null,
        retention_period: '168',
        writable_partition_count: -1,
        readable_partition_count: 2.5,
      },
      expected: {
        facts: { status: 'FROZEN', streamType: 'ADVANCED', retentionHours: 168 },
        partitions: [],
        hasMore: false,
        fieldIssues: [
          { field: 'stream_id', problem: 'must be a string (got 42)' },
          { field: 'writable_partition_count', problem: `is -1 (DIS's "none")` },
          { field: 'readable_partition_count', problem: 'must be a non-negative integer (got 2.5)' },
        ],
      },
    },
    {
      name: 'no partitions and no has_more_partitions',
      body: { stream_name: 's' },
      expected: { facts: {}, partitions: [], hasMore: false },
    },
    {
      name: 'null partitions and null has_more_partitions',
      body: { stream_name: 's', partitions: null, has_more_partitions: null },
      expected: { facts: {}, partitions: [], hasMore: false },
    },
  ];
  for (const { name, body, stream, expected } of cases) {
    it(`parses ${name}`, () => {
      expect(parsePage(body, stream)).to.deep.equal(expected);
    });
  }

  it('freezes the page, its partitions array, each partition and each issue', () => {
    const page = parsePage(fixture('stream-details-doc-example.json'));
    expect(Object.isFrozen(page)).to.equal(true);
    expect(Object.isFrozen(page.partitions)).to.equal(true);
    expect(Object.isFrozen(page.partitions[0])).to.equal(true);
    expect(Object.isFrozen(parsePage({ stream_name: 's' }).partitions)).to.equal(true);
    const { fieldIssues } = parsePage(fixture('stream-details-odd-ranges.json'));
    expect(Object.isFrozen(fieldIssues)).to.equal(true);
    expect(fieldIssues?.every((issue) => Object.isFrozen(issue))).to.equal(true);
  });

  describe('partitions without a usable id: each is left out, the rest is read', () => {
    const kept = { partition_id: 'p9', sequence_number_range: '[1 : 2]' };
    const cases: ReadonlyArray<{ partitions: unknown[]; expected: StreamDetailsPage }> = [
      {
        partitions: ['shardId-0000000000', kept],
        expected: {
          facts: {},
          partitions: [{ partitionId: 'p9', startOffset: 1, endOffset: 2 }],
          hasMore: false,
          cursor: 'p9',
          fieldIssues: [
            { field: 'partitions[0]', problem: 'must be an object (got "shardId-0000000000"); it is left out' },
          ],
        },
      },
      {
        partitions: [kept, { status: 'ACTIVE' }],
        expected: {
          facts: {},
          partitions: [{ partitionId: 'p9', startOffset: 1, endOffset: 2 }],
          hasMore: false,
          cursor: 'p9',
          fieldIssues: [{ field: 'partitions[1].partition_id', problem: 'is required; the partition is left out' }],
        },
      },
      {
        partitions: [{ partition_id: '' }, { partition_id: 1.5 }, { partitionId: -1 }, kept],
        expected: {
          facts: {},
          partitions: [{ partitionId: 'p9', startOffset: 1, endOffset: 2 }],
          hasMore: false,
          cursor: 'p9',
          fieldIssues: [
            {
              field: 'partitions[0].partition_id',
              problem: 'must be a non-empty string or a non-negative integer (got ""); the partition is left out',
            },
            {
              field: 'partitions[1].partition_id',
              problem: 'must be a non-empty string or a non-negative integer (got 1.5); the partition is left out',
            },
            {
              field: 'partitions[2].partitionId',
              problem: 'must be a non-empty string or a non-negative integer (got -1); the partition is left out',
            },
          ],
        },
      },
      {
        // The cursor is the last id the page sent, even when that partition is left out as a repeat.
        partitions: [{ partition_id: 'p0' }, kept, { partition_id: 'p0' }],
        expected: {
          facts: {},
          partitions: [{ partitionId: 'p9', startOffset: 1, endOffset: 2 }],
          hasMore: false,
          cursor: 'p0',
          fieldIssues: [
            {
              field: 'partitions[2].partition_id',
              problem: 'repeats "p0" (first at partitions[0]); every partition with it is left out',
            },
          ],
        },
      },
      {
        partitions: [{ partition_id: '3' }, { partitionId: 3 }],
        expected: {
          facts: {},
          partitions: [],
          hasMore: false,
          cursor: '3',
          fieldIssues: [
            {
              field: 'partitions[1].partitionId',
              problem: 'repeats "shardId-0000000003" (first at partitions[0]); every partition with it is left out',
            },
          ],
        },
      },
      {
        partitions: [{ partition_id: 'p0', status: 1, sequence_number_range: '[-1 : 5]' }],
        expected: {
          facts: {},
          partitions: [{ partitionId: 'p0' }],
          hasMore: false,
          cursor: 'p0',
          fieldIssues: [
            {
              field: 'partitions[p0].sequence_number_range',
              problem: 'must be "[start : end]" with safe integers 0 <= start <= end (got "[-1 : 5]")',
            },
            { field: 'partitions[p0].status', problem: 'must be a string (got 1)' },
          ],
        },
      },
    ];
    for (const { partitions, expected } of cases) {
      const issues = expected.fieldIssues?.map(({ field, problem }) => `${field}: ${problem}`).join('; ');
      it(issues ?? JSON.stringify(partitions), () => {
        expect(parsePage({ stream_name: 's', partitions })).to.deep.equal(expected);
      });
    }
  });

  describe('bodies of another shape', () => {
    rejects(
      (body) => parsePage(body),
      [
        { body: [], field: '', message: 'body must be an object (got array)' },
        { body: 'newstream', field: '', message: 'body must be an object (got "newstream")' },
        { body: { partitions: [] }, field: 'stream_name', message: 'stream_name: is required' },
        { body: { stream_name: 5 }, field: 'stream_name', message: 'stream_name: must be a non-empty string (got 5)' },
        {
          body: { stream_name: 's', partitions: {} },
          field: 'partitions',
          message: 'partitions: must be an array (got object)',
        },
        {
          body: { stream_name: 's', has_more_partitions: 'true' },
          field: 'has_more_partitions',
          message: 'has_more_partitions: must be a boolean (got "true")',
        },
      ],
    );
  });
});

describe('parseStreamNamesPage', () => {
  const cases: ReadonlyArray<{ name: string; body: unknown; expected: StreamNamesPage }> = [
    {
      name: 'the doc example (stream-list-doc-example.json)',
      body: fixture('stream-list-doc-example.json'),
      expected: { names: ['newstream'], hasMore: false },
    },
    {
      name: 'stream_info_list without stream_names (stream-list-info-list-only.json)',
      body: fixture('stream-list-info-list-only.json'),
      expected: { names: ['dis-orders', 'dis-billing'], hasMore: true },
    },
    {
      name: 'stream_info_list when stream_names is null',
      body: { stream_names: null, stream_info_list: [{ stream_name: 'a' }] },
      expected: { names: ['a'], hasMore: false },
    },
    {
      name: 'stream_names over a stream_info_list that disagrees',
      body: { stream_names: ['a', 'b'], stream_info_list: [{ stream_name: 'z' }], has_more_streams: true },
      expected: { names: ['a', 'b'], hasMore: true },
    },
    {
      name: 'an empty stream_names even with a stream_info_list',
      body: { stream_names: [], stream_info_list: [{ stream_name: 'z' }] },
      expected: { names: [], hasMore: false },
    },
    { name: 'an empty object', body: {}, expected: { names: [], hasMore: false } },
    {
      name: 'a null has_more_streams',
      body: { stream_names: ['a'], has_more_streams: null },
      expected: { names: ['a'], hasMore: false },
    },
  ];
  for (const { name, body, expected } of cases) {
    it(`parses ${name}`, () => {
      expect(parseStreamNamesPage(body)).to.deep.equal(expected);
    });
  }

  it('freezes the page and its names', () => {
    const page = parseStreamNamesPage(fixture('stream-list-doc-example.json'));
    expect(Object.isFrozen(page)).to.equal(true);
    expect(Object.isFrozen(page.names)).to.equal(true);
  });

  describe('bad bodies', () => {
    rejects(parseStreamNamesPage, [
      { body: null, field: '', message: 'body must be an object (got null)' },
      { body: { stream_names: 'a' }, field: 'stream_names', message: 'stream_names: must be an array (got "a")' },
      {
        body: { stream_names: [1] },
        field: 'stream_names[0]',
        message: 'stream_names[0]: must be a non-empty string (got 1)',
      },
      {
        body: { stream_names: ['a', ''] },
        field: 'stream_names[1]',
        message: 'stream_names[1]: must be a non-empty string (got "")',
      },
      {
        body: { stream_names: ['a', null] },
        field: 'stream_names[1]',
        message: 'stream_names[1]: must be a non-empty string (got null)',
      },
      {
        body: { stream_names: ['a', 'b', 'a'] },
        field: 'stream_names[2]',
        message: 'stream_names[2]: duplicate "a" (first at stream_names[0])',
      },
      {
        body: { stream_names: ['s'.repeat(300), 's'.repeat(300)] },
        field: 'stream_names[1]',
        message: `stream_names[1]: duplicate "${'s'.repeat(40)}…" (first at stream_names[0])`,
      },
      {
        body: { stream_info_list: {} },
        field: 'stream_info_list',
        message: 'stream_info_list: must be an array (got object)',
      },
      {
        body: { stream_info_list: [null] },
        field: 'stream_info_list[0]',
        message: 'stream_info_list[0]: must be an object (got null)',
      },
      {
        body: { stream_info_list: [{ status: 'RUNNING' }] },
        field: 'stream_info_list[0].stream_name',
        message: 'stream_info_list[0].stream_name: is required',
      },
      {
        body: { stream_info_list: [{ stream_name: 'a' }, { stream_name: 'a' }] },
        field: 'stream_info_list[1].stream_name',
        message: 'stream_info_list[1].stream_name: duplicate "a" (first at stream_info_list[0].stream_name)',
      },
      {
        body: { stream_names: [], has_more_streams: 1 },
        field: 'has_more_streams',
        message: 'has_more_streams: must be a boolean (got 1)',
      },
    ]);
  });
});

describe('parseDumpTaskList', () => {
  const cases: ReadonlyArray<{ name: string; body: unknown; expected: DumpTaskSummary[] }> = [
    {
      name: 'the doc example (task-list-doc-example.json)',
      body: fixture('task-list-doc-example.json'),
      expected: [{ taskName: 'newtask', state: 'RUNNING' }],
    },
    {
      name: 'tasks with and without a state',
      body: { tasks: [{ task_name: 'a', state: 'PAUSED' }, { task_name: 'b' }, { task_name: 'c', state: null }] },
      expected: [{ taskName: 'a', state: 'PAUSED' }, { taskName: 'b' }, { taskName: 'c' }],
    },
    {
      name: 'an unknown state as sent',
      body: { tasks: [{ task_name: 'a', state: 'SUSPENDED' }] },
      expected: [{ taskName: 'a', state: 'SUSPENDED' }],
    },
    { name: 'no tasks', body: { total_number: 0 }, expected: [] },
    { name: 'null tasks', body: { tasks: null }, expected: [] },
    { name: 'an empty tasks array', body: { tasks: [], total_number: 0 }, expected: [] },
  ];
  for (const { name, body, expected } of cases) {
    it(`parses ${name}`, () => {
      expect(parseDumpTaskList(body)).to.deep.equal(expected);
    });
  }

  it('freezes each task', () => {
    const [task] = parseDumpTaskList(fixture('task-list-doc-example.json'));
    expect(Object.isFrozen(task)).to.equal(true);
  });

  describe('bad bodies', () => {
    rejects(parseDumpTaskList, [
      { body: 'tasks', field: '', message: 'body must be an object (got "tasks")' },
      { body: { tasks: {} }, field: 'tasks', message: 'tasks: must be an array (got object)' },
      { body: { tasks: [1] }, field: 'tasks[0]', message: 'tasks[0]: must be an object (got 1)' },
      {
        body: { tasks: [{ state: 'RUNNING' }] },
        field: 'tasks[0].task_name',
        message: 'tasks[0].task_name: is required',
      },
      {
        body: { tasks: [{ task_name: '' }] },
        field: 'tasks[0].task_name',
        message: 'tasks[0].task_name: must be a non-empty string (got "")',
      },
      {
        body: { tasks: [{ task_name: 'a', state: 3 }] },
        field: 'tasks[0].state',
        message: 'tasks[0].state: must be a string (got 3)',
      },
      {
        body: { tasks: [{ task_name: 'a' }, { task_name: 'a' }] },
        field: 'tasks[1].task_name',
        message: 'tasks[1].task_name: duplicate "a" (first at tasks[0])',
      },
      {
        body: { tasks: [{ task_name: 't'.repeat(300) }, { task_name: 't'.repeat(300) }] },
        field: 'tasks[1].task_name',
        message: `tasks[1].task_name: duplicate "${'t'.repeat(40)}…" (first at tasks[0])`,
      },
    ]);
  });
});
