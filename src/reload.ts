import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { ConfigError } from './config/config-error.js';

/** How a reload ended: applied, or rejected with one problem per line while the running configuration stays. */
export type ReloadOutcome = Readonly<{ ok: true } | { ok: false; problems: readonly string[] }>;

/**
 * One part of a reload, such as "the config file and the credential files". `prepare` reads and checks what the
 * step owns and returns `apply`, which puts it into effect; it rejects (a ConfigError naming the keys) to refuse it.
 * `apply` only swaps in values that are already checked, and must not throw.
 */
export type ReloadStep = Readonly<{
  name: string;
  prepare: () => (() => void) | Promise<() => void>;
}>;

/** What a Reloader needs: its steps in order, and where the outcome goes. */
export type ReloaderOptions = Readonly<{
  steps: readonly ReloadStep[];
  clock: Clock;
  logger: Logger;
  /** Called after every reload: whether it was applied, and when it ended. */
  onOutcome: (successful: boolean, atMs: number) => void;
}>;

/**
 * Runs reloads one at a time (a second waits for the first) and all or nothing: every step prepares, and only when
 * none refused are they applied, in order. A refused reload changes nothing and logs its problems once.
 */
export class Reloader {
  readonly #options: ReloaderOptions;
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: ReloaderOptions) {
    this.#options = options;
  }

  /** Reloads after any reload under way; never rejects. */
  reload(): Promise<ReloadOutcome> {
    const outcome = this.#last.then(() => this.#run());
    this.#last = outcome;
    return outcome;
  }

  async #run(): Promise<ReloadOutcome> {
    const { steps, clock, logger, onOutcome } = this.#options;
    const applies: { step: ReloadStep; apply: () => void }[] = [];
    const problems: string[] = [];
    for (const step of steps) {
      try {
        applies.push({ step, apply: await step.prepare() });
      } catch (error) {
        problems.push(...problemsOf(step, error));
      }
    }
    if (problems.length > 0) {
      logger.error({ problems }, 'reload rejected; the running configuration is kept');
      onOutcome(false, clock.now());
      return { ok: false, problems };
    }
    for (const { step, apply } of applies) {
      try {
        apply();
      } catch (error) {
        // A bug, which may leave the reload half applied: say so rather than take the process down.
        const failed = problemsOf(step, error);
        logger.error({ problems: failed }, 'reload failed while being applied');
        onOutcome(false, clock.now());
        return { ok: false, problems: failed };
      }
    }
    logger.info('configuration reloaded');
    onOutcome(true, clock.now());
    return { ok: true };
  }
}

function problemsOf(step: ReloadStep, error: unknown): readonly string[] {
  if (error instanceof ConfigError) return error.problems;
  // Not a refused input but a bug: only its message, named after the step.
  return [`${step.name}: ${error instanceof Error ? error.message : String(error)}`];
}
