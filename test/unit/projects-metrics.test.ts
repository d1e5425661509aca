import { expect } from 'chai';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createExposition } from '../../src/metrics/exposition.js';
import { renderExposition, renderMetrics } from '../../src/metrics/render.js';
import type { Snapshot } from '../../src/poll/store.js';
import { registerDisMetrics } from '../reference/collector.js';
import { toSamples } from '../reference/samples.js';
import { SCRAPE_MS, fixedSnapshot } from '../helpers/snapshots.js';

// Every series takes project_id from its own target or stream (docs/metrics.md ("Labels and values")): the /metrics
// writer and the prom-client reference agree byte for byte on a snapshot of two projects with the same names.

const OTHER = 'other-project';
const OPTIONS = { staleAfterMs: 300_000 };

/** The fixed snapshot twice: as it is, and in another project whose orders stream is 100,000 records further on. */
const twoProjects: Snapshot = {
  ...fixedSnapshot,
  streams: [
    ...fixedSnapshot.streams,
    ...fixedSnapshot.streams.map((status) => ({
      ...status,
      projectId: OTHER,
      ...(status.details === undefined
        ? {}
        : {
            details: {
              partitions: status.details.partitions.map((p) =>
                p.endOffset === undefined ? p : { ...p, endOffset: p.endOffset + 100_000 },
              ),
            },
          }),
    })),
  ],
  targets: [...fixedSnapshot.targets, ...fixedSnapshot.targets.map((status) => ({ ...status, projectId: OTHER }))],
};

async function served(snapshot: Snapshot, openMetrics: boolean): Promise<string> {
  const exposition = createExposition({ ...OPTIONS, pollIntervalMs: 60_000, logger: pino({ level: 'silent' }) });
  const source = { exposition, registry: new Registry(), snapshot: () => snapshot, now: () => SCRAPE_MS };
  let text = '';
  for await (const chunk of renderExposition(source, openMetrics)) text += chunk;
  return text;
}

describe('metrics of several projects', () => {
  it('are written as the prom-client reference writes them, in both formats', async () => {
    const reference = new Registry();
    registerDisMetrics(reference, {
      pollIntervalMs: 60_000,
      logger: pino({ level: 'silent' }),
      compute: () => toSamples(twoProjects, SCRAPE_MS, OPTIONS),
    });
    expect(await served(twoProjects, false)).to.equal(await reference.metrics());
    expect(await served(twoProjects, true)).to.equal(await renderMetrics(reference, true));
  });

  it("join each task to its own project's stream of the same name", async () => {
    const text = await served(twoProjects, false);
    const lagRecords = text
      .split('\n')
      .filter(
        (line) => line.startsWith('dis_dump_task_partition_lag_records{') && line.includes('task="orders-to-obs"'),
      )
      .map((line) => `${/project_id="([^"]+)"/.exec(line)?.[1]} ${line.slice(line.lastIndexOf(' ') + 1)}`);
    // shardId-0000000000 then -0000000001, in each project: 290,000 - 289,897 and 2,500 - 1,000, then 100,000 more
    expect(lagRecords).to.deep.equal([
      '0123456789abcdef0123456789abcdef 103',
      '0123456789abcdef0123456789abcdef 1500',
      'other-project 100103',
      'other-project 101500',
    ]);
    expect(text).to.include(
      `dis_stream_partition_end_offset{project_id="${OTHER}",stream="orders",partition="shardId-0000000000"} 390000\n`,
    );
  });
});
