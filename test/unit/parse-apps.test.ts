import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseJsonBody } from '../../src/dis/parse.js';
import {
  parseAppsPage,
  parseConsumerStatePage,
  type AppsPage,
  type ConsumerStatePage,
} from '../../src/dis/parse-apps.js';
import { responseErrorOf } from '../helpers/errors.js';

// The answers of "Querying Apps" and "Querying App Consumption Status" (docs/dis-api.md ("Consumer apps")): the
// doc examples and the SDK models' shapes as fixtures, then every odd value and every broken shape.

function fixture(name: string): unknown {
  return parseJsonBody(readFileSync(new URL(`../fixtures/dis/${name}`, import.meta.url), 'utf8'));
}

const PAIR = { app: 'billing', stream: 'orders' };

describe('parseAppsPage', () => {
  const cases: ReadonlyArray<{ name: string; body: unknown; expected: AppsPage }> = [
    {
      name: 'the doc example, without commit_checkpoint_stream_names (app-list-doc-example.json)',
      body: fixture('app-list-doc-example.json'),
      expected: { apps: [{ appName: 'newstream', appId: 'bd6IPpvgiIflQPMpi9M' }], hasMore: true },
    },
    {
      name: "the SDK model's shape, with the streams each app checkpoints (app-list-sdk-model.json)",
      body: fixture('app-list-sdk-model.json'),
      expected: {
        apps: [
          { appName: 'billing', appId: 'kpvGNrFYfKjpqTSdPIX', streams: ['orders', 'clicks'] },
          { appName: 'fresh-consumer', appId: 'MtPG1lD1E7IesDuOcNt', streams: [] },
        ],
        hasMore: false,
      },
    },
    {
      name: 'no apps and no has_more_app',
      body: { total_number: 0 },
      expected: { apps: [], hasMore: false },
    },
    {
      name: 'odd optional fields, each left out with an issue',
      body: {
        apps: [
          { app_name: 'a', app_id: 7, commit_checkpoint_stream_names: 'orders' },
          { app_name: 'b', commit_checkpoint_stream_names: ['orders', '', 3, 'orders', 'clicks'] },
        ],
      },
      expected: {
        apps: [
          { appName: 'a', appId: '' },
          { appName: 'b', appId: '', streams: ['orders', 'clicks'] },
        ],
        hasMore: false,
        fieldIssues: [
          { field: 'apps[0].app_id', problem: 'must be a string (got 7)' },
          { field: 'apps[0].commit_checkpoint_stream_names', problem: 'must be an array (got "orders")' },
          {
            field: 'apps[1].commit_checkpoint_stream_names[1]',
            problem: 'must be a non-empty string (got ""); it is left out',
          },
          {
            field: 'apps[1].commit_checkpoint_stream_names[2]',
            problem: 'must be a non-empty string (got 3); it is left out',
          },
        ],
      },
    },
  ];
  for (const { name, body, expected } of cases) {
    it(`parses ${name}`, () => {
      const page = parseAppsPage(body);
      expect(page).to.deep.equal(expected);
      expect(Object.isFrozen(page) && Object.isFrozen(page.apps) && page.apps.every(Object.isFrozen)).to.equal(true);
    });
  }

  const bad: ReadonlyArray<[unknown, string, string]> = [
    [[], '', 'body must be an object (got array)'],
    [{ apps: {} }, 'apps', 'apps: must be an array (got object)'],
    [{ apps: [null] }, 'apps[0]', 'apps[0]: must be an object (got null)'],
    [{ apps: [{ app_id: 'x' }] }, 'apps[0].app_name', 'apps[0].app_name: is required'],
    [{ apps: [{ app_name: '' }] }, 'apps[0].app_name', 'apps[0].app_name: must be a non-empty string (got "")'],
    [
      { apps: [{ app_name: 'a' }, { app_name: 'a' }] },
      'apps[1].app_name',
      'apps[1].app_name: duplicate "a" (first at apps[0].app_name)',
    ],
    [{ has_more_app: 'yes' }, 'has_more_app', 'has_more_app: must be a boolean (got "yes")'],
  ];
  for (const [body, field, message] of bad) {
    it(`refuses ${JSON.stringify(body)}: ${message}`, () => {
      const error = responseErrorOf(() => parseAppsPage(body));
      expect([error.field, error.message]).to.deep.equal([field, message]);
    });
  }
});

