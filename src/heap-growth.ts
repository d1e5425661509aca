import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * V8 scales how far it lets the old generation grow between full collections with the heap limit: several times the
 * live heap with the limit it picks on a large host, but little more than the live heap under a limit of a few
 * hundred MB, which is what a container gets (the Helm chart derives --max-old-space-size from the memory limit:
 * docs/operations.md ("Sizing and memory")). A poll cycle at fleet scale promotes many short-lived request objects,
 * so under such a limit V8 runs full collections often and the cycle pays for it in CPU (the bench measures it:
 * docs/benchmarks.md ("What limits each figure")). Below this limit the exporter asks for 2× instead; V8 still never
 * goes past halfway from the live heap to the limit before collecting, so the limit keeps its meaning.
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
