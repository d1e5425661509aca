import { expect } from 'chai';
import { expiredRecords, isFresh, isServable, lagRecords, lagSeconds } from '../../src/poll/lag-and-staleness.js';
import type { TargetStatus } from '../../src/poll/store.js';

const T0 = Date.UTC(2024, 0, 1);
const STALE_AFTER_MS = 300_000;
const target = { stream: 's', task: 't' };
const task = { taskId: 'id', destinationType: 'OBS', destination: 'b', partitions: [] };
const range = { partitionId: 'shardId-0000000000', startOffset: 100, endOffset: 500 };

describe('lag and staleness: the rules the renderer, the reference and the poller share', () => {
  it('serves a target that is up, or failing for at most staleAfter since its last success', () => {
    const failing = (sinceMs: number): TargetStatus => ({
      projectId: 'p',
      target,
      up: false,
      task,
      lastSuccessMs: T0 - sinceMs,
      errors: {},
    });
    expect(isServable({ projectId: 'p', target, up: true, task, errors: {} }, T0, STALE_AFTER_MS)).to.equal(true);
    expect(isServable(failing(STALE_AFTER_MS), T0, STALE_AFTER_MS)).to.equal(true);
    expect(isServable(failing(STALE_AFTER_MS + 1), T0, STALE_AFTER_MS)).to.equal(false);
    expect(isServable({ projectId: 'p', target, up: true, errors: {} }, T0, STALE_AFTER_MS)).to.equal(false);
    expect(isServable({ projectId: 'p', target, up: false, task, errors: {} }, T0, STALE_AFTER_MS)).to.equal(false);
  });

  it('serves stream details for at most staleAfter after their last success, and never without details', () => {
    const details = { partitions: [range] };
    expect(
      isFresh({ projectId: 'p', stream: 's', details, lastSuccessMs: T0 - STALE_AFTER_MS }, T0, STALE_AFTER_MS),
    ).to.equal(true);
    expect(
      isFresh({ projectId: 'p', stream: 's', details, lastSuccessMs: T0 - STALE_AFTER_MS - 1 }, T0, STALE_AFTER_MS),
    ).to.equal(false);
    expect(isFresh({ projectId: 'p', stream: 's', details }, T0, STALE_AFTER_MS)).to.equal(false);
    expect(isFresh({ projectId: 'p', stream: 's', lastSuccessMs: T0 }, T0, STALE_AFTER_MS)).to.equal(false);
  });

  it('gives the lag in seconds against the scrape time, never below 0', () => {
    expect(lagSeconds(T0, T0 - 61_500)).to.equal(61.5);
    expect(lagSeconds(T0, T0 + 5_000)).to.equal(0);
  });

  it('gives records waiting and records expired from the range and the dump offset, never below 0', () => {
    expect([lagRecords(range, 120), expiredRecords(range, 120)]).to.deep.equal([380, 0]);
    expect([lagRecords(range, 40), expiredRecords(range, 40)]).to.deep.equal([460, 60]);
    expect([lagRecords(range, 600), expiredRecords(range, 600)]).to.deep.equal([0, 0]);
  });

  it('knows neither without the whole range or without the offset', () => {
    const unknown = [
      [undefined, 120],
      [range, undefined],
      [{ partitionId: range.partitionId }, 120],
      [{ partitionId: range.partitionId, endOffset: 500 }, 120],
      [{ partitionId: range.partitionId, startOffset: 100 }, 120],
    ] as const;
    for (const [partial, offset] of unknown) {
      expect([lagRecords(partial, offset), expiredRecords(partial, offset)]).to.deep.equal([undefined, undefined]);
    }
  });
});