describe('parseConsumerStatePage', () => {
  const cases: ReadonlyArray<{ name: string; body: unknown; request?: typeof PAIR; expected: ConsumerStatePage }> = [
    {
      name: 'the doc example: every value a string, a bare partition index (consumer-state-doc-example.json)',
      body: fixture('consumer-state-doc-example.json'),
      request: { app: 'newapp', stream: 'newstream' },
      expected: {
        partitions: [
          {
            partitionId: 'shardId-0000000002',
            hasCheckpoint: true,
            checkpoint: 485,
            latestOffset: 1000,
            earliestOffset: 10,
          },
        ],
        hasMore: false,
        cursor: '2',
      },
    },
    {
      name: "the SDK model's shape: numbers and strings, every id form, no checkpoint yet (consumer-state-sdk-model.json)",
      body: fixture('consumer-state-sdk-model.json'),
      expected: {
        partitions: [
          {
            partitionId: 'shardId-0000000000',
            hasCheckpoint: true,
            checkpoint: 1200,
            latestOffset: 1500,
            earliestOffset: 1000,
          },
          {
            partitionId: 'shardId-0000000001',
            hasCheckpoint: true,
            checkpoint: 900,
            latestOffset: 1500,
            earliestOffset: 1000,
          },
          { partitionId: 'shardId-0000000002', hasCheckpoint: false, latestOffset: 1500, earliestOffset: 0 },
        ],
        hasMore: false,
        cursor: '2',
      },
    },
    {
      name: 'a page that says more, its cursor the last id as sent',
      body: { has_more: true, partition_consuming_states: [{ partition_id: 0, sequence_number: -1 }] },
      expected: {
        partitions: [{ partitionId: 'shardId-0000000000', hasCheckpoint: false }],
        hasMore: true,
        cursor: '0',
      },
    },
    {
      name: 'no partitions, no echoes',
      body: {},
      expected: { partitions: [], hasMore: false },
    },
    {
      name: 'odd values, each costing only its field; other echoed names kept out of the data',
      body: {
        app_name: 'other-app',
        stream_name: 'orders',
        partition_consuming_states: [
          { partition_id: '0', sequence_number: '-2', latest_offset: '1e3', earliest_offset: -1 },
          { partition_id: '1', sequence_number: 'abc', latest_offset: 9007199254740993 },
          { partition_id: 'shardId-2', latest_offset: 5 },
          { sequence_number: '1' },
          { partition_id: 3, sequence_number: 1 },
          { partition_id: '3', sequence_number: 2 },
        ],
      },
      expected: {
        partitions: [
          { partitionId: 'shardId-0000000000' },
          { partitionId: 'shardId-0000000001' },
          { partitionId: 'shardId-0000000002', latestOffset: 5 },
        ],
        hasMore: false,
        cursor: '3',
        fieldIssues: [
          { field: 'app_name', problem: 'is "other-app" where "billing" was asked for; the series keep "billing"' },
          {
            field: 'partition_consuming_states[3].partition_id',
            problem: 'is required; the partition is left out',
          },
          {
            field: 'partition_consuming_states[5].partition_id',
            problem:
              'repeats "shardId-0000000003" (first at partition_consuming_states[4]); every partition with it is left out',
          },
          {
            field: 'partition_consuming_states[shardId-0000000000].sequence_number',
            problem: 'must be a non-negative integer (got "-2")',
          },
          {
            field: 'partition_consuming_states[shardId-0000000000].latest_offset',
            problem: 'must be a non-negative integer (got "1e3")',
          },
          {
            field: 'partition_consuming_states[shardId-0000000000].earliest_offset',
            problem: `is -1 (DIS's "none")`,
          },
          {
            field: 'partition_consuming_states[shardId-0000000001].sequence_number',
            problem: 'must be a non-negative integer (got "abc")',
          },
          {
            field: 'partition_consuming_states[shardId-0000000001].latest_offset',
            problem: 'must be at most 9007199254740991 (got 9007199254740992)',
          },
        ],
      },
    },
  ];
  for (const { name, body, request, expected } of cases) {
    it(`parses ${name}`, () => {
      const page = parseConsumerStatePage(body, request ?? PAIR);
      expect(page).to.deep.equal(expected);
      expect(Object.isFrozen(page) && Object.isFrozen(page.partitions)).to.equal(true);
    });
  }

  const bad: ReadonlyArray<[unknown, string, string]> = [
    ['[]', '', 'body must be an object (got "[]")'],
    [
      { partition_consuming_states: {} },
      'partition_consuming_states',
      'partition_consuming_states: must be an array (got object)',
    ],
    [{ has_more: 1 }, 'has_more', 'has_more: must be a boolean (got 1)'],
  ];
  for (const [body, field, message] of bad) {
    it(`refuses ${JSON.stringify(body)}: ${message}`, () => {
      const error = responseErrorOf(() => parseConsumerStatePage(body, PAIR));
      expect([error.field, error.message]).to.deep.equal([field, message]);
    });
  }
});
