import type { StateSets } from '../config/types.js';
import type { StreamPartition } from '../dis/types.js';
import type { Snapshot } from '../poll/store.js';
import { expiredRecords, isFresh, isServable, lagRecords, lagSeconds } from '../poll/lag-and-staleness.js';
import { PARTITION_STATUSES, judge, type Verdict } from '../poll/verdict.js';
import { escapeLabelValue, type LabelText, type PartitionText, type TargetText } from './label-text.js';
import { ERROR_REASONS, KNOWN_STATES, type FamilyKey } from './names.js';

/** Where the lines go: `add` takes text that starts with "\n". */
export interface LineSink {
  add(text: string): void;
}

/** One scrape of a snapshot: which targets and streams are served at `nowMs`, and the verdicts worked out so far. */
export type Scrape = Readonly<{
  text: LabelText;
  nowMs: number;
  servable: Uint8Array;
  fresh: Uint8Array;
  verdicts: (Verdict | undefined)[];
}>;

/** Starts a scrape at `nowMs`: which targets and streams are still served (poll/lag-and-staleness.ts). */
export function startScrape(text: LabelText, nowMs: number, staleAfterMs: number): Scrape {
  const servable = new Uint8Array(text.targets.length);
  text.targets.forEach((target, i) => {
    servable[i] = isServable(target.status, nowMs, staleAfterMs) ? 1 : 0;
  });
  const fresh = new Uint8Array(text.streams.length);
  text.streams.forEach((stream, i) => {
    fresh[i] = isFresh(stream, nowMs, staleAfterMs) ? 1 : 0;
  });
  return { text, nowMs, servable, fresh, verdicts: new Array<Verdict | undefined>(text.partitions.length) };
}

/** How one family's series lines are written: over a list of the label text, or from the snapshot alone. */
export type FamilyWriter =
  | Readonly<{
      over: 'targets' | 'partitions' | 'streamPartitions';
      /** Writes the lines of items [from, to) of the list. */
      write(scrape: Scrape, from: number, to: number, name: string, out: LineSink): void;
    }>
  | Readonly<{ over: 'snapshot'; write(snapshot: Snapshot, name: string, out: LineSink): void }>;

/**
 * The writer of each family: the same series, in the same order, with the same values as the prom-client reference
 * (test/reference/samples.ts) gives them (a unit test holds the two to byte-identical output), but written from the
 * label text instead of label objects.
 */
export function familyWriters(stateSets: StateSets): Readonly<Record<FamilyKey, FamilyWriter>> {
  const states = stateSetWriter('state', KNOWN_STATES, stateSets);
  const verdicts = stateSetWriter('status', PARTITION_STATUSES, stateSets);
  const reasons = ERROR_REASONS.map((reason) => `,reason="${escapeLabelValue(reason)}"} `);
  return {
    taskInfo: {
      over: 'targets',
      write(scrape, from, to, name, out) {
        for (let i = from; i < to; i++) {
          if (scrape.servable[i] === 1) out.add(`\n${name}{${scrape.text.targets[i]!.infoLabels}} 1`);
        }
      },
    },
    taskState: {
      over: 'targets',
      write(scrape, from, to, name, out) {
        for (let i = from; i < to; i++) {
          if (scrape.servable[i] !== 1) continue;
          const target = scrape.text.targets[i]!;
          states(out, `\n${name}{${target.labels}`, target.status.task!.state);
        }
      },
    },
    taskCreateTime: servedTarget(({ status }) => seconds(status.task!.createTimeMs)),
    taskLastTransfer: servedTarget(({ status }) => seconds(status.task!.lastTransferTimestampMs)),
    taskLag: servedTarget(({ status }, nowMs) => lag(nowMs, status.task!.lastTransferTimestampMs)),
    taskDeliverInterval: servedTarget(({ status }) => status.task!.deliverIntervalSeconds),
    taskPartitions: servedTarget(({ status }) => status.task!.partitions.length),
    partitionState: {
      over: 'partitions',
      write(scrape, from, to, name, out) {
        const { partitions } = scrape.text;
        for (let i = from; i < to; i++) {
          const partition = partitions[i]!;
          if (scrape.servable[partition.target] === 1) {
            states(out, `\n${name}{${partition.labels}`, partition.progress.state);
          }
        }
      },
    },
    partitionDiscarded: servedPartition(({ progress }) => progress.discard),
    partitionOffset: servedPartition(({ progress }) => progress.lastTransferOffset),
    partitionLastTransfer: servedPartition(({ progress }) => seconds(progress.lastTransferTimestampMs)),
    partitionLag: servedPartition(({ progress }, scrape) => lag(scrape.nowMs, progress.lastTransferTimestampMs)),
    partitionLagRecords: servedPartition((partition, scrape) =>
      lagRecords(freshRange(scrape, partition), partition.progress.lastTransferOffset),
    ),
    partitionExpiredRecords: servedPartition((partition, scrape) =>
      expiredRecords(freshRange(scrape, partition), partition.progress.lastTransferOffset),
    ),
    partitionStalledSeconds: servedPartition((partition, scrape, i) =>
      partition.track === undefined ? undefined : verdictOf(scrape, i).stalledSeconds,
    ),
    partitionStatus: {
      over: 'partitions',
      write(scrape, from, to, name, out) {
        const { partitions } = scrape.text;
        for (let i = from; i < to; i++) {
          const partition = partitions[i]!;
          if (scrape.servable[partition.target] !== 1 || partition.track === undefined) continue;
          verdicts(out, `\n${name}{${partition.labels}`, verdictOf(scrape, i).status);
        }
      },
    },
    streamStartOffset: freshStreamPartition((partition) => partition.startOffset),
    streamEndOffset: freshStreamPartition((partition) => partition.endOffset),
    targetUp: everyTarget(({ status }) => (status.up ? 1 : 0)),
    targetLastSuccess: everyTarget(({ status }) => seconds(status.lastSuccessMs)),
    targetErrors: {
      over: 'targets',
      write(scrape, from, to, name, out) {
        const { targets } = scrape.text;
        for (let i = from; i < to; i++) {
          const { labels, status } = targets[i]!;
          for (let r = 0; r < ERROR_REASONS.length; r++) {
            out.add(`\n${name}{${labels}${reasons[r]}${formatValue(status.errors[ERROR_REASONS[r]!] ?? 0)}`);
          }
        }
      },
    },
    targets: ofSnapshot((snapshot) => snapshot.targets.length),
    discoveryErrors: ofSnapshot((snapshot) => snapshot.discovery?.errors),
    lastDiscoverySuccess: ofSnapshot((snapshot) => seconds(snapshot.discovery?.lastSuccessMs)),
  };
}

