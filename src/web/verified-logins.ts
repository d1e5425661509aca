import { createHmac, randomBytes } from 'node:crypto';

const ENTRIES = 256;

/**
 * The logins whose bcrypt comparison succeeded, so that a scraper every 15 s costs one comparison in all. An entry is
 * an HMAC of user, hash and password under a key made for this process: the memory holds nothing that could be
 * attacked offline faster than the bcrypt hash itself. It outlives a reload of the web config: a user whose hash is
 * unchanged keeps its entry, a changed hash makes other keys (its old entries age out). The oldest entries go first.
 */
export class VerifiedLogins {
  readonly #key = randomBytes(32);
  readonly #entries = new Set<string>();

  /** The entry of a login. */
  keyOf(user: string, hash: string, password: string): string {
    return createHmac('sha256', this.#key).update(`${user}\0${hash}\0${password}`).digest('base64');
  }

  /** Whether a login with this entry was verified, and recently enough to be still remembered. */
  has(key: string): boolean {
    if (!this.#entries.has(key)) return false;
    // Used again: the newest now.
    this.#entries.delete(key);
    this.#entries.add(key);
    return true;
  }

  /** Remembers a verified login. */
  add(key: string): void {
    this.#entries.delete(key);
    if (this.#entries.size >= ENTRIES) this.#entries.delete(this.#entries.values().next().value!);
    this.#entries.add(key);
  }
}
