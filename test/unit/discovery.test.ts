import { expect } from 'chai';
import type { TargetSelector } from '../../src/config/types.js';
import { DisHttpError } from '../../src/dis/errors.js';
import { discover, nameMatches, uniqueTargets, type DiscoveryClient } from '../../src/poll/discovery.js';

const STREAMS: Record<string, string[]> = {
  'prod-orders': ['orders-to-obs', 'orders-to-dli'],
  'prod-clicks-test': ['clicks-to-obs'],
  'dev-orders': ['dev-to-obs'],
};

function fakeClient(overrides: Partial<DiscoveryClient> = {}): DiscoveryClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async listStreams() {
      calls.push('list_streams');
      return Object.keys(STREAMS);
    },
    async listDumpTasks(stream) {
      calls.push(`list_transfer_tasks ${stream}`);
      const tasks = STREAMS[stream];
      if (tasks === undefined)
        throw new DisHttpError({ method: 'GET', path: '/x', statusCode: 400, apiCode: 'DIS.4301' });
      return tasks.map((taskName) => ({ taskName, state: 'RUNNING' }));
    },
    ...overrides,
  };
}

describe('discovery', () => {
  it('resolves concrete pairs, task "*" and stream "*" with include/exclude, sorted', async () => {
    const selectors: TargetSelector[] = [
      { stream: 'legacy', task: 'manual' },
      { stream: 'prod-orders', task: '*', exclude: '-dli$' },
      { stream: '*', task: '*', include: '^prod-', exclude: '-test$' },
    ];
    const client = fakeClient();
    const result = await discover(selectors, undefined, client, { concurrency: 2 });
    expect(result.failures).to.deep.equal([]);
    expect(result.perSelector).to.deep.equal([
      [{ stream: 'legacy', task: 'manual' }],
      [{ stream: 'prod-orders', task: 'orders-to-obs' }],
      [
        { stream: 'prod-orders', task: 'orders-to-dli' },
        { stream: 'prod-orders', task: 'orders-to-obs' },
      ],
    ]);
    expect(uniqueTargets(result.perSelector)).to.deep.equal([
      { stream: 'legacy', task: 'manual' },
      { stream: 'prod-orders', task: 'orders-to-obs' },
      { stream: 'prod-orders', task: 'orders-to-dli' },
    ]);
    // no list call for the concrete pair; one stream list; the excluded streams' tasks are never listed
    expect(client.calls.sort()).to.deep.equal([
      'list_streams',
      'list_transfer_tasks prod-orders',
      'list_transfer_tasks prod-orders',
    ]);
  });

  it('keeps the previous result of a selector whose list call fails, and reports the failure', async () => {
    const selectors: TargetSelector[] = [
      { stream: 'prod-orders', task: '*' },
      { stream: 'dev-orders', task: '*' },
    ];
    const first = await discover(selectors, undefined, fakeClient(), { concurrency: 1 });
    const boom = new DisHttpError({ method: 'GET', path: '/x', statusCode: 500 });
    const failing = fakeClient({
      async listDumpTasks(stream) {
        if (stream === 'dev-orders') throw boom;
        return [{ taskName: 'orders-to-obs' }];
      },
    });
    const second = await discover(selectors, first.perSelector, failing, { concurrency: 1 });
    expect(second.perSelector).to.deep.equal([
      [{ stream: 'prod-orders', task: 'orders-to-obs' }],
      [{ stream: 'dev-orders', task: 'dev-to-obs' }],
    ]);
    expect(second.failures).to.deep.equal([{ selector: selectors[1], error: boom }]);
  });

  it('treats a stream that is gone (not_found) as having no tasks, not as a failure', async () => {
    const result = await discover([{ stream: 'deleted', task: '*' }], undefined, fakeClient(), { concurrency: 1 });
    expect(result).to.deep.equal({ perSelector: [[]], failures: [] });
  });

  it('matches include and exclude as regular expressions', () => {
    const selector = { stream: '*', task: '*', include: '^prod-', exclude: '-test$' };
    expect(['prod-a', 'prod-a-test', 'dev-a'].map((name) => nameMatches(selector, name))).to.deep.equal([
      true,
      false,
      false,
    ]);
    expect(nameMatches({ stream: 's', task: '*' }, 'anything')).to.equal(true);
  });

  const filters: ReadonlyArray<{ include?: string; exclude?: string; kept: string[] }> = [
    { kept: ['prod-a', 'prod-a-test', 'stage-b', 'x'] },
    { include: '^prod-', kept: ['prod-a', 'prod-a-test'] },
    { exclude: '-test$', kept: ['prod-a', 'stage-b', 'x'] },
    { include: '^prod-', exclude: '-test$', kept: ['prod-a'] },
    { include: 'a', kept: ['prod-a', 'prod-a-test', 'stage-b'] },
  ];
  for (const { include, exclude, kept } of filters) {
    it(`nameMatches include ${String(include)} exclude ${String(exclude)}: unanchored, exclude wins`, () => {
      const selector = { stream: '*', task: '*', include, exclude };
      expect(['prod-a', 'prod-a-test', 'stage-b', 'x'].filter((name) => nameMatches(selector, name))).to.deep.equal(
        kept,
      );
    });
  }
});
