import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseDumpTask, parseErrorBody, parseJsonBody } from '../../src/dis/parse.js';
import type { DumpTask } from '../../src/dis/types.js';
import { responseErrorOf } from '../helpers/errors.js';

/** The poll time of every parse here: 2024-01-02T00:00:00Z. */
const NOW = Date.UTC(2024, 0, 2);

function readFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/dis/${name}`, import.meta.url), 'utf8');
}

/** Parses at NOW as if the exporter had asked for the names the body echoes (`asked` when it echoes none). */
function parse(body: unknown): DumpTask {
  const echoed = (key: string): string => {
    const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
    return typeof value === 'string' ? value : 'asked';
  };
  return parseDumpTask(body, { stream: echoed('stream_name'), task: echoed('task_name'), nowMs: NOW });
}

function parseFixture(name: string): DumpTask {
  return parse(parseJsonBody(readFixture(name)));
}

const MINIMAL = { stream_name: 'newstream', task_name: 'newtask' } as const;

/** What MINIMAL parses to: the base of every expected task below that adds to it. */
const BASE: DumpTask = { taskId: '', destinationType: '', destination: '', partitions: [] };

/** docs/dis-api.md ("Example"), parsed: the expected result of every fixture that encodes that example. */
const DOC_EXAMPLE: DumpTask = {
  taskId: 'As805BudhcH1lDs6gbn',
  state: 'RUNNING',
  destinationType: 'OBS',
  destination: 'obsbucket',
  createTimeMs: 1606554932552,
  lastTransferTimestampMs: 1606984428612,
  deliverIntervalSeconds: 60,
  partitions: [
    {
      partitionId: 'shardId-0000000000',
      state: 'RUNNING',
      discard: 0,
      lastTransferOffset: 289897,
      lastTransferTimestampMs: 1606984428612,
    },
  ],
};

describe('parseDumpTask', () => {
  describe('fixtures', () => {
    const cases: ReadonlyArray<{ fixture: string; expected: DumpTask }> = [
      {
        fixture: 'obs-doc-example.json',
        expected: DOC_EXAMPLE,
      },
      {
        fixture: 'obs-two-partitions.json',
        expected: {
          taskId: 'gGGu2WN88XbmRTm64nJ',
          state: 'RUNNING',
          destinationType: 'OBS',
          destination: 'orders-archive',
          createTimeMs: 1606554932552,
          lastTransferTimestampMs: 1606984431000,
          deliverIntervalSeconds: 300,
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              state: 'RUNNING',
              discard: 0,
              lastTransferOffset: 289897,
              lastTransferTimestampMs: 1606984428612,
            },
            {
              partitionId: 'shardId-0000000001',
              state: 'RUNNING',
              discard: 12,
              lastTransferOffset: 301544,
              lastTransferTimestampMs: 1606984431000,
            },
          ],
        },
      },
      {
        fixture: 'dws-misspelt-key-with-password.json',
        expected: {
          taskId: 'Dw5TaskIdOfBilling01',
          state: 'RUNNING',
          destinationType: 'DWS',
          destination: 'dws-billing-cluster',
          createTimeMs: 1606554932552,
          lastTransferTimestampMs: 1606984428612,
          deliverIntervalSeconds: 120,
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              state: 'RUNNING',
              discard: 0,
              lastTransferOffset: 5120,
              lastTransferTimestampMs: 1606984428612,
            },
          ],
        },
      },
      {
        fixture: 'dws-correct-spelling-key.json',
        expected: {
          taskId: '',
          state: 'PAUSED',
          destinationType: 'DWS',
          destination: 'dws-billing-cluster',
          deliverIntervalSeconds: 300,
          partitions: [],
        },
      },
      {
        fixture: 'cloudtable-misspelt-key.json',
        expected: {
          taskId: '',
          state: 'RUNNING',
          destinationType: 'CLOUDTABLE',
          destination: 'ct-metrics',
          deliverIntervalSeconds: 30,
          partitions: [],
        },
      },
      {
        fixture: 'cloudtable-correct-spelling-key.json',
        expected: {
          taskId: '',
          state: 'RUNNING',
          destinationType: 'CLOUDTABLE',
          destination: 'ct-metrics-2',
          deliverIntervalSeconds: 45,
          partitions: [],
        },
      },
      {
        // The misspelt key is the documented one, so it wins when a body carries both.
        fixture: 'cloudtable-both-spellings.json',
        expected: {
          taskId: '',
          destinationType: 'CLOUDTABLE',
          destination: 'from-misspelt-key',
          deliverIntervalSeconds: 30,
          partitions: [],
        },
      },
      {
        fixture: 'dli-database-and-table.json',
        expected: {
          taskId: 'DliTaskId0000000001',
          state: 'STARTING',
          destinationType: 'DLI',
          destination: 'analytics.clicks',
          createTimeMs: 1606554932552,
          deliverIntervalSeconds: 900,
          partitions: [{ partitionId: 'shardId-0000000000', state: 'STARTING', discard: 0, lastTransferOffset: 0 }],
        },
      },
      {
        fixture: 'mrs-cluster.json',
        expected: {
          taskId: '',
          state: 'ERROR',
          destinationType: 'MRS',
          destination: 'mrs-logs',
          createTimeMs: 1606554932552,
          lastTransferTimestampMs: 1606984428612,
          deliverIntervalSeconds: 180,
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              state: 'ERROR',
              discard: 3,
              lastTransferOffset: 77,
              lastTransferTimestampMs: 1606984428612,
            },
          ],
        },
      },
      {
        // Its OBS description belongs to no known sink of this task, so neither its bucket nor its interval is used.
        fixture: 'unknown-destination-type-uquery.json',
        expected: {
          taskId: 'UqTaskId00000000001',
          state: 'RUNNING',
          destinationType: 'UQUERY',
          destination: '',
          partitions: [],
        },
      },
      {
        fixture: 'unknown-state-suspended.json',
        expected: {
          taskId: '',
          state: 'SUSPENDED',
          destinationType: 'OBS',
          destination: 'obsbucket',
          partitions: [{ partitionId: 'shardId-0000000000', state: 'SUSPENDED', lastTransferOffset: 10 }],
        },
      },
      {
        fixture: 'missing-optional-fields.json',
        expected: {
          taskId: '',
          destinationType: '',
          destination: '',
          partitions: [],
        },
      },
      {
        fixture: 'numeric-strings.json',
        expected: DOC_EXAMPLE,
      },
      {
        fixture: 'zero-timestamps.json',
        expected: {
          taskId: 'ZeroTs0000000000001',
          state: 'STARTING',
          destinationType: 'OBS',
          destination: 'obsbucket',
          deliverIntervalSeconds: 300,
          partitions: [
            { partitionId: 'shardId-0000000000', state: 'STARTING', discard: 0, lastTransferOffset: 0 },
            { partitionId: 'shardId-0000000001' },
          ],
        },
      },
      {
        fixture: 'partition-id-snake-case-fallback.json',
        expected: {
          taskId: '',
          destinationType: '',
          destination: '',
          partitions: [
            { partitionId: 'shardId-0000000000', lastTransferOffset: 5 },
            { partitionId: 'shardId-0000000001', lastTransferOffset: 6 },
            { partitionId: 'shardId-0000000002', lastTransferOffset: 7 },
          ],
        },
      },
      {
        // Regression: a -1 ("none") failed the whole target; now it costs only its own field.
        fixture: 'minus-one-means-none.json',
        expected: {
          taskId: 'MinusOne00000000001',
          state: 'RUNNING',
          destinationType: 'OBS',
          destination: 'orders-archive',
          createTimeMs: 1704067200000,
          partitions: [
            { partitionId: 'shardId-0000000000', state: 'RUNNING' },
            {
              partitionId: 'shardId-0000000001',
              state: 'RUNNING',
              discard: 0,
              lastTransferOffset: 289897,
              lastTransferTimestampMs: 1704153540000,
            },
          ],
          fieldIssues: [
            { field: 'obs_destination_description.deliver_time_interval', problem: 'is -1 (DIS\'s "none")' },
            { field: 'last_transfer_timestamp', problem: 'is -1 (DIS\'s "none")' },
            { field: 'partitions[shardId-0000000000].discard', problem: 'is -1 (DIS\'s "none")' },
            { field: 'partitions[shardId-0000000000].last_transfer_offset', problem: 'is -1 (DIS\'s "none")' },
            { field: 'partitions[shardId-0000000000].last_transfer_timestamp', problem: 'is -1 (DIS\'s "none")' },
          ],
        },
      },
      {
        // Regression: epoch seconds read as milliseconds gave a lag of 54 years.
        fixture: 'seconds-timestamps.json',
        expected: {
          taskId: 'Seconds000000000001',
          state: 'RUNNING',
          destinationType: 'OBS',
          destination: 'orders-archive',
          deliverIntervalSeconds: 60,
          partitions: [{ partitionId: 'shardId-0000000000', state: 'RUNNING', discard: 0, lastTransferOffset: 289897 }],
          fieldIssues: [
            { field: 'create_time', problem: 'is before 2001, so not epoch milliseconds (got 1704067200)' },
            { field: 'last_transfer_timestamp', problem: 'is before 2001, so not epoch milliseconds (got 1704153540)' },
            {
              field: 'partitions[shardId-0000000000].last_transfer_timestamp',
              problem: 'is before 2001, so not epoch milliseconds (got 1704153540)',
            },
          ],
        },
      },
      {
        // Regression: a dump time years ahead gave lag 0 and hid a stall; an hour ahead is a skewed clock and stays.
        fixture: 'future-timestamps.json',
        expected: {
          taskId: 'Future0000000000001',
          state: 'RUNNING',
          destinationType: 'OBS',
          destination: 'orders-archive',
          createTimeMs: 1704067200000,
          deliverIntervalSeconds: 60,
          partitions: [
            {
              partitionId: 'shardId-0000000000',
              state: 'RUNNING',
              discard: 0,
              lastTransferOffset: 289897,
              lastTransferTimestampMs: 1704157200000,
            },
            { partitionId: 'shardId-0000000001', state: 'RUNNING', discard: 0, lastTransferOffset: 301544 },
          ],
          fieldIssues: [
            {
              field: 'last_transfer_timestamp',
              problem: "is more than a day ahead of this host's clock (got 1893456000000)",
            },
            {
              field: 'partitions[shardId-0000000001].last_transfer_timestamp',
              problem: "is more than a day ahead of this host's clock (got 1893456000000)",
            },
          ],
        },
      },
      {
        // Regression: `0` or `"0"` from other DIS APIs did not join `shardId-0000000000`; other forms stay as sent.
        fixture: 'numeric-partition-ids.json',
        expected: {
          ...BASE,
          partitions: [
            { partitionId: 'shardId-0000000000', lastTransferOffset: 10 },
            { partitionId: 'shardId-0000000001', lastTransferOffset: 11 },
            { partitionId: 'shardId-0000000002', lastTransferOffset: 12 },
            { partitionId: 'shardId-0000000003', lastTransferOffset: 13 },
            { partitionId: 'p-custom', lastTransferOffset: 14 },
          ],
        },
      },
    ];

    for (const { fixture, expected } of cases) {
      it(`parses ${fixture}`, () => {
        expect(parseFixture(fixture)).to.deep.equal(expected);
      });
    }
  });

  describe('credentials', () => {
    for (const fixture of ['dws-misspelt-key-with-password.json', 'dws-correct-spelling-key.json']) {
      it(`never copies user_password or user_name from ${fixture}`, () => {
        expect(readFixture(fixture)).to.include('S3cret-DWS-Passw0rd!');
        const serialized = JSON.stringify(parseFixture(fixture));
        expect(serialized).not.to.include('S3cret-DWS-Passw0rd!');
        expect(serialized).not.to.include('dbadmin');
        expect(serialized).not.to.include('password');
      });
    }

    it('never quotes a credential in a field issue: only the fields the exporter reads are checked', () => {
      const description = { dws_cluster_name: 42, user_name: 7, user_password: { secret: 'S3cret-DWS-Passw0rd!' } };
      const task = parse({ ...MINIMAL, destination_type: 'DWS', dws_destination_descripton: description });
      expect(task.fieldIssues).to.deep.equal([
        { field: 'dws_destination_descripton.dws_cluster_name', problem: 'must be a string (got 42)' },
      ]);
      expect(JSON.stringify(task)).not.to.match(/S3cret|password|user_name/);
    });
  });

  describe('destination', () => {
    const cases: ReadonlyArray<{ name: string; body: Record<string, unknown>; destination: string }> = [
      {
        name: 'matches the destination type case-insensitively',
        body: { destination_type: 'obs', obs_destination_description: { obs_bucket_path: 'lower' } },
        destination: 'lower',
      },
      {
        name: 'uses only the DLI table when the database is missing',
        body: { destination_type: 'DLI', dli_destination_description: { dli_table_name: 'clicks' } },
        destination: 'clicks',
      },
      {
        name: 'uses only the DLI database when the table is empty',
        body: {
          destination_type: 'DLI',
          dli_destination_description: { dli_database_name: 'analytics', dli_table_name: '' },
        },
        destination: 'analytics',
      },
      {
        name: 'gives "" for DLI without database and table',
        body: { destination_type: 'DLI', dli_destination_description: { obs_bucket_path: 'staging' } },
        destination: '',
      },
      {
        name: 'gives "" when the description of the type is null',
        body: { destination_type: 'OBS', obs_destination_description: null },
        destination: '',
      },
      {
        name: 'gives "" when the description of the type is missing',
        body: { destination_type: 'MRS', obs_destination_description: { obs_bucket_path: 'other-sink' } },
        destination: '',
      },
      {
        name: 'falls back to the correct spelling when the misspelt key is null',
        body: {
          destination_type: 'DWS',
          dws_destination_descripton: null,
          dws_destination_description: { dws_cluster_name: 'dws-2' },
        },
        destination: 'dws-2',
      },
      {
        name: 'ignores malformed descriptions of other destination types',
        body: {
          destination_type: 'OBS',
          obs_destination_description: { obs_bucket_path: 'b' },
          dws_destination_descripton: 'x',
        },
        destination: 'b',
      },
    ];

    for (const { name, body, destination } of cases) {
      it(name, () => {
        const task = parse({ ...MINIMAL, ...body });
        expect([task.destination, task.fieldIssues]).to.deep.equal([destination, undefined]);
      });
    }

    it('keeps the destination type as sent', () => {
      expect(parse({ ...MINIMAL, destination_type: 'obs' }).destinationType).to.equal('obs');
    });

    it('reads no deliver interval from a description without one', () => {
      const body = { ...MINIMAL, destination_type: 'OBS', obs_destination_description: { obs_bucket_path: 'b' } };
      const task = parse(body);
      expect(task).not.to.have.property('deliverIntervalSeconds');
    });
  });

  describe('optional fields', () => {
    it('treats null like missing', () => {
      const task = parse({
        ...MINIMAL,
        task_id: null,
        state: null,
        destination_type: null,
        create_time: null,
        last_transfer_timestamp: null,
        partitions: null,
      });
      expect(task).to.deep.equal(BASE);
    });

    it('keeps an empty state string as sent', () => {
      expect(parse({ ...MINIMAL, state: '' }).state).to.equal('');
    });

    it('turns a -0 offset into 0', () => {
      const task = parse({ ...MINIMAL, partitions: [{ partitionId: 'p', last_transfer_offset: -0 }] });
      expect(Object.is(task.partitions[0]?.lastTransferOffset, 0)).to.equal(true);
    });

    it('accepts the largest safe integer', () => {
      const partitions = [{ partitionId: 'p', last_transfer_offset: '9007199254740991' }];
      const task = parse({ ...MINIMAL, partitions });
      expect(task.partitions[0]?.lastTransferOffset).to.equal(9007199254740991);
    });

    it('treats a "0" timestamp string like 0', () => {
      expect(parse({ ...MINIMAL, create_time: '0' })).to.deep.equal(BASE);
    });
  });

  describe('timestamps: plausible epoch milliseconds only, judged at the poll time', () => {
    const DAY = 86_400_000;
    const cases: ReadonlyArray<{ name: string; value: number | string; kept: boolean; problem?: string }> = [
      { name: '2001-01-01T00:00:00Z, the earliest', value: Date.UTC(2001, 0, 1), kept: true },
      {
        name: 'a millisecond before 2001',
        value: Date.UTC(2001, 0, 1) - 1,
        kept: false,
        problem: 'is before 2001, so not epoch milliseconds (got 978307199999)',
      },
      {
        name: 'the largest 10-digit seconds value',
        value: 9_999_999_999,
        kept: false,
        problem: 'is before 2001, so not epoch milliseconds (got 9999999999)',
      },
      {
        name: 'seconds as a digit string',
        value: '1704153540',
        kept: false,
        problem: 'is before 2001, so not epoch milliseconds (got 1704153540)',
      },
      { name: 'the poll time', value: NOW, kept: true },
      { name: 'a day ahead (a skewed clock)', value: NOW + DAY, kept: true },
      {
        name: 'a day and a millisecond ahead',
        value: NOW + DAY + 1,
        kept: false,
        problem: `is more than a day ahead of this host's clock (got ${NOW + DAY + 1})`,
      },
    ];
    for (const { name, value, kept, problem } of cases) {
      it(`${kept ? 'keeps' : 'leaves out'} ${name}`, () => {
        const task = parse({
          ...MINIMAL,
          create_time: value,
          last_transfer_timestamp: value,
          partitions: [{ partitionId: 'shardId-0000000000', last_transfer_timestamp: value }],
        });
        const ms = Number(value);
        expect(task).to.deep.equal(
          kept
            ? {
                ...BASE,
                createTimeMs: ms,
                lastTransferTimestampMs: ms,
                partitions: [{ partitionId: 'shardId-0000000000', lastTransferTimestampMs: ms }],
              }
            : {
                ...BASE,
                partitions: [{ partitionId: 'shardId-0000000000' }],
                fieldIssues: [
                  { field: 'create_time', problem },
                  { field: 'last_transfer_timestamp', problem },
                  { field: 'partitions[shardId-0000000000].last_transfer_timestamp', problem },
                ],
              },
        );
      });
    }
  });

  describe('partition ids: normalised to shardId- and 10 digits', () => {
    const cases: ReadonlyArray<[unknown, string]> = [
      [0, 'shardId-0000000000'],
      [42, 'shardId-0000000042'],
      ['7', 'shardId-0000000007'],
      ['007', 'shardId-0000000007'],
      ['shardId-0000000003', 'shardId-0000000003'],
      ['shardId-3', 'shardId-0000000003'],
      ['shardId-00000000003', 'shardId-0000000003'],
      [12_345_678_901, 'shardId-12345678901'],
      // digits past 2^53 - 1 are kept as digits, never rounded into another index
      ['90071992547409931', 'shardId-90071992547409931'],
      ['p-custom', 'p-custom'],
      ['shardid-1', 'shardid-1'],
      ['shardId-', 'shardId-'],
      ['shardId--1', 'shardId--1'],
    ];
    for (const [sent, id] of cases) {
      it(`reads ${JSON.stringify(sent)} as ${id}`, () => {
        expect(parse({ ...MINIMAL, partitions: [{ partitionId: sent }] }).partitions).to.deep.equal([
          { partitionId: id },
        ]);
      });
    }
  });

  describe('echoed names: checked, never used', () => {
    it('keeps the data and names a stream_name or task_name other than the one asked for', () => {
      const body = { ...MINIMAL, task_id: 'id', partitions: [{ partitionId: 'shardId-0000000000' }] };
      expect(parseDumpTask(body, { stream: 'orders', task: 'orders-to-obs', nowMs: NOW })).to.deep.equal({
        ...BASE,
        taskId: 'id',
        partitions: [{ partitionId: 'shardId-0000000000' }],
        fieldIssues: [
          { field: 'stream_name', problem: 'is "newstream" where "orders" was asked for; the series keep "orders"' },
          {
            field: 'task_name',
            problem: 'is "newtask" where "orders-to-obs" was asked for; the series keep "orders-to-obs"',
          },
        ],
      });
    });
  });

  describe('immutability', () => {
    it('freezes the task, its partitions array and each partition', () => {
      const task = parseFixture('obs-two-partitions.json');
      expect(Object.isFrozen(task)).to.equal(true);
      expect(Object.isFrozen(task.partitions)).to.equal(true);
      expect(task.partitions.map((partition) => Object.isFrozen(partition))).to.deep.equal([true, true]);
      expect(() => {
        (task as { taskId: string }).taskId = 'changed';
      }).to.throw(TypeError);
    });

    it('freezes an empty partitions array too', () => {
      expect(Object.isFrozen(parseFixture('missing-optional-fields.json').partitions)).to.equal(true);
    });

    it('freezes the field issues and each issue', () => {
      const { fieldIssues } = parseFixture('minus-one-means-none.json');
      expect(Object.isFrozen(fieldIssues)).to.equal(true);
      expect(fieldIssues?.every((issue) => Object.isFrozen(issue))).to.equal(true);
    });
  });

  describe('odd fields: each costs only itself (and a partition without a usable id only that partition)', () => {
    const partition = { partitionId: 'shardId-0000000000', last_transfer_offset: 1 };
    const kept = { partitionId: 'shardId-0000000000', lastTransferOffset: 1 };
    const cases: ReadonlyArray<{ body: Record<string, unknown>; expected: DumpTask }> = [
      {
        body: { task_id: 7 },
        expected: { ...BASE, fieldIssues: [{ field: 'task_id', problem: 'must be a string (got 7)' }] },
      },
      {
        body: { state: {} },
        expected: { ...BASE, fieldIssues: [{ field: 'state', problem: 'must be a string (got object)' }] },
      },
      {
        body: { state: 1 },
        expected: { ...BASE, fieldIssues: [{ field: 'state', problem: 'must be a string (got 1)' }] },
      },
      {
        body: { destination_type: true },
        expected: { ...BASE, fieldIssues: [{ field: 'destination_type', problem: 'must be a string (got true)' }] },
      },
      ...(
        [
          ['abc', 'must be a non-negative integer (got "abc")'],
          [-1, 'is -1 (DIS\'s "none")'],
          ['-1', 'must be a non-negative integer (got "-1")'],
          [-2, 'must be a non-negative integer (got -2)'],
          [1.5, 'must be a non-negative integer (got 1.5)'],
          ['1e3', 'must be a non-negative integer (got "1e3")'],
          ['', 'must be a non-negative integer (got "")'],
          [' 1606554932552', 'must be a non-negative integer (got " 1606554932552")'],
          [Number.POSITIVE_INFINITY, 'must be a non-negative integer (got Infinity)'],
          [Number.NaN, 'must be a non-negative integer (got NaN)'],
          [true, 'must be a non-negative integer (got true)'],
          [{ ms: 1 }, 'must be a non-negative integer (got object)'],
          ['9007199254740993', 'must be at most 9007199254740991 (got "9007199254740993")'],
          ['z'.repeat(40), `must be a non-negative integer (got "${'z'.repeat(40)}")`],
          // at most 40 characters are quoted, never cut inside a surrogate pair
          ['z'.repeat(41), `must be a non-negative integer (got "${'z'.repeat(40)}…")`],
          [`${'z'.repeat(39)}\u{1F600}tail`, `must be a non-negative integer (got "${'z'.repeat(39)}…")`],
        ] as const
      ).map(([value, problem]) => ({
        body: { create_time: value },
        expected: { ...BASE, fieldIssues: [{ field: 'create_time', problem }] },
      })),
      {
        body: { partitions: [null] },
        expected: {
          ...BASE,
          fieldIssues: [{ field: 'partitions[0]', problem: 'must be an object (got null); it is left out' }],
        },
      },
      {
        body: { partitions: [partition, ['shardId-0000000001']] },
        expected: {
          ...BASE,
          partitions: [kept],
          fieldIssues: [{ field: 'partitions[1]', problem: 'must be an object (got array); it is left out' }],
        },
      },
      {
        body: { partitions: [partition, { last_transfer_offset: 1 }] },
        expected: {
          ...BASE,
          partitions: [kept],
          fieldIssues: [{ field: 'partitions[1].partitionId', problem: 'is required; the partition is left out' }],
        },
      },
      ...(
        [
          ['partitionId', ''],
          ['partitionId', true],
          ['partition_id', -1],
          ['partition_id', 0.5],
          ['partition_id', 2 ** 53],
          ['partition_id', {}],
        ] as const
      ).map(([key, value]) => ({
        body: { partitions: [{ [key]: value }, partition] },
        expected: {
          ...BASE,
          partitions: [kept],
          fieldIssues: [
            {
              field: `partitions[0].${key}`,
              problem: `must be a non-empty string or a non-negative integer (got ${
                typeof value === 'object' ? 'object' : typeof value === 'string' ? `"${value}"` : String(value)
              }); the partition is left out`,
            },
          ],
        },
      })),
      {
        // Which of two partitions with one id is right cannot be told: both are left out.
        body: { partitions: [partition, { partitionId: 'shardId-0000000001' }, partition] },
        expected: {
          ...BASE,
          partitions: [{ partitionId: 'shardId-0000000001' }],
          fieldIssues: [
            {
              field: 'partitions[2].partitionId',
              problem: 'repeats "shardId-0000000000" (first at partitions[0]); every partition with it is left out',
            },
          ],
        },
      },
      {
        body: { partitions: [{ partitionId: '0' }, { partition_id: 0 }, { partitionId: 'shardId-0' }] },
        expected: {
          ...BASE,
          fieldIssues: [
            {
              field: 'partitions[1].partition_id',
              problem: 'repeats "shardId-0000000000" (first at partitions[0]); every partition with it is left out',
            },
            {
              field: 'partitions[2].partitionId',
              problem: 'repeats "shardId-0000000000" (first at partitions[0]); every partition with it is left out',
            },
          ],
        },
      },
      {
        // Found by the fast-check property (parse-properties.test.ts): a duplicate was quoted whole, so a long id made
        // a message (logged, shown on the landing page) as long as the id.
        body: { partitions: [{ partitionId: 'p'.repeat(300) }, { partitionId: 'p'.repeat(300) }] },
        expected: {
          ...BASE,
          fieldIssues: [
            {
              field: 'partitions[1].partitionId',
              problem: `repeats "${'p'.repeat(40)}…" (first at partitions[0]); every partition with it is left out`,
            },
          ],
        },
      },
      {
        body: { partitions: [{ partitionId: 'p'.repeat(300), discard: 'x' }] },
        expected: {
          ...BASE,
          partitions: [{ partitionId: 'p'.repeat(300) }],
          fieldIssues: [
            { field: `partitions[${'p'.repeat(40)}…].discard`, problem: 'must be a non-negative integer (got "x")' },
          ],
        },
      },
      {
        body: { partitions: [partition, { partitionId: 'p1' }, { partitionId: 'p2', last_transfer_offset: -5 }] },
        expected: {
          ...BASE,
          partitions: [kept, { partitionId: 'p1' }, { partitionId: 'p2' }],
          fieldIssues: [
            { field: 'partitions[p2].last_transfer_offset', problem: 'must be a non-negative integer (got -5)' },
          ],
        },
      },
      {
        body: {
          partitions: [
            {
              partitionId: 'p0',
              discard: {},
              last_transfer_timestamp: 'yesterday',
              state: false,
              last_transfer_offset: 3,
            },
          ],
        },
        expected: {
          ...BASE,
          partitions: [{ partitionId: 'p0', lastTransferOffset: 3 }],
          fieldIssues: [
            { field: 'partitions[p0].state', problem: 'must be a string (got false)' },
            { field: 'partitions[p0].discard', problem: 'must be a non-negative integer (got object)' },
            {
              field: 'partitions[p0].last_transfer_timestamp',
              problem: 'must be a non-negative integer (got "yesterday")',
            },
          ],
        },
      },
      {
        body: { destination_type: 'OBS', obs_destination_description: 'obsbucket' },
        expected: {
          ...BASE,
          destinationType: 'OBS',
          fieldIssues: [{ field: 'obs_destination_description', problem: 'must be an object (got "obsbucket")' }],
        },
      },
      {
        body: { destination_type: 'OBS', obs_destination_description: [] },
        expected: {
          ...BASE,
          destinationType: 'OBS',
          fieldIssues: [{ field: 'obs_destination_description', problem: 'must be an object (got array)' }],
        },
      },
      {
        body: {
          destination_type: 'OBS',
          obs_destination_description: { obs_bucket_path: 5, deliver_time_interval: 60 },
        },
        expected: {
          ...BASE,
          destinationType: 'OBS',
          deliverIntervalSeconds: 60,
          fieldIssues: [{ field: 'obs_destination_description.obs_bucket_path', problem: 'must be a string (got 5)' }],
        },
      },
      {
        body: {
          destination_type: 'OBS',
          obs_destination_description: { obs_bucket_path: 'b', deliver_time_interval: '60s' },
        },
        expected: {
          ...BASE,
          destinationType: 'OBS',
          destination: 'b',
          fieldIssues: [
            {
              field: 'obs_destination_description.deliver_time_interval',
              problem: 'must be a non-negative integer (got "60s")',
            },
          ],
        },
      },
      {
        body: { destination_type: 'DWS', dws_destination_descripton: { dws_cluster_name: 1 } },
        expected: {
          ...BASE,
          destinationType: 'DWS',
          fieldIssues: [{ field: 'dws_destination_descripton.dws_cluster_name', problem: 'must be a string (got 1)' }],
        },
      },
      {
        body: { destination_type: 'CLOUDTABLE', cloudtable_destination_description: true },
        expected: {
          ...BASE,
          destinationType: 'CLOUDTABLE',
          fieldIssues: [{ field: 'cloudtable_destination_description', problem: 'must be an object (got true)' }],
        },
      },
      {
        body: {
          destination_type: 'DLI',
          dli_destination_description: { dli_database_name: 'db', dli_table_name: null, deliver_time_interval: -30 },
        },
        expected: {
          ...BASE,
          destinationType: 'DLI',
          destination: 'db',
          fieldIssues: [
            {
              field: 'dli_destination_description.deliver_time_interval',
              problem: 'must be a non-negative integer (got -30)',
            },
          ],
        },
      },
    ];

    for (const { body, expected } of cases) {
      const issues = expected.fieldIssues?.map(({ field, problem }) => `${field}: ${problem}`).join('; ');
      it(issues ?? JSON.stringify(body), () => {
        expect(parse({ ...MINIMAL, ...body })).to.deep.equal(expected);
      });
    }
  });

  describe('bodies of another shape', () => {
    const cases: ReadonlyArray<{ body: unknown; field: string; message: string }> = [
      { body: [], field: '', message: 'body must be an object (got array)' },
      { body: null, field: '', message: 'body must be an object (got null)' },
      { body: 'newtask', field: '', message: 'body must be an object (got "newtask")' },
      { body: 42, field: '', message: 'body must be an object (got 42)' },
      { body: { stream_name: 'newstream' }, field: 'task_name', message: 'task_name: is required' },
      { body: { stream_name: 'newstream', task_name: null }, field: 'task_name', message: 'task_name: is required' },
      {
        body: { ...MINIMAL, task_name: 42 },
        field: 'task_name',
        message: 'task_name: must be a non-empty string (got 42)',
      },
      {
        body: { ...MINIMAL, task_name: '' },
        field: 'task_name',
        message: 'task_name: must be a non-empty string (got "")',
      },
      { body: { task_name: 'newtask' }, field: 'stream_name', message: 'stream_name: is required' },
      {
        body: { ...MINIMAL, stream_name: ['a'] },
        field: 'stream_name',
        message: 'stream_name: must be a non-empty string (got array)',
      },
      {
        body: { ...MINIMAL, partitions: {} },
        field: 'partitions',
        message: 'partitions: must be an array (got object)',
      },
      {
        body: { ...MINIMAL, partitions: 'none' },
        field: 'partitions',
        message: 'partitions: must be an array (got "none")',
      },
    ];

    for (const { body, field, message } of cases) {
      it(message, () => {
        const error = responseErrorOf(() => parse(body));
        expect(error.message).to.equal(message);
        expect(error.field).to.equal(field);
      });
    }

    it('raises a bad_response DisResponseError', () => {
      const error = responseErrorOf(() => parse({ stream_name: 'newstream' }));
      expect(error).to.include({ name: 'DisResponseError', code: 'ERR_DIS_RESPONSE', reason: 'bad_response' });
    });
  });
});