/** A sample value as prom-client writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

/** Writes a state set after `prefix` (the name and the labels without the closing brace), like the reference. */
type StateSetWriter = (out: LineSink, prefix: string, current: string | undefined) => void;

function stateSetWriter(labelName: string, known: readonly string[], stateSets: StateSets): StateSetWriter {
  const suffix = (value: string): string => `,${labelName}="${escapeLabelValue(value)}"} `;
  const knownSuffixes = known.map(suffix);
  if (stateSets === 'current') {
    return (out, prefix, current) => {
      if (current === undefined) return;
      const index = known.indexOf(current);
      out.add(`${prefix}${index === -1 ? suffix(current) : knownSuffixes[index]}1`);
    };
  }
  return (out, prefix, current) => {
    const index = current === undefined ? -1 : known.indexOf(current);
    for (let k = 0; k < knownSuffixes.length; k++) out.add(`${prefix}${knownSuffixes[k]}${k === index ? '1' : '0'}`);
    if (current !== undefined && index === -1) out.add(`${prefix}${suffix(current)}1`);
  };
}

/** One number (or none) per target whose data is served. */
function servedTarget(value: (target: TargetText, nowMs: number) => number | undefined): FamilyWriter {
  return {
    over: 'targets',
    write(scrape, from, to, name, out) {
      const { targets } = scrape.text;
      for (let i = from; i < to; i++) {
        if (scrape.servable[i] !== 1) continue;
        const target = targets[i]!;
        const v = value(target, scrape.nowMs);
        if (v !== undefined) out.add(`\n${name}{${target.labels}} ${formatValue(v)}`);
      }
    },
  };
}

/** One number (or none) per target, served or not: the target's own health. */
function everyTarget(value: (target: TargetText) => number | undefined): FamilyWriter {
  return {
    over: 'targets',
    write(scrape, from, to, name, out) {
      const { targets } = scrape.text;
      for (let i = from; i < to; i++) {
        const target = targets[i]!;
        const v = value(target);
        if (v !== undefined) out.add(`\n${name}{${target.labels}} ${formatValue(v)}`);
      }
    },
  };
}

/** One number (or none) per partition of a target whose data is served. */
function servedPartition(
  value: (partition: PartitionText, scrape: Scrape, index: number) => number | undefined,
): FamilyWriter {
  return {
    over: 'partitions',
    write(scrape, from, to, name, out) {
      const { partitions } = scrape.text;
      for (let i = from; i < to; i++) {
        const partition = partitions[i]!;
        if (scrape.servable[partition.target] !== 1) continue;
        const v = value(partition, scrape, i);
        if (v !== undefined) out.add(`\n${name}{${partition.labels}} ${formatValue(v)}`);
      }
    },
  };
}

/** One number per stream partition whose stream details are served. */
function freshStreamPartition(value: (partition: StreamPartitionValue) => number): FamilyWriter {
  return {
    over: 'streamPartitions',
    write(scrape, from, to, name, out) {
      const { streamPartitions } = scrape.text;
      for (let i = from; i < to; i++) {
        const partition = streamPartitions[i]!;
        if (scrape.fresh[partition.stream] === 1)
          out.add(`\n${name}{${partition.labels}} ${formatValue(value(partition))}`);
      }
    },
  };
}

type StreamPartitionValue = Readonly<{ startOffset: number; endOffset: number }>;

/** At most one series without labels. */
function ofSnapshot(value: (snapshot: Snapshot) => number | undefined): FamilyWriter {
  return {
    over: 'snapshot',
    write(snapshot, name, out) {
      const v = value(snapshot);
      if (v !== undefined) out.add(`\n${name} ${formatValue(v)}`);
    },
  };
}

/** The partition's verdict at the scrape time, worked out once per scrape for the two families that show it. */
function verdictOf(scrape: Scrape, index: number): Verdict {
  let verdict = scrape.verdicts[index];
  if (verdict === undefined) {
    const partition = scrape.text.partitions[index]!;
    verdict = judge(partition.track!, scrape.nowMs, scrape.text.targets[partition.target]!.stallAfterMs);
    scrape.verdicts[index] = verdict;
  }
  return verdict;
}

/** The stream partition joined to a partition, while its stream details are served. */
function freshRange(scrape: Scrape, partition: PartitionText): StreamPartition | undefined {
  if (partition.range === undefined) return undefined;
  return scrape.fresh[scrape.text.targets[partition.target]!.stream] === 1 ? partition.range : undefined;
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

function lag(nowMs: number, timestampMs: number | undefined): number | undefined {
  return timestampMs === undefined ? undefined : lagSeconds(nowMs, timestampMs);
}
