import type { Clock } from '../clock.js';
import { DisClockSkewError } from './clock-skew.js';
import { DisError, type DisHttpError } from './errors.js';

/** The DIS code that means "this source IP is blacklisted after too many failed requests". */
const BLACKLISTED = 'DIS.4309';

/** Raised instead of sending a request while the client cools down after DIS.4309 or repeated auth failures. */
export class DisCooldownError extends DisError {
  override name = 'DisCooldownError';
  /** When requests resume, in ms since the epoch on the client's clock. */
  readonly untilMs: number;

  constructor(message: string, untilMs: number, cause: DisHttpError) {
    super(message, { code: 'ERR_DIS_COOLDOWN', reason: 'auth', cause });
    this.untilMs = untilMs;
  }
}

/** A cool-down that just began: when it ends and the error (with the message to log) every call gets until then. */
export type CooldownInfo = Readonly<{ untilMs: number; error: DisCooldownError }>;

/** When the client stops sending requests, and for how long. */
export type CooldownOptions = Readonly<{
  clock: Clock;
  /** How long a cool-down lasts; 0 turns cool-downs off. */
  cooldownMs: number;
  /** Consecutive 401 / APIGW.0301 responses that start a cool-down; 0 leaves only DIS.4309 as a trigger. */
  authFailures: number;
  onCooldown?: (info: CooldownInfo) => void;
  /** What to check when auth fails, for the credentials in use; default `check the AK/SK and project id`. */
  checkCredentials?: () => string;
}>;

/** Tracks the responses of every call and says whether requests may be sent. */
export interface CooldownGuard {
  /** The error to fail a call with instead of sending it, while a cool-down lasts. */
  blocked(): DisCooldownError | undefined;
  /** When the current cool-down ends, or undefined when there is none. */
  untilMs(): number | undefined;
  /** A 2xx response: ends the auth-failure streak. */
  succeeded(): void;
  /** A non-2xx response: may start a cool-down. */
  failed(error: DisHttpError): void;
  /** New credentials deserve a try: ends a cool-down that auth failures started (not DIS.4309's) and the streak. */
  credentialsChanged(): void;
}

/** What to check after auth failures when AK/SK sign the requests. */
export const CHECK_ACCESS_KEYS = 'check the AK/SK and project id';

/** Creates the guard that one client shares across all of its calls. */
export function createCooldownGuard(options: CooldownOptions): CooldownGuard {
  const checkCredentials = options.checkCredentials ?? (() => CHECK_ACCESS_KEYS);
  /** The fix that an auth failure points at. */
  const remedy = (error: DisHttpError): string =>
    error instanceof DisClockSkewError ? 'sync the host clock with NTP' : checkCredentials();
  let streak = 0;
  let current: { untilMs: number; message: string; cause: DisHttpError; byAuth: boolean } | undefined;

  function active() {
    if (current !== undefined && options.clock.now() >= current.untilMs) current = undefined;
    return current;
  }

  function start(cause: DisHttpError, byAuth: boolean, describe: (until: string) => string): void {
    streak = 0;
    if (options.cooldownMs <= 0 || active() !== undefined) return;
    const untilMs = options.clock.now() + options.cooldownMs;
    current = { untilMs, message: describe(new Date(untilMs).toISOString()), cause, byAuth };
    options.onCooldown?.({ untilMs, error: new DisCooldownError(current.message, untilMs, cause) });
  }

  return {
    blocked() {
      const cooldown = active();
      return cooldown === undefined
        ? undefined
        : new DisCooldownError(cooldown.message, cooldown.untilMs, cooldown.cause);
    },
    untilMs: () => active()?.untilMs,
    succeeded() {
      streak = 0;
    },
    failed(error) {
      if (error.apiCode === BLACKLISTED) {
        start(
          error,
          false,
          (until) =>
            `DIS blocked this IP after too many failed requests (${BLACKLISTED}); no requests until ${until}; ${checkCredentials()}`,
        );
        return;
      }
      if (error.statusCode !== 401 && error.apiCode !== 'APIGW.0301') return;
      // A 401 the host clock caused counts too: the gateway counts it as a failed authentication like any other (too
      // many lock the AK/SK or get the IP blocked, DIS.4309), and a clock stays off until someone fixes it.
      streak++;
      if (options.authFailures <= 0 || streak < options.authFailures) return;
      const times = streak === 1 ? '' : ` ${streak} times in a row`;
      const what = error.apiCode ?? `HTTP ${error.statusCode}`;
      start(
        error,
        true,
        (until) => `authentication failed${times} (${what}); no requests until ${until}; ${remedy(error)}`,
      );
    },
    credentialsChanged() {
      streak = 0;
      if (current?.byAuth === true) current = undefined;
    },
  };
}
