import type { PasswordChecks } from './password-checks.js';
import type { VerifiedLogins } from './verified-logins.js';

// Compared against when the user is unknown, so that a wrong user name costs as much as a wrong password and
// user names cannot be told apart by timing. The hash of a fixed phrase, cost 10 like `htpasswd -B`.
const UNKNOWN_USER_HASH = '$2b$10$nmPiSg2BRoogUAlj4Kc2ce0QpKt2Hi.tQXH6l9/jNTyQ/HwASHiBG';

/** How a basic-auth check ended: let in, refused (401), or not checked because too many checks wait (503). */
export type AuthOutcome = 'ok' | 'denied' | 'busy';

/** The user and password of an `Authorization: Basic` header, or undefined. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** What the basic auth of every web config shares, so that a reload keeps it: the verified logins and the checks. */
export type PasswordState = Readonly<{ verified: VerifiedLogins; checks: PasswordChecks }>;

/**
 * HTTP basic auth of one web config against bcrypt hashes. bcrypt is slow on purpose: a login verified before is let
 * in at once (VerifiedLogins), any other takes a comparison admitted by PasswordChecks, or 'busy' when too many wait.
 */
export class BasicAuth {
  readonly #users: ReadonlyMap<string, string>;
  readonly #passwords: PasswordState;

  constructor(users: ReadonlyMap<string, string>, passwords: PasswordState) {
    this.#users = users;
    this.#passwords = passwords;
  }

  /** Whether any user is configured (otherwise every request passes). */
  get enabled(): boolean {
    return this.#users.size > 0;
  }

  /** Whether the Authorization header carries a configured user and that user's password; `client` is its address. */
  async check(authorization: string | undefined, client: string): Promise<AuthOutcome> {
    if (!this.enabled) return 'ok';
    const credentials = parseBasicAuthorization(authorization);
    if (credentials === undefined) return 'denied';
    const hash = this.#users.get(credentials.user);
    const { verified, checks } = this.#passwords;
    // Worked out for an unknown user too, so that it takes the same time.
    const key = verified.keyOf(credentials.user, hash ?? '', credentials.password);
    if (hash !== undefined && verified.has(key)) return 'ok';
    const matches = await checks.compare(client, credentials.password, hash ?? UNKNOWN_USER_HASH);
    if (matches === 'busy') return 'busy';
    if (!matches || hash === undefined) return 'denied';
    verified.add(key);
    return 'ok';
  }
}
