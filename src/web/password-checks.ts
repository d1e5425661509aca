/** Checks a password against a bcrypt hash. */
export type PasswordVerifier = (password: string, hash: string) => Promise<boolean>;

/** Limits on the bcrypt comparisons waiting or under way. */
export type PasswordCheckLimits = Readonly<{
  /** In all. */
  total: number;
  /** From one client address. */
  perClient: number;
}>;

/**
 * At most 16 comparisons wait or run at once, 4 of them from one address: with one worker the last of them waits for
 * 15 comparisons, each slow on purpose (docs/configuration.md ("Securing the endpoint")), and a flood from a few
 * addresses leaves room for a scraper's first login from its own.
 */
export const PASSWORD_CHECK_LIMITS: PasswordCheckLimits = Object.freeze({ total: 16, perClient: 4 });

/**
 * Admission for bcrypt comparisons: one is run only while fewer than the limits are pending, in all and from its
 * client; beyond them the check is refused at once and costs nothing. So the work a flood of wrong passwords can
 * cause is bounded, and so is the wait of a check that is let in.
 */
export class PasswordChecks {
  readonly #verify: PasswordVerifier;
  readonly #limits: PasswordCheckLimits;
  readonly #byClient = new Map<string, number>();
  #pending = 0;

  constructor(verify: PasswordVerifier, limits: PasswordCheckLimits = PASSWORD_CHECK_LIMITS) {
    this.#verify = verify;
    this.#limits = limits;
  }

  /** Comparisons waiting or under way. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Whether `password` matches `hash`, or 'busy' at once (no comparison) when the limits are reached. A verifier that
   * fails counts as no match.
   */
  async compare(client: string, password: string, hash: string): Promise<boolean | 'busy'> {
    const fromClient = this.#byClient.get(client) ?? 0;
    if (this.#pending >= this.#limits.total || fromClient >= this.#limits.perClient) return 'busy';
    this.#pending += 1;
    this.#byClient.set(client, fromClient + 1);
    try {
      return await this.#verify(password, hash).catch(() => false);
    } finally {
      this.#pending -= 1;
      const left = (this.#byClient.get(client) ?? 1) - 1;
      if (left === 0) this.#byClient.delete(client);
      else this.#byClient.set(client, left);
    }
  }
}
