import type { Target, TargetSelector } from '../config/types.js';
import type { CallOptions, DisClient } from '../dis/client.js';
import { DisError } from '../dis/errors.js';
import { mapWithConcurrency } from './concurrency.js';

/** The list calls discovery needs. */
export type DiscoveryClient = Pick<DisClient, 'listStreams' | 'listDumpTasks'>;

/** A list call that failed: which selector, and the error. */
export type DiscoveryFailure = Readonly<{ selector: TargetSelector; error: unknown }>;

/** What one discovery run found, per selector (in config order), and what failed. */
export type DiscoveryResult = Readonly<{
  perSelector: readonly (readonly Target[])[];
  failures: readonly DiscoveryFailure[];
}>;

/** Whether a selector needs list calls (`*` in its stream or task). */
export function isWildcard(selector: TargetSelector): boolean {
  return selector.stream === '*' || selector.task === '*';
}

/**
 * Whether a discovered name is kept by a selector's `include`/`exclude`: it must match `include` (when set) and must
 * not match `exclude` (when set). Both are unanchored JavaScript regular expressions without flags, applied to stream
 * names for `stream: "*"` and to dump task names for `{stream: S, task: "*"}`.
 */
export function nameMatches(selector: TargetSelector, name: string): boolean {
  if (selector.include !== undefined && !new RegExp(selector.include).test(name)) return false;
  if (selector.exclude !== undefined && new RegExp(selector.exclude).test(name)) return false;
  return true;
}

/**
 * Resolves every selector into concrete targets. A selector whose list calls fail keeps its previous
 * result (or none), so one failed discovery never drops tasks that still exist. A stream that is gone
 * (not_found) simply has no tasks. `call` limits the retries of every list call (the poll cycle's deadline).
 */
export async function discover(
  selectors: readonly TargetSelector[],
  previous: readonly (readonly Target[])[] | undefined,
  client: DiscoveryClient,
  options: Readonly<{ concurrency: number; signal?: AbortSignal; call?: CallOptions }>,
): Promise<DiscoveryResult> {
  const failures: DiscoveryFailure[] = [];
  const perSelector = await mapWithConcurrency(selectors, 1, async (selector, index) => {
    if (!isWildcard(selector)) return [{ stream: selector.stream, task: selector.task }];
    try {
      const streams =
        selector.stream === '*'
          ? (await client.listStreams(options.signal, options.call))
              .filter((name) => nameMatches(selector, name))
              .sort()
          : [selector.stream];
      const taskLists = await mapWithConcurrency(streams, options.concurrency, async (stream) => {
        const tasks = await listTasksOrNone(client, stream, options.signal, options.call);
        const names = tasks.map((task) => task.taskName).sort();
        return (selector.stream === '*' ? names : names.filter((name) => nameMatches(selector, name))).map((task) => ({
          stream,
          task,
        }));
      });
      return taskLists.flat();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      failures.push({ selector, error });
      return previous?.[index] ?? [];
    }
  });
  return { perSelector, failures };
}

async function listTasksOrNone(
  client: DiscoveryClient,
  stream: string,
  signal: AbortSignal | undefined,
  call: CallOptions | undefined,
) {
  try {
    return await client.listDumpTasks(stream, signal, call);
  } catch (error) {
    // A stream deleted between the stream list and this call has no tasks left to poll.
    if (error instanceof DisError && error.reason === 'not_found') return [];
    throw error;
  }
}

/** The distinct targets of a discovery result, in first-seen order. */
export function uniqueTargets(perSelector: readonly (readonly Target[])[]): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  for (const target of perSelector.flat()) {
    const key = `${target.stream}/${target.task}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(target);
    }
  }
  return out;
}
