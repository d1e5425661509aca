import { createHash } from 'node:crypto';
import type { Target } from '../config/types.js';

/** This replica's share of the targets. */
export type Shard = Readonly<{ index: number; total: number }>;

/** The shard a target belongs to: a stable hash of `project_id/stream/task`, the same on every replica and run. */
export function shardOf(projectId: string, target: Target, total: number): number {
  const digest = createHash('sha256').update(`${projectId}/${target.stream}/${target.task}`).digest();
  return digest.readUInt32BE(0) % total;
}

/** The targets this shard owns, in their given order. */
export function ownedTargets(projectId: string, targets: readonly Target[], shard: Shard): Target[] {
  if (shard.total <= 1) return [...targets];
  return targets.filter((target) => shardOf(projectId, target, shard.total) === shard.index);
}
