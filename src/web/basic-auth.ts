import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** Checks a password against a bcrypt hash. */
export type PasswordVerifier = (password: string, hash: string) => Promise<boolean>;

/** bcryptjs, off the event loop's critical path (it yields between rounds). */
export const bcryptVerifier: PasswordVerifier = (password, hash) => bcrypt.compare(password, hash);

// Compared against when the user is unknown, so that a wrong user name costs as much as a wrong password and
// user names cannot be told apart by timing. The hash of a fixed phrase, cost 10 like `htpasswd -B`.
const UNKNOWN_USER_HASH = '$2b$10$nmPiSg2BRoogUAlj4Kc2ce0QpKt2Hi.tQXH6l9/jNTyQ/HwASHiBG';

const CACHE_ENTRIES = 256;

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

/**
 * HTTP basic auth against bcrypt hashes. bcrypt is slow on purpose, so a successful check is remembered (keyed by
 * an HMAC of user, hash and password under a key made for this process: the memory holds nothing that could be
 * attacked offline faster than the bcrypt hash itself) and a scrape every 15 s costs one bcrypt comparison in all.
 * Comparisons run one at a time, so a flood of wrong passwords takes one core at most.
 */
export class BasicAuth {
  readonly #users: ReadonlyMap<string, string>;
  readonly #verify: PasswordVerifier;
  readonly #cacheKey = randomBytes(32);
  readonly #verified = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(users: ReadonlyMap<string, string>, verify: PasswordVerifier = bcryptVerifier) {
    this.#users = users;
    this.#verify = verify;
  }

  /** Whether any user is configured (otherwise every request passes). */
  get enabled(): boolean {
    return this.#users.size > 0;
  }

  /** Whether the Authorization header carries a configured user and that user's password. */
  async check(authorization: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const credentials = parseBasicAuthorization(authorization);
    if (credentials === undefined) return false;
    const hash = this.#users.get(credentials.user);
    const known = hash !== undefined;
    const key = createHmac('sha256', this.#cacheKey)
      .update(`${credentials.user}\0${hash ?? ''}\0${credentials.password}`)
      .digest('base64');
    if (known && this.#verified.has(key)) return true;
    const compared = this.#queue.then(() => this.#verify(credentials.password, hash ?? UNKNOWN_USER_HASH));
    this.#queue = compared.catch(() => false);
    const matches = (await compared.catch(() => false)) && known;
    if (matches) {
      if (this.#verified.size >= CACHE_ENTRIES) this.#verified.delete(this.#verified.values().next().value!);
      this.#verified.add(key);
    }
    return matches;
  }
}