describe('parseJsonBody', () => {
  it('returns the parsed value of a JSON body', () => {
    expect(parseJsonBody('{"a":[1,"2",null]}')).to.deep.equal({ a: [1, '2', null] });
    expect(parseJsonBody(' 42 ')).to.equal(42);
    expect(parseJsonBody('null')).to.equal(null);
  });

  const html =
    '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
    '<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';
  const cases: ReadonlyArray<{ name: string; text: string; message: string }> = [
    { name: 'an empty body', text: '', message: 'body is not JSON: empty body' },
    { name: 'a blank body', text: ' \r\n\t ', message: 'body is not JSON: empty body' },
    {
      name: 'an HTML error page',
      text: html,
      message:
        'body is not JSON: 122 chars starting with ' +
        '"<html> <head><title>502 Bad Gateway</title></head> <body> <c…"',
    },
    { name: 'garbage', text: 'not json', message: 'body is not JSON: 8 chars starting with "not json"' },
    {
      name: 'a truncated body',
      text: '{"task_name":"newtask",',
      message: 'body is not JSON: 23 chars starting with "{\\"task_name\\":\\"newtask\\","',
    },
    {
      name: 'a huge body',
      text: 'x'.repeat(5000),
      message: `body is not JSON: 5000 chars starting with "${'x'.repeat(60)}…"`,
    },
  ];

  for (const { name, text, message } of cases) {
    it(`rejects ${name}`, () => {
      const error = responseErrorOf(() => parseJsonBody(text));
      expect(error.message).to.equal(message);
      expect(error.field).to.equal('');
      expect(error.message.length).to.be.at.most(120);
    });
  }
});

