import { createHash } from 'node:crypto';
import type { AppSelector, Target } from '../config/types.js';

/** This replica's share of the targets. */
export type Shard = Readonly<{ index: number; total: number }>;

/** The shard a target belongs to: a stable hash of `project_id/stream/task`, the same on every replica and run. */
export function shardOf(projectId: string, target: Target, total: number): number {
  return shardOfKey(`${projectId}/${target.stream}/${target.task}`, total);
}

/**
 * The shard a consumer app belongs to, with all of its pairs: a stable hash of `project_id app`, so that one replica
 * serves the app's dis_app_info and every partition of it.
 */
export function appShardOf(projectId: string, app: string, total: number): number {
  return shardOfKey(`${projectId} app ${app}`, total);
}

function shardOfKey(key: string, total: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % total;
}

/** The targets this shard owns, in their given order. */
export function ownedTargets(projectId: string, targets: readonly Target[], shard: Shard): Target[] {
  if (shard.total <= 1) return [...targets];
  return targets.filter((target) => shardOf(projectId, target, shard.total) === shard.index);
}

/** The app/stream pairs this shard owns (those of the apps that hash to it), in their given order. */
export function ownedAppPairs(projectId: string, pairs: readonly AppSelector[], shard: Shard): AppSelector[] {
  if (shard.total <= 1) return [...pairs];
  return pairs.filter((pair) => appShardOf(projectId, pair.app, shard.total) === shard.index);
}
