import { expect } from 'chai';
import { appShardOf, ownedAppPairs, ownedTargets, shardOf } from '../../src/poll/shard.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const targets = Array.from({ length: 200 }, (_, i) => ({ stream: `stream-${i % 17}`, task: `task-${i}` }));

describe('sharding', () => {
  it('splits a target set between shards with no overlap and no gap', () => {
    for (const total of [2, 3, 7]) {
      const shards = Array.from({ length: total }, (_, index) => ownedTargets(PROJECT, targets, { index, total }));
      const all = shards.flat().map((t) => `${t.stream}/${t.task}`);
      expect(all.length).to.equal(targets.length);
      expect(new Set(all).size).to.equal(targets.length);
      // roughly even: every shard owns at least half its fair share
      for (const shard of shards) expect(shard.length).to.be.greaterThan(targets.length / total / 2);
    }
  });

  it('is stable across runs and replicas (a pinned value)', () => {
    // sha256("p/orders/orders-to-obs"): first 4 bytes big-endian, mod 1000; pinned so a change of hash is noticed
    expect(shardOf('p', { stream: 'orders', task: 'orders-to-obs' }, 1000)).to.equal(736);
  });

  it('depends on the project id too', () => {
    const a = targets.map((t) => shardOf('project-a', t, 2));
    const b = targets.map((t) => shardOf('project-b', t, 2));
    expect(a).not.to.deep.equal(b);
  });

  it('keeps everything with one shard, in order', () => {
    expect(ownedTargets(PROJECT, targets, { index: 0, total: 1 })).to.deep.equal(targets);
  });

  it('keeps every pair of an app on one shard, and splits the apps between shards', () => {
    const pairs = Array.from({ length: 120 }, (_, i) => ({ app: `app-${i % 30}`, stream: `stream-${i}` }));
    const total = 3;
    const shards = Array.from({ length: total }, (_, index) => ownedAppPairs(PROJECT, pairs, { index, total }));
    expect(shards.flat()).to.have.lengthOf(pairs.length);
    expect(new Set(shards.flat().map((p) => p.stream)).size).to.equal(pairs.length);
    for (const [index, shard] of shards.entries()) {
      expect(shard.length).to.be.greaterThan(pairs.length / total / 2);
      for (const { app } of shard) expect(appShardOf(PROJECT, app, total)).to.equal(index);
    }
    expect(ownedAppPairs(PROJECT, pairs, { index: 0, total: 1 })).to.deep.equal(pairs);
    // sha256("p app billing"): pinned like the targets' hash
    expect(appShardOf('p', 'billing', 1000)).to.equal(136);
  });
});