describe('parseErrorBody', () => {
  const cases: ReadonlyArray<{ name: string; text: string; expected: Record<string, string> }> = [
    {
      name: 'a DIS error',
      text: JSON.stringify({
        errorCode: 'DIS.4301',
        message: 'Stream does not exist. [dis-lR5q111][3e83253eb4a24c65a8533eb3da85e070]',
      }),
      expected: {
        apiCode: 'DIS.4301',
        apiMessage: 'Stream does not exist. [dis-lR5q111][3e83253eb4a24c65a8533eb3da85e070]',
      },
    },
    {
      name: 'an API gateway error',
      text: JSON.stringify({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
        request_id: 'a3f1d0c2b9e84f7a8c6d5e4b3a291807',
      }),
      expected: {
        apiCode: 'APIGW.0301',
        apiMessage: 'Incorrect IAM authentication information: verify aksk signature fail',
        requestId: 'a3f1d0c2b9e84f7a8c6d5e4b3a291807',
      },
    },
    {
      name: 'the code/errorMessage variant',
      text: '{"code":"DIS.4354","errorMessage":"The transfer task does not exist."}',
      expected: { apiCode: 'DIS.4354', apiMessage: 'The transfer task does not exist.' },
    },
    {
      name: 'an IAM error nested under "error" with a numeric code',
      text: JSON.stringify({
        error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
      }),
      expected: { apiCode: '401', apiMessage: 'The request you have made requires authentication.' },
    },
    {
      name: 'a nested gateway error with a top-level request id',
      text: JSON.stringify({
        error: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' },
        request_id: 'r-1',
      }),
      expected: { apiCode: 'APIGW.0308', apiMessage: 'The throttling threshold has been reached', requestId: 'r-1' },
    },
    {
      name: 'top-level keys before nested ones',
      text: '{"error_code":"APIGW.0303","error":{"code":"NESTED","message":"nested message"}}',
      expected: { apiCode: 'APIGW.0303', apiMessage: 'nested message' },
    },
    {
      name: 'an overlong message, cut at 200 characters',
      text: JSON.stringify({ errorCode: 'DIS.5000', message: 'm'.repeat(500) }),
      expected: { apiCode: 'DIS.5000', apiMessage: `${'m'.repeat(200)}…` },
    },
    { name: 'an empty body', text: '', expected: {} },
    { name: 'an HTML page', text: '<html><body>502 Bad Gateway</body></html>', expected: {} },
    { name: 'JSON null', text: 'null', expected: {} },
    { name: 'a JSON array', text: '[{"errorCode":"DIS.4301"}]', expected: {} },
    { name: 'a JSON string', text: '"DIS.4301"', expected: {} },
    { name: 'a JSON number', text: '42', expected: {} },
    { name: 'fields of the wrong type', text: '{"errorCode":{"x":1},"message":["a"],"request_id":true}', expected: {} },
    { name: 'blank fields', text: '{"errorCode":"  ","message":""}', expected: {} },
    { name: 'an OAuth-style string error', text: '{"error":"invalid_token"}', expected: {} },
  ];

  for (const { name, text, expected } of cases) {
    it(`reads ${name}`, () => {
      expect(parseErrorBody(text)).to.deep.equal(expected);
    });
  }
});
