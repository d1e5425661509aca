import type { Clock } from '../clock.js';
import type { RenewedMethod } from '../config/types.js';
import { DisError, DisHttpError } from './errors.js';

/** A credential fetched (an IAM token, temporary keys) and when it expires, in ms since the epoch on this host's clock. */
export type Fetched<T> = Readonly<{ value: T; expiresAtMs: number }>;

/** What a renewing credential reports: one obtained, or a fetch that failed (`firstOfKind`: unlike the failure before). */
export type CredentialEvent =
  | Readonly<{ kind: 'obtained'; method: RenewedMethod; expiresAtMs: number; recovered: boolean }>
  | Readonly<{ kind: 'failed'; method: RenewedMethod; error: DisError; retryAtMs: number; firstOfKind: boolean }>;

/** The timings a reload may change. */
export type RenewalTimings = Readonly<{
  /** After a failed fetch, no other is sent for this long and calls fail at once with its error. */
  failureBackoffMs: number;
  /** A credential is replaced in the background from this long before it expires (at most half its lifetime). */
  refreshAheadMs: number;
}>;

/** How one kind of credential is fetched and kept. */
export type RenewingCredentialOptions<C, T> = Readonly<{
  /** The `method` label of what these credentials give. */
  methodOf: (credentials: C) => RenewedMethod;
  clock: Clock;
  timings: RenewalTimings;
  /** A credential is no longer handed out this long before it expires (at most a tenth of its lifetime). */
  expiryMarginMs: number;
  /** Identifies the configured credentials (a reload that changes them drops what was fetched with the old ones). */
  identity: (credentials: C) => string;
  /**
   * Fetches a credential; rejects with a DisError (reported: true) saying what failed and what to fix. `startedMs`
   * is when the fetch began, the time to measure a lifetime from.
   */
  fetch: (credentials: C, signal: AbortSignal, startedMs: number) => Promise<Fetched<T>>;
  onEvent?: (event: CredentialEvent) => void;
}>;

/** One credential shared by every request of a client, fetched again before it expires. */
export interface RenewingCredential<C, T> {
  /**
   * The credential for these settings: the cached one while it is fresh (starting a background fetch once it is due),
   * else one fetched now, a single fetch shared by concurrent callers. Rejects with the fetch's DisError.
   */
  get(credentials: C, signal?: AbortSignal): Promise<T>;
  /** Drops `value` if it is still the cached one: DIS rejected it (expired early, revoked). */
  invalidate(value: T): void;
  /** New timings, for the fetches and refreshes from now on. */
  setTimings(timings: RenewalTimings): void;
  /** Aborts a fetch in flight. */
  close(): void;
}

type Cached<T> = Readonly<{ key: string; value: T; expiresAtMs: number; refreshAtMs: number; staleAtMs: number }>;
type Failure = Readonly<{ key: string; error: DisError; retryAtMs: number }>;

/**
 * Pure: when a credential fetched at `startedMs` that expires at `expiresAtMs` is fetched again in the background, and
 * when it is no longer handed out (a call then waits for a new one). `previousExpiresAtMs`: the expiry of the one it
 * replaces; the same again means the source has not renewed it yet (the metadata service renews its keys only
 * minutes before they expire), and the next try waits out the failure back-off rather than coming at the next call.
 */
export function renewalSchedule(
  fetched: Readonly<{ startedMs: number; expiresAtMs: number; previousExpiresAtMs: number | undefined }>,
  timings: RenewalTimings,
  expiryMarginMs: number,
): { refreshAtMs: number; staleAtMs: number } {
  const { startedMs, expiresAtMs } = fetched;
  const lifetimeMs = expiresAtMs - startedMs;
  const staleAtMs = expiresAtMs - Math.min(expiryMarginMs, lifetimeMs / 10);
  const dueAtMs = expiresAtMs - Math.min(timings.refreshAheadMs, lifetimeMs / 2);
  const refreshAtMs = fetched.previousExpiresAtMs === expiresAtMs ? startedMs + timings.failureBackoffMs : dueAtMs;
  return { refreshAtMs: Math.min(refreshAtMs, staleAtMs), staleAtMs };
}

