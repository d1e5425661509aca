import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * V8 scales how far it lets the old generation grow between full collections with the heap limit: up to 4× the live
 * heap with the limit it picks on a large host, but as little as 1.3× under a limit of a few hundred MB, which is what a
 * container gets (the Helm chart sets --max-old-space-size to 60% of the memory limit). A poll cycle at fleet scale
 * promotes tens of MB of short-lived request objects, so at 1.3× V8 runs a full collection every second or so and
 * the cycle pays for it in CPU (the bench at --large: 17 full collections per cycle instead of 2). Below this limit
 * the exporter asks for 2× instead; V8 still never goes past halfway from the live heap to the limit before
 * collecting, so the limit keeps its meaning.
 */
export const SMALL_HEAP_LIMIT_BYTES = 1024 ** 3;

/** The old generation may grow by this percentage of the live heap between full collections (V8's --heap-growing-percent). */
export const HEAP_GROWING_PERCENT = 100;

/** Relaxes V8's heap growth when the heap is capped below SMALL_HEAP_LIMIT_BYTES; returns whether it did. */
export function relaxHeapGrowth(heapSizeLimitBytes: number = getHeapStatistics().heap_size_limit): boolean {
  if (heapSizeLimitBytes >= SMALL_HEAP_LIMIT_BYTES) return false;
  // Read by V8 each time it sets the next limit, so setting it at run time takes effect from the next collection.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
