import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AppSelector } from '../config/types.js';
import type { CallOptions, DisClient } from '../dis/client.js';
import type { AppListing } from '../dis/types.js';
import { FIELD_ISSUE_MESSAGE, newFieldIssues, recordFailure } from './poll-failures.js';
import type { AppStatus } from './store.js';

/** What one poll of an app/stream pair needs: the project's client and the poller's clock, logger and limits. */
export type AppPollContext = Readonly<{
  projectId: string;
  client: Pick<DisClient, 'getConsumerState'>;
  clock: Clock;
  logger: Logger;
  /** Aborted when the poller stops. */
  signal: AbortSignal;
  call: CallOptions;
  /** The app's `app_id` from the latest listing, when it lists the app. */
  appId: string | undefined;
}>;

/**
 * Polls the consumption state of one app in one stream, like a dump task: up with the new state, or down with the
 * previous state kept (until `poll.staleAfter`), except on not_found (the app or the stream is gone), which drops it at
 * once. A failure is logged once per change of reason, an odd field once until an answer without it.
 */
export async function pollApp(
  pair: AppSelector,
  previous: AppStatus | undefined,
  context: AppPollContext,
): Promise<AppStatus> {
  const { projectId, client, clock, signal } = context;
  const identity = { projectId, pair, ...(context.appId === undefined ? {} : { appId: context.appId }) };
  // Made only when there is something to log: most polls log nothing.
  const log = (): Logger => context.logger.child({ projectId, app: pair.app, stream: pair.stream });
  try {
    const state = await client.getConsumerState(pair.app, pair.stream, signal, context.call);
    const now = clock.now();
    if (previous !== undefined && !previous.up && previous.lastPollMs !== undefined) log().info('app recovered');
    for (const { field, problem } of newFieldIssues(previous?.state?.fieldIssues, state.fieldIssues)) {
      log().warn({ field, problem }, FIELD_ISSUE_MESSAGE);
    }
    return { ...identity, up: true, lastPollMs: now, lastSuccessMs: now, state, errors: previous?.errors ?? {} };
  } catch (error) {
    // Stopping aborts the polls in flight: no failure of the pair, and the cycle's results are dropped.
    if (signal.aborted) return previous ?? { ...identity, up: false, errors: {} };
    const now = clock.now();
    const { lastError, errors } = recordFailure(previous, error, now, log, 'app poll failed');
    const keep = lastError.reason !== 'not_found' && previous?.state !== undefined;
    return {
      ...identity,
      up: false,
      lastPollMs: now,
      ...(previous?.lastSuccessMs === undefined ? {} : { lastSuccessMs: previous.lastSuccessMs }),
      lastError,
      ...(keep ? { state: previous.state } : {}),
      errors,
    };
  }
}

/** The app listing of a project, or why it could not be had; a stop (the signal aborted) is rethrown. */
export async function listAppsOf(
  client: Pick<DisClient, 'listApps'>,
  signal: AbortSignal,
  call: CallOptions,
): Promise<{ listing: AppListing } | { error: unknown }> {
  try {
    return { listing: await client.listApps(signal, call) };
  } catch (error) {
    if (signal.aborted) throw error;
    return { error };
  }
}

/** An app/stream pair's identity in a snapshot: its project, app and stream (names hold no "/"). */
export function appKey(projectId: string, pair: AppSelector): string {
  return `${projectId}/${pair.app}/${pair.stream}`;
}
