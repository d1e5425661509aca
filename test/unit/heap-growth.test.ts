import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { HEAP_GROWING_PERCENT, SMALL_HEAP_LIMIT_BYTES, relaxHeapGrowth } from '../../src/heap-growth.js';

describe('relaxHeapGrowth', () => {
  it('leaves V8 alone when the heap limit is 1 GiB or more (V8 already lets a large heap grow)', () => {
    expect(relaxHeapGrowth(SMALL_HEAP_LIMIT_BYTES)).to.equal(false);
    expect(relaxHeapGrowth(4 * 1024 ** 3)).to.equal(false);
  });

  it('under a container-sized cap, sets a growing percent this V8 accepts', function () {
    this.timeout(30_000);
    // In a node of its own with the Helm chart's cap for 256Mi: V8 reports an unknown or malformed flag on stderr.
    const script = `
      import { relaxHeapGrowth } from ${JSON.stringify(new URL('../../src/heap-growth.ts', import.meta.url).href)};
      import { getHeapStatistics } from 'node:v8';
      process.stdout.write(JSON.stringify({ relaxed: relaxHeapGrowth(), limitMB: Math.round(getHeapStatistics().heap_size_limit / 1048576) }));
    `;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--max-old-space-size=153', '--input-type=module', '--eval', script],
      { encoding: 'utf8' },
    );
    expect(child.stderr).to.equal('');
    const { relaxed, limitMB } = JSON.parse(child.stdout) as { relaxed: boolean; limitMB: number };
    expect(relaxed).to.equal(true);
    expect(limitMB).to.be.below(SMALL_HEAP_LIMIT_BYTES / 1024 ** 2);
    expect(HEAP_GROWING_PERCENT).to.equal(100);
  });
});
