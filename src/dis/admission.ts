import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.js';
import type { Credentials } from '../config/types.js';
import { CHECK_ACCESS_KEYS, createCooldownGuard, type CooldownInfo } from './cooldown.js';
import type { DisHttpError } from './errors.js';
import { createRateLimiter, type Rate } from './rate-limiter.js';

/** What the admission of a client's requests is built from. */
export type AdmissionOptions = Readonly<{
  clock: Clock;
  /** The credentials in use, read before each request: a change ends a cool-down that auth failures started. */
  credentials: () => Credentials;
  /** Requests per second across all calls, retries included; undefined, `0` or `Infinity`: no limit. */
  maxRequestsPerSecond: number | undefined;
  /** The token bucket's size; default one second's worth, at least 1. */
  rateLimitBurst: number | undefined;
  /** How long no request is sent after DIS.4309 or `authFailuresBeforeCooldown` auth failures; 0 turns it off. */
  cooldownMs: number;
  /** Consecutive 401/APIGW.0301 responses, across all calls, that start a cool-down; 0 never. */
  authFailuresBeforeCooldown: number;
  onCooldown?: (info: CooldownInfo) => void;
}>;

/** Decides when a client's requests may go: not during a cool-down, and no faster than the rate limit. */
export interface Admission {
  /**
   * Resolves when a request may be sent: it takes a rate-limit token first. Rejects with a DisCooldownError during a
   * cool-down (also one that began while it waited for its token), and with the signal's reason once it aborts.
   */
  admit(signal: AbortSignal | undefined): Promise<void>;
  /** A 2xx answer: ends the auth-failure streak. */
  succeeded(): void;
  /** A non-2xx answer: may start a cool-down. */
  failed(error: DisHttpError): void;
  /** When the current cool-down ends (ms since the epoch), or undefined. */
  cooldownUntilMs(): number | undefined;
  /** A new rate limit (a reload) for the requests from now on; undefined turns it off. */
  setMaxRequestsPerSecond(maxRequestsPerSecond: number | undefined): void;
}

/** What a cool-down message tells the user to check, for the kind of credentials in use. */
function whatToCheck(credentials: Credentials): string {
  switch (credentials.kind) {
    case 'iam':
      return 'check the IAM user, its password and the project id';
    case 'oidc':
      return "check the identity provider's conversion rules, the permissions of its user group and the project id";
    case 'metadata':
      return 'check the permissions of the agency bound to this server or node and the project id';
    case 'aksk':
      return CHECK_ACCESS_KEYS;
  }
}

/** Creates the admission one client shares across all of its calls. */
export function createAdmission(options: AdmissionOptions): Admission {
  const rateOf = (maxRequestsPerSecond = Infinity): Rate => ({
    requestsPerSecond: maxRequestsPerSecond,
    burst: options.rateLimitBurst ?? Math.ceil(maxRequestsPerSecond),
  });
  const limiter = createRateLimiter({ ...rateOf(options.maxRequestsPerSecond), clock: options.clock });
  const cooldown = createCooldownGuard({
    clock: options.clock,
    cooldownMs: options.cooldownMs,
    authFailures: options.authFailuresBeforeCooldown,
    ...(options.onCooldown === undefined ? {} : { onCooldown: options.onCooldown }),
    checkCredentials: () => whatToCheck(options.credentials()),
  });
  let signingWith = options.credentials();

  return {
    async admit(signal) {
      const credentials = options.credentials();
      if (credentials !== signingWith) {
        if (!isDeepStrictEqual(credentials, signingWith)) cooldown.credentialsChanged();
        signingWith = credentials;
      }
      const before = cooldown.blocked();
      if (before !== undefined) throw before;
      await limiter.acquire(signal);
      // A concurrent call may have started a cool-down while this one waited for its token.
      const after = cooldown.blocked();
      if (after !== undefined) throw after;
    },
    succeeded: () => cooldown.succeeded(),
    failed: (error) => cooldown.failed(error),
    cooldownUntilMs: () => cooldown.untilMs(),
    setMaxRequestsPerSecond: (maxRequestsPerSecond) => limiter.setRate(rateOf(maxRequestsPerSecond)),
  };
}
