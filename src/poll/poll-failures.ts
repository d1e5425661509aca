import type { Logger } from 'pino';
import { DisError, type ErrorReason } from '../dis/errors.js';
import type { FieldIssue } from '../dis/types.js';
import type { TargetError } from './store.js';

// What the polls of targets, streams and apps share about what went wrong: the error as a snapshot keeps it, when a
// failure is logged, and which odd fields are new.

/** The message of the warning about an odd field of a DIS answer (docs/metrics.md ("Odd values in DIS answers")). */
export const FIELD_ISSUE_MESSAGE = 'ignored an odd field of a DIS answer';

/** A failure as a snapshot keeps it: its reason (`bad_response` for anything but a DisError), message and time. */
export function toTargetError(error: unknown, atMs: number): TargetError {
  const reason: ErrorReason = error instanceof DisError ? error.reason : 'bad_response';
  return { reason, message: error instanceof Error ? error.message : String(error), atMs };
}

/** What a polled target or app/stream pair keeps of its failures. */
type FailureHistory = Readonly<{
  up: boolean;
  lastError?: TargetError;
  errors: Readonly<Partial<Record<ErrorReason, number>>>;
}>;

/**
 * A failed poll of a target or an app/stream pair at `nowMs`: its error as the snapshot keeps it and the counts by
 * reason with it. It is logged (with `fields` and `message`) once per change of state, not once per cycle, and not at
 * all when the client reported it: a warning for a DisError, an error for anything else.
 */
export function recordFailure(
  previous: FailureHistory | undefined,
  error: unknown,
  nowMs: number,
  log: () => Logger,
  message: string,
  fields: Readonly<Record<string, unknown>> = {},
): Readonly<{ lastError: TargetError; errors: FailureHistory['errors'] }> {
  const lastError = toTargetError(error, nowMs);
  const { reason } = lastError;
  const errors = { ...previous?.errors, [reason]: (previous?.errors[reason] ?? 0) + 1 };
  const changed = previous === undefined || previous.up || previous.lastError?.reason !== reason;
  if (changed && !isReported(error)) {
    // Only our own message: a got error carries the request options, signed headers included.
    const logged = { reason, error: lastError.message, ...fields };
    if (error instanceof DisError) log().warn(logged, message);
    else log().error(logged, message);
  }
  return { lastError, errors };
}

/** A failure of the client as a whole (no IAM token) that it has already reported once, for the app to log. */
export function isReported(error: unknown): boolean {
  return error instanceof DisError && error.reported;
}

/**
 * The issues of the latest answer whose field the previous answer had no issue with: each is logged once, and again
 * only after an answer without it. A failed poll keeps the previous answer, so an outage does not log them anew.
 */
export function newFieldIssues(
  previous: readonly FieldIssue[] | undefined,
  current: readonly FieldIssue[] | undefined,
): readonly FieldIssue[] {
  if (current === undefined) return [];
  if (previous === undefined) return current;
  const known = new Set(previous.map(({ field }) => field));
  return current.filter(({ field }) => !known.has(field));
}
