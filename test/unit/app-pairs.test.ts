import { expect } from 'chai';
import type { AppSummary } from '../../src/dis/types.js';
import { appPairs } from '../../src/poll/app-pairs.js';

// Which app/stream pairs the `apps` selectors stand for, given the app listing (docs/configuration.md ("Consumer
// apps")).

const LISTING: readonly AppSummary[] = [
  { appName: 'audit', appId: 'a1', streams: ['orders', 'clicks'] },
  { appName: 'billing', appId: 'b1', streams: ['orders'] },
  // The reference's listing has no commit_checkpoint_stream_names: which streams this app reads is not known.
  { appName: 'legacy', appId: 'l1' },
  { appName: 'idle', appId: 'i1', streams: [] },
];

const pairs = (list: ReturnType<typeof appPairs>) => list.map(({ app, stream }) => `${app}/${stream}`);

describe('appPairs', () => {
  it('takes a concrete pair as it is, listed or not, even before the first listing', () => {
    expect(pairs(appPairs([{ app: 'billing', stream: 'orders' }], LISTING))).to.deep.equal(['billing/orders']);
    expect(pairs(appPairs([{ app: 'gone', stream: 'orders' }], LISTING))).to.deep.equal(['gone/orders']);
    expect(pairs(appPairs([{ app: 'billing', stream: 'orders' }], undefined))).to.deep.equal(['billing/orders']);
  });

  it('takes an app in every stream it checkpoints; nothing for an app not listed or not listed yet', () => {
    expect(pairs(appPairs([{ app: 'audit', stream: '*' }], LISTING))).to.deep.equal(['audit/orders', 'audit/clicks']);
    expect(pairs(appPairs([{ app: 'legacy', stream: '*' }], LISTING))).to.deep.equal([]);
    expect(pairs(appPairs([{ app: 'gone', stream: '*' }], LISTING))).to.deep.equal([]);
    expect(pairs(appPairs([{ app: 'audit', stream: '*' }], undefined))).to.deep.equal([]);
  });

  it('takes every app of a stream: those naming it, and those whose streams are unknown', () => {
    expect(pairs(appPairs([{ app: '*', stream: 'orders' }], LISTING))).to.deep.equal([
      'audit/orders',
      'billing/orders',
      'legacy/orders',
    ]);
    expect(pairs(appPairs([{ app: '*', stream: 'clicks' }], LISTING))).to.deep.equal(['audit/clicks', 'legacy/clicks']);
  });

  it('takes every listed app in every stream it names, each pair once across selectors', () => {
    const selectors = [
      { app: 'billing', stream: 'orders' },
      { app: '*', stream: '*' },
      { app: 'audit', stream: '*' },
    ];
    expect(pairs(appPairs(selectors, LISTING))).to.deep.equal(['billing/orders', 'audit/orders', 'audit/clicks']);
    expect(appPairs([], LISTING)).to.deep.equal([]);
  });
});
