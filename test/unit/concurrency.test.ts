import { expect } from 'chai';
import { mapWithConcurrency } from '../../src/poll/concurrency.js';
import { flush } from '../helpers/manual-clock.js';

/** A job the test finishes by hand. */
type Pending = { item: number; resolve: (value: number) => void; reject: (error: Error) => void };

function controlledWork() {
  const pending: Pending[] = [];
  const started: number[] = [];
  const work = (item: number): Promise<number> =>
    new Promise((resolve, reject) => {
      started.push(item);
      pending.push({ item, resolve, reject });
    });
  const settle = (item: number, outcome: number | Error): void => {
    const job = pending.find((p) => p.item === item)!;
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  };
  return { work, started, settle };
}

describe('mapWithConcurrency', () => {
  it('keeps at most `limit` items in flight and the results in the order of the items', async () => {
    const { work, started, settle } = controlledWork();
    const done = mapWithConcurrency([1, 2, 3, 4, 5], 2, work);
    await flush();
    expect(started).to.deep.equal([1, 2]);
    settle(2, 20);
    await flush();
    expect(started).to.deep.equal([1, 2, 3]);
    settle(1, 10);
    settle(3, 30);
    await flush();
    expect(started).to.deep.equal([1, 2, 3, 4, 5]);
    settle(5, 50);
    settle(4, 40);
    expect(await done).to.deep.equal([10, 20, 30, 40, 50]);
  });

  it('starts no further item after a failure, and rejects with it', async () => {
    const { work, started, settle } = controlledWork();
    const done = mapWithConcurrency([1, 2, 3, 4, 5], 2, work);
    const outcome = done.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await flush();
    settle(1, new Error('list call failed'));
    await flush();
    settle(2, 20);
    await flush();
    expect(started).to.deep.equal([1, 2]);
    expect(await outcome).to.equal('list call failed');
  });

  it('answers [] for no items', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).to.deep.equal([]);
  });
});
