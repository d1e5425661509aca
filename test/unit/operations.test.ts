import { expect } from 'chai';
import {
  dumpTaskListRequest,
  dumpTaskRequest,
  mergeStreamDetails,
  STREAM_NAMES_LISTING,
  streamDetailsListing,
} from '../../src/dis/operations.js';
import type { StreamDetailsPage } from '../../src/dis/parse.js';

const NOW = Date.UTC(2024, 0, 1);

describe('DIS operations (paths, queries, pages)', () => {
  it('percent-encodes stream and task names as path segments', () => {
    const details = dumpTaskRequest('a b', 'c/d', () => NOW);
    expect([details.operation, details.path]).to.deep.equal([
      'show_transfer_task',
      '/streams/a%20b/transfer-tasks/c%2Fd',
    ]);
    const list = dumpTaskListRequest('s/1');
    expect([list.operation, list.path]).to.deep.equal(['list_transfer_tasks', '/streams/s%2F1/transfer-tasks']);
  });

  it('reads the clock when the dump task answer is parsed, not when the request is made', () => {
    let reads = 0;
    const request = dumpTaskRequest('s1', 't1', () => {
      reads += 1;
      return NOW;
    });
    expect(reads).to.equal(0);
    const task = request.parse({ stream_name: 's1', task_name: 't1', state: 'RUNNING', partitions: [] });
    expect(reads).to.equal(1);
    expect(task.state).to.equal('RUNNING');
  });

  it('asks for 100 stream names a page, starting after the cursor, RFC 3986-encoded', () => {
    expect(STREAM_NAMES_LISTING.operation).to.equal('list_streams');
    expect(STREAM_NAMES_LISTING.path(undefined)).to.equal('/streams?limit=100');
    expect(STREAM_NAMES_LISTING.path("it's (a)*! b+c")).to.equal(
      '/streams?limit=100&start_stream_name=it%27s%20%28a%29%2A%21%20b%2Bc',
    );
    const page = { names: ['s1', 's2'], hasMore: true };
    expect([STREAM_NAMES_LISTING.keys(page), STREAM_NAMES_LISTING.cursor(page)]).to.deep.equal([['s1', 's2'], 's2']);
    expect(STREAM_NAMES_LISTING.cursor({ names: [], hasMore: true })).to.equal(undefined);
  });

  it('asks for 1000 partitions a page, starting after the id DIS sent last', () => {
    const listing = streamDetailsListing('my stream');
    expect(listing.operation).to.equal('show_stream');
    expect(listing.path(undefined)).to.equal('/streams/my%20stream?limit_partitions=1000');
    expect(listing.path('shardId-2')).to.equal(
      '/streams/my%20stream?limit_partitions=1000&start_partitionId=shardId-2',
    );
    const page: StreamDetailsPage = {
      facts: {},
      partitions: [{ partitionId: 'shardId-0000000001' }, { partitionId: 'shardId-0000000002' }],
      hasMore: true,
      cursor: 'shardId-2',
    };
    expect([listing.keys(page), listing.cursor(page)]).to.deep.equal([
      ['shardId-0000000001', 'shardId-0000000002'],
      'shardId-2',
    ]);
  });

  it('joins the pages of stream details, keeping the first issue of each field', () => {
    const details = mergeStreamDetails([
      {
        facts: { status: 'FROZEN', retentionHours: 24 },
        partitions: [{ partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 5 }],
        hasMore: true,
        fieldIssues: [{ field: 'stream_name', problem: 'is "other", not "s1"' }],
      },
      {
        // Every page repeats the stream's own fields: the first page's are kept.
        facts: { status: 'RUNNING', retentionHours: 48 },
        partitions: [{ partitionId: 'shardId-0000000001', status: 'EXPIRED' }],
        hasMore: false,
        fieldIssues: [
          { field: 'stream_name', problem: 'is "other", not "s1"' },
          { field: 'partitions[1].status', problem: 'must be a string' },
        ],
      },
    ]);
    expect(details).to.deep.equal({
      status: 'FROZEN',
      retentionHours: 24,
      partitions: [
        { partitionId: 'shardId-0000000000', startOffset: 0, endOffset: 5 },
        { partitionId: 'shardId-0000000001', status: 'EXPIRED' },
      ],
      fieldIssues: [
        { field: 'stream_name', problem: 'is "other", not "s1"' },
        { field: 'partitions[1].status', problem: 'must be a string' },
      ],
    });
    expect(Object.isFrozen(details) && Object.isFrozen(details.partitions)).to.equal(true);
    expect(mergeStreamDetails([{ facts: {}, partitions: [], hasMore: false }])).to.deep.equal({ partitions: [] });
  });
});