/** Failures of the same kind are reported once: the same error code, HTTP status and API error code. */
function failureKind(error: DisError): string {
  const cause = error.cause;
  if (cause instanceof DisHttpError) return `${cause.code} ${cause.statusCode} ${cause.apiCode ?? ''}`;
  return cause instanceof DisError ? cause.code : error.code;
}

/** Creates the renewing credential a client shares across its calls (IAM and OIDC tokens, metadata keys). */
export function createRenewingCredential<C, T>(options: RenewingCredentialOptions<C, T>): RenewingCredential<C, T> {
  let timings = options.timings;
  const { clock } = options;
  const lifetime = new AbortController();
  let wantedKey: string | undefined;
  let cached: Cached<T> | undefined;
  let inFlight: { key: string; promise: Promise<T> } | undefined;
  let failure: Failure | undefined;
  // The kind of the last failure reported, so a failure repeating every cycle is logged once; and whether one was
  // reported since the last success, so the next success is reported as a recovery (across a reload too).
  let reportedKind: string | undefined;
  let failing = false;

  function succeeded(key: string, method: RenewedMethod, startedMs: number, fetched: Fetched<T>): T {
    // A credential of settings replaced meanwhile (a reload) is handed to the callers that asked, never cached.
    if (key !== wantedKey) return fetched.value;
    const previousExpiresAtMs = cached?.key === key ? cached.expiresAtMs : undefined;
    const { expiresAtMs, value } = fetched;
    const schedule = renewalSchedule({ startedMs, expiresAtMs, previousExpiresAtMs }, timings, options.expiryMarginMs);
    // One already due to go stale is handed out but not kept: the next call fetches again.
    cached = schedule.staleAtMs > clock.now() ? { key, value, expiresAtMs, ...schedule } : undefined;
    failure = undefined;
    const recovered = failing;
    reportedKind = undefined;
    failing = false;
    options.onEvent?.({ kind: 'obtained', method, expiresAtMs, recovered });
    return value;
  }

  function failed(key: string, method: RenewedMethod, startedMs: number, error: unknown): never {
    if (!(error instanceof DisError) || key !== wantedKey) throw error;
    const kind = failureKind(error);
    const retryAtMs = startedMs + timings.failureBackoffMs;
    failure = { key, error, retryAtMs };
    const firstOfKind = kind !== reportedKind;
    reportedKind = kind;
    failing = true;
    options.onEvent?.({ kind: 'failed', method, error, retryAtMs, firstOfKind });
    throw error;
  }

  function fetchShared(credentials: C, key: string): Promise<T> {
    if (inFlight?.key === key) return inFlight.promise;
    if (failure?.key === key && clock.now() < failure.retryAtMs) return Promise.reject(failure.error);
    const startedMs = clock.now();
    const method = options.methodOf(credentials);
    const promise = options.fetch(credentials, lifetime.signal, startedMs).then(
      (fetched) => succeeded(key, method, startedMs, fetched),
      (error: unknown) => failed(key, method, startedMs, error),
    );
    const entry = { key, promise };
    inFlight = entry;
    const clear = (): void => {
      if (inFlight === entry) inFlight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  return {
    async get(credentials, signal) {
      const key = options.identity(credentials);
      // Changed settings (a reload) drop the credential and the back-off of the old ones.
      if (key !== wantedKey) {
        wantedKey = key;
        cached = undefined;
        failure = undefined;
        reportedKind = undefined;
      }
      const now = clock.now();
      if (cached !== undefined && now < cached.staleAtMs) {
        // Failures of a background refresh are reported through onEvent; the current credential stays usable.
        if (now >= cached.refreshAtMs) fetchShared(credentials, key).catch(() => {});
        return cached.value;
      }
      return abortable(fetchShared(credentials, key), signal);
    },
    invalidate(value) {
      if (cached?.value === value) cached = undefined;
    },
    setTimings(next) {
      timings = { failureBackoffMs: next.failureBackoffMs, refreshAheadMs: next.refreshAheadMs };
    },
    close() {
      lifetime.abort(new Error('client closed'));
    },
  };
}

/** The promise, or the signal's reason once it aborts first; the promise itself runs on for other callers. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
