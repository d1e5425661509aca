const SHARD_PREFIX = 'shardId-';
const INDEX_DIGITS = 10;
const BARE_INDEX = /^[0-9]+$/;
const SHARD_INDEX = /^shardId-([0-9]+)$/;
// Already normal: exactly 10 digits, or more without a leading zero. What dump-task and stream details send.
const NORMAL = /^shardId-(?:[0-9]{10}|[1-9][0-9]{10,})$/;

/**
 * A `partitionId`/`partition_id` value as the exporter joins and labels it: `shardId-` and the index zero-padded to
 * 10 digits, whatever form DIS sent (docs/metrics.md ("Odd values in DIS answers"), docs/dis-api.md
 * ("Partition ids")). Dump-task and stream details send `shardId-0000000000`, other DIS APIs the bare index as `0`
 * or `"0"`, and all must land on one series. A string of another form is kept as sent: not wrong, only unknown, and
 * both answers may well use it alike. Undefined for a value that cannot be an id: not a non-empty string or a safe
 * non-negative integer.
 */
export function normalizePartitionId(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? shardIdOf(String(value)) : undefined;
  }
  if (typeof value !== 'string' || value === '') return undefined;
  if (NORMAL.test(value)) return value;
  if (BARE_INDEX.test(value)) return shardIdOf(value);
  const index = SHARD_INDEX.exec(value)?.[1];
  return index === undefined ? value : shardIdOf(index);
}

// Digits, not a number: an index past 2^53 - 1 must not be rounded into another partition's id.
function shardIdOf(digits: string): string {
  return `${SHARD_PREFIX}${digits.replace(/^0+(?=[0-9])/, '').padStart(INDEX_DIGITS, '0')}`;
}
