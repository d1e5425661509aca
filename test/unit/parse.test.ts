import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseDumpTask, parseErrorBody, parseJsonBody } from '../../src/dis/parse.js';
import type { DumpTask } from '../../src/dis/types.js';
import { responseErrorOf } from '../helpers/errors.js';

function readFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/dis/${name}`, import.meta.url), 'utf8');
}

function parseFixture(name: string): DumpTask {
  return parseDumpTask(parseJsonBody(readFixture(name)));
}

const MINIMAL = { stream_name: 'newstream', task_name: 'newtask' } as const;

/** dis-api.md §1.5, parsed: the expected result of every fixture that encodes that example. */
const DOC_EXAMPLE: DumpTask = {
  streamName: 'newstream',
  taskName: 'newtask',
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
          streamName: 'dis-orders',
          taskName: 'orders-to-obs',
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
          streamName: 'dis-billing',
          taskName: 'billing-to-dws',
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
          streamName: 'dis-billing',
          taskName: 'billing-to-dws',
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
          streamName: 'dis-metrics',
          taskName: 'metrics-to-cloudtable',
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
          streamName: 'dis-metrics',
          taskName: 'metrics-to-cloudtable',
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
          streamName: 'dis-metrics',
          taskName: 'metrics-to-cloudtable',
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
          streamName: 'dis-clicks',
          taskName: 'clicks-to-dli',
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
          streamName: 'dis-logs',
          taskName: 'logs-to-mrs',
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
          streamName: 'dis-legacy',
          taskName: 'legacy-uquery',
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
          streamName: 'newstream',
          taskName: 'newtask',
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
          streamName: 'newstream',
          taskName: 'newtask',
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
          streamName: 'newstream',
          taskName: 'never-transferred',
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
          streamName: 'newstream',
          taskName: 'newtask',
          taskId: '',
          destinationType: '',
          destination: '',
          partitions: [
            { partitionId: 'shardId-0000000000', lastTransferOffset: 5 },
            { partitionId: '1', lastTransferOffset: 6 },
            { partitionId: 'shardId-0000000002', lastTransferOffset: 7 },
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
        expect(parseDumpTask({ ...MINIMAL, ...body }).destination).to.equal(destination);
      });
    }

    it('keeps the destination type as sent', () => {
      expect(parseDumpTask({ ...MINIMAL, destination_type: 'obs' }).destinationType).to.equal('obs');
    });

    it('reads no deliver interval from a description without one', () => {
      const body = { ...MINIMAL, destination_type: 'OBS', obs_destination_description: { obs_bucket_path: 'b' } };
      const task = parseDumpTask(body);
      expect(task).not.to.have.property('deliverIntervalSeconds');
    });
  });

  describe('optional fields', () => {
    it('treats null like missing', () => {
      const task = parseDumpTask({
        ...MINIMAL,
        task_id: null,
        state: null,
        destination_type: null,
        create_time: null,
        last_transfer_timestamp: null,
        partitions: null,
      });
      expect(task).to.deep.equal({
        streamName: 'newstream',
        taskName: 'newtask',
        taskId: '',
        destinationType: '',
        destination: '',
        partitions: [],
      });
    });

    it('keeps an empty state string as sent', () => {
      expect(parseDumpTask({ ...MINIMAL, state: '' }).state).to.equal('');
    });

    it('turns a -0 offset into 0', () => {
      const task = parseDumpTask({ ...MINIMAL, partitions: [{ partitionId: 'p', last_transfer_offset: -0 }] });
      expect(Object.is(task.partitions[0]?.lastTransferOffset, 0)).to.equal(true);
    });

    it('accepts the largest safe integer', () => {
      const partitions = [{ partitionId: 'p', last_transfer_offset: '9007199254740991' }];
      const task = parseDumpTask({ ...MINIMAL, partitions });
      expect(task.partitions[0]?.lastTransferOffset).to.equal(9007199254740991);
    });

    it('treats a "0" timestamp string like 0', () => {
      expect(parseDumpTask({ ...MINIMAL, create_time: '0' })).not.to.have.property('createTimeMs');
    });
  });

  describe('immutability', () => {
    it('freezes the task, its partitions array and each partition', () => {
      const task = parseFixture('obs-two-partitions.json');
      expect(Object.isFrozen(task)).to.equal(true);
      expect(Object.isFrozen(task.partitions)).to.equal(true);
      expect(task.partitions.map((partition) => Object.isFrozen(partition))).to.deep.equal([true, true]);
      expect(() => {
        (task as { taskName: string }).taskName = 'changed';
      }).to.throw(TypeError);
    });

    it('freezes an empty partitions array too', () => {
      expect(Object.isFrozen(parseFixture('missing-optional-fields.json').partitions)).to.equal(true);
    });
  });

  describe('bad bodies', () => {
    const partition = { partitionId: 'shardId-0000000000', last_transfer_offset: 1 };
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
      { body: { ...MINIMAL, task_id: 7 }, field: 'task_id', message: 'task_id: must be a string (got 7)' },
      { body: { ...MINIMAL, state: {} }, field: 'state', message: 'state: must be a string (got object)' },
      { body: { ...MINIMAL, state: 1 }, field: 'state', message: 'state: must be a string (got 1)' },
      {
        body: { ...MINIMAL, destination_type: true },
        field: 'destination_type',
        message: 'destination_type: must be a string (got true)',
      },
      {
        body: { ...MINIMAL, create_time: 'abc' },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got "abc")',
      },
      {
        body: { ...MINIMAL, create_time: -1 },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got -1)',
      },
      {
        body: { ...MINIMAL, create_time: '-1' },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got "-1")',
      },
      {
        body: { ...MINIMAL, create_time: 1.5 },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got 1.5)',
      },
      {
        body: { ...MINIMAL, create_time: '1e3' },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got "1e3")',
      },
      {
        body: { ...MINIMAL, create_time: '' },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got "")',
      },
      {
        body: { ...MINIMAL, create_time: ' 1606554932552' },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got " 1606554932552")',
      },
      {
        body: { ...MINIMAL, create_time: Number.POSITIVE_INFINITY },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got Infinity)',
      },
      {
        body: { ...MINIMAL, create_time: Number.NaN },
        field: 'create_time',
        message: 'create_time: must be a non-negative integer (got NaN)',
      },
      {
        body: { ...MINIMAL, last_transfer_timestamp: true },
        field: 'last_transfer_timestamp',
        message: 'last_transfer_timestamp: must be a non-negative integer (got true)',
      },
      {
        body: { ...MINIMAL, last_transfer_timestamp: { ms: 1 } },
        field: 'last_transfer_timestamp',
        message: 'last_transfer_timestamp: must be a non-negative integer (got object)',
      },
      {
        body: { ...MINIMAL, create_time: '9007199254740993' },
        field: 'create_time',
        message: 'create_time: must be at most 9007199254740991 (got "9007199254740993")',
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
      {
        body: { ...MINIMAL, partitions: [null] },
        field: 'partitions[0]',
        message: 'partitions[0]: must be an object (got null)',
      },
      {
        body: { ...MINIMAL, partitions: [partition, ['shardId-0000000001']] },
        field: 'partitions[1]',
        message: 'partitions[1]: must be an object (got array)',
      },
      {
        body: { ...MINIMAL, partitions: [partition, { last_transfer_offset: 1 }] },
        field: 'partitions[1].partitionId',
        message: 'partitions[1].partitionId: is required',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: 3 }] },
        field: 'partitions[0].partitionId',
        message: 'partitions[0].partitionId: must be a non-empty string (got 3)',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: '' }] },
        field: 'partitions[0].partitionId',
        message: 'partitions[0].partitionId: must be a non-empty string (got "")',
      },
      {
        body: { ...MINIMAL, partitions: [{ partition_id: -1 }] },
        field: 'partitions[0].partition_id',
        message: 'partitions[0].partition_id: must be a non-empty string or a non-negative integer (got -1)',
      },
      {
        body: { ...MINIMAL, partitions: [{ partition_id: 0.5 }] },
        field: 'partitions[0].partition_id',
        message: 'partitions[0].partition_id: must be a non-empty string or a non-negative integer (got 0.5)',
      },
      {
        body: { ...MINIMAL, partitions: [partition, { partitionId: 'shardId-0000000001' }, partition] },
        field: 'partitions[2].partitionId',
        message: 'partitions[2].partitionId: duplicate "shardId-0000000000" (first at partitions[0])',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: '0' }, { partition_id: 0 }] },
        field: 'partitions[1].partition_id',
        message: 'partitions[1].partition_id: duplicate "0" (first at partitions[0])',
      },
      {
        // Found by the fast-check property (parse-properties.test.ts): a duplicate was quoted whole, so a long id made an
        // error message (logged, shown on the landing page) as long as the id.
        body: { ...MINIMAL, partitions: [{ partitionId: 'p'.repeat(300) }, { partitionId: 'p'.repeat(300) }] },
        field: 'partitions[1].partitionId',
        message: `partitions[1].partitionId: duplicate "${'p'.repeat(40)}…" (first at partitions[0])`,
      },
      {
        body: { ...MINIMAL, partitions: [partition, partition, { partitionId: 'p2', last_transfer_offset: -5 }] },
        field: 'partitions[1].partitionId',
        message: 'partitions[1].partitionId: duplicate "shardId-0000000000" (first at partitions[0])',
      },
      {
        body: {
          ...MINIMAL,
          partitions: [partition, { partitionId: 'p1' }, { partitionId: 'p2', last_transfer_offset: -5 }],
        },
        field: 'partitions[2].last_transfer_offset',
        message: 'partitions[2].last_transfer_offset: must be a non-negative integer (got -5)',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: 'p0', discard: {} }] },
        field: 'partitions[0].discard',
        message: 'partitions[0].discard: must be a non-negative integer (got object)',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: 'p0', last_transfer_timestamp: 'yesterday' }] },
        field: 'partitions[0].last_transfer_timestamp',
        message: 'partitions[0].last_transfer_timestamp: must be a non-negative integer (got "yesterday")',
      },
      {
        body: { ...MINIMAL, partitions: [{ partitionId: 'p0', state: false }] },
        field: 'partitions[0].state',
        message: 'partitions[0].state: must be a string (got false)',
      },
      {
        body: { ...MINIMAL, destination_type: 'OBS', obs_destination_description: 'obsbucket' },
        field: 'obs_destination_description',
        message: 'obs_destination_description: must be an object (got "obsbucket")',
      },
      {
        body: { ...MINIMAL, destination_type: 'OBS', obs_destination_description: [] },
        field: 'obs_destination_description',
        message: 'obs_destination_description: must be an object (got array)',
      },
      {
        body: { ...MINIMAL, destination_type: 'OBS', obs_destination_description: { obs_bucket_path: 5 } },
        field: 'obs_destination_description.obs_bucket_path',
        message: 'obs_destination_description.obs_bucket_path: must be a string (got 5)',
      },
      {
        body: { ...MINIMAL, destination_type: 'OBS', obs_destination_description: { deliver_time_interval: '60s' } },
        field: 'obs_destination_description.deliver_time_interval',
        message: 'obs_destination_description.deliver_time_interval: must be a non-negative integer (got "60s")',
      },
      {
        body: { ...MINIMAL, destination_type: 'DWS', dws_destination_descripton: { dws_cluster_name: 1 } },
        field: 'dws_destination_descripton.dws_cluster_name',
        message: 'dws_destination_descripton.dws_cluster_name: must be a string (got 1)',
      },
      {
        body: { ...MINIMAL, destination_type: 'CLOUDTABLE', cloudtable_destination_description: true },
        field: 'cloudtable_destination_description',
        message: 'cloudtable_destination_description: must be an object (got true)',
      },
      {
        body: {
          ...MINIMAL,
          destination_type: 'DLI',
          dli_destination_description: { dli_database_name: 'db', dli_table_name: null, deliver_time_interval: -30 },
        },
        field: 'dli_destination_description.deliver_time_interval',
        message: 'dli_destination_description.deliver_time_interval: must be a non-negative integer (got -30)',
      },
    ];

    for (const { body, field, message } of cases) {
      it(message, () => {
        const error = responseErrorOf(() => parseDumpTask(body));
        expect(error.message).to.equal(message);
        expect(error.field).to.equal(field);
      });
    }

    it('quotes at most 40 characters of a bad string', () => {
      const error = responseErrorOf(() => parseDumpTask({ ...MINIMAL, create_time: 'z'.repeat(41) }));
      expect(error.message).to.equal(`create_time: must be a non-negative integer (got "${'z'.repeat(40)}…")`);
    });

    it('never cuts a quoted string inside a surrogate pair', () => {
      const error = responseErrorOf(() => parseDumpTask({ ...MINIMAL, create_time: `${'z'.repeat(39)}\u{1F600}tail` }));
      expect(error.message).to.equal(`create_time: must be a non-negative integer (got "${'z'.repeat(39)}…")`);
    });

    it('quotes a 40-character bad string whole', () => {
      const error = responseErrorOf(() => parseDumpTask({ ...MINIMAL, create_time: 'z'.repeat(40) }));
      expect(error.message).to.equal(`create_time: must be a non-negative integer (got "${'z'.repeat(40)}")`);
    });

    it('raises a bad_response DisResponseError', () => {
      const error = responseErrorOf(() => parseDumpTask({ stream_name: 'newstream' }));
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
