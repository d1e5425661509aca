import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ConfigError } from './config-error.js';

/** How a reload ended: applied, or rejected with one problem per line while the running configuration stays. */
export type ReloadOutcome = Readonly<{ ok: true } | { ok: false; problems: readonly string[] }>;

/**
 * One part of a reload, such as "the credential files" or "the web config file". `prepare` reads and checks what
 * the step owns, given what the reload read (the new configuration), and returns `apply`, which puts it into
 * effect; it rejects (a ConfigError naming the keys) to refuse it. `apply` only swaps in values that are already
 * checked, and must not throw.
 */
export type ReloadStep<T> = Readonly<{
  name: string;
  prepare: (next: T) => (() => void) | Promise<() => void>;
}>;

/** What a Reloader needs: how to read the new configuration, its steps in order, and where the outcome goes. */
export type ReloaderOptions<T> = Readonly<{
  /** Reads the new configuration (file and environment); throws a ConfigError to refuse it. */
  read: () => T | Promise<T>;
  steps: readonly ReloadStep<T>[];
  clock: Clock;
  logger: Logger;
  /** Called after every reload: whether it was applied, and when it ended. */
  onOutcome: (successful: boolean, atMs: number) => void;
}>;

/**
 * Runs reloads one at a time (a second waits for the first) and all or nothing: the configuration is read, every
 * step prepares from it, and only when none refused are they applied, in order. A refused reload changes nothing
 * and logs its problems once.
 */
export class Reloader<T> {
  readonly #options: ReloaderOptions<T>;
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: ReloaderOptions<T>) {
    this.#options = options;
  }

  /** Reloads after any reload under way; never rejects. */
  reload(): Promise<ReloadOutcome> {
    const outcome = this.#last.then(() => this.#run());
    this.#last = outcome;
    return outcome;
  }

  async #run(): Promise<ReloadOutcome> {
    const { read, steps, clock, logger, onOutcome } = this.#options;
    let next: T;
    try {
      next = await read();
    } catch (error) {
      // Nothing was read, so no step has anything to check.
      return this.#reject(problemsOf('config', error));
    }
    const applies: { step: ReloadStep<T>; apply: () => void }[] = [];
    const problems: string[] = [];
    for (const step of steps) {
      try {
        applies.push({ step, apply: await step.prepare(next) });
      } catch (error) {
        problems.push(...problemsOf(step.name, error));
      }
    }
    if (problems.length > 0) return this.#reject(problems);
    for (const { step, apply } of applies) {
      try {
        apply();
      } catch (error) {
        // A bug, which may leave the reload half applied: say so rather than take the process down.
        const failed = problemsOf(step.name, error);
        logger.error({ problems: failed }, 'reload failed while being applied');
        onOutcome(false, clock.now());
        return { ok: false, problems: failed };
      }
    }
    logger.info('configuration reloaded');
    onOutcome(true, clock.now());
    return { ok: true };
  }

  #reject(problems: readonly string[]): ReloadOutcome {
    this.#options.logger.error({ problems }, 'reload rejected; the running configuration is kept');
    this.#options.onOutcome(false, this.#options.clock.now());
    return { ok: false, problems };
  }
}

function problemsOf(name: string, error: unknown): readonly string[] {
  if (error instanceof ConfigError) return error.problems;
  // Not a refused input but a bug: only its message, named after the step.
  return [`${name}: ${error instanceof Error ? error.message : String(error)}`];
}
