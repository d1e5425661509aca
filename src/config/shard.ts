import type { ConfigProperties } from './schema.js';
import { describeValue } from './values.js';

/** The shard index a replica runs as, or the one problem (key path first) that prevents it. */
export type ShardIndex = { index: number } | { problem: string };

// A StatefulSet names its pods <statefulset>-<ordinal>.
const ORDINAL = /-(\d+)$/;

/**
 * Checks `shard` across its keys, which the schema has validated one by one: the index is below the total,
 * and with `fromHostname` it comes from the host name (asked for only then), which must end in `-<number>`.
 */
export function resolveShardIndex(shard: ConfigProperties['shard'], hostname: () => string): ShardIndex {
  const { index, total, fromHostname } = shard;
  if (!fromHostname) {
    return index < total ? { index } : { problem: `shard.index: must be less than shard.total (${total})` };
  }
  if (index !== 0) {
    return { problem: `shard.index: must be left at 0 when shard.fromHostname is true (got ${index})` };
  }
  const name = hostname();
  const ordinal = ORDINAL.exec(name)?.[1];
  if (ordinal === undefined) {
    return { problem: `shard.fromHostname: host name ${describeValue(name)} does not end in -<number>` };
  }
  const derived = Number(ordinal);
  if (derived >= total) {
    const what = `host name ${describeValue(name)} gives shard index ${ordinal}`;
    return { problem: `shard.fromHostname: ${what}, which must be less than shard.total (${total})` };
  }
  return { index: derived };
}
