import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { PasswordVerifier } from './password-checks.js';

/**
 * The code of a worker: one bcrypt comparison per message, answered with its result (false for a malformed hash).
 * Given as source (`eval`) rather than as a file, so that it runs the same from src/ under tsx (whose loader does
 * not reach workers) and from the compiled dist/; bcryptjs comes from the path resolved here.
 */
const BCRYPT_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  let matches = false;
  try {
    matches = bcrypt.compareSync(password, hash);
  } catch {}
  parentPort.postMessage({ id, matches });
});
`;

/** A bcrypt comparison needs little memory; a worker gets this much heap at most. */
const WORKER_HEAP_MB = 16;

/** What a pool of workers is made of; the defaults are the production ones. */
export type BcryptWorkerOptions = Readonly<{
  /** Workers at most (1: a flood of wrong passwords takes one core at most, the event loop keeps the other). */
  workers?: number;
  /** Replaces the worker's code (tests: a worker that crashes). It gets `workerData.bcryptjs`. */
  source?: string;
  /** Called when a worker fails or exits; its comparison fails closed and a new worker takes the next one. */
  onWorkerError?: (error: Error) => void;
}>;

type Job = Readonly<{ password: string; hash: string; done: (matches: boolean) => void }>;
type Slot = { worker: Worker; job: Job | undefined; id: number };

/**
 * bcrypt comparisons in worker threads, so that a flood of them never holds up the event loop (which would delay
 * every answer, the probes' too, and even accepting connections). Workers start on the first comparison; each does
 * one comparison at a time and the others wait in order (the caller bounds how many: PasswordChecks). A worker that
 * fails is dropped, its comparison answers "no match" (fail closed), and a new one takes the next.
 */
export class BcryptWorkers {
  readonly #size: number;
  readonly #source: string;
  readonly #onWorkerError: (error: Error) => void;
  readonly #slots = new Set<Slot>();
  readonly #waiting: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: BcryptWorkerOptions = {}) {
    this.#size = Math.max(1, options.workers ?? 1);
    this.#source = options.source ?? BCRYPT_WORKER_SOURCE;
    this.#onWorkerError = options.onWorkerError ?? (() => undefined);
  }

  /** Compares a password with a bcrypt hash in a worker; never rejects (false once closed or when a worker fails). */
  readonly verify: PasswordVerifier = (password, hash) =>
    new Promise((resolve) => {
      if (this.#closed) {
        resolve(false);
        return;
      }
      this.#waiting.push({ password, hash, done: resolve });
      this.#dispatch();
    });

  /** Workers running now. */
  get workers(): number {
    return this.#slots.size;
  }

  /** Stops every worker; comparisons waiting or under way answer false. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.done(false);
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) slot.job?.done(false);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      let slot = [...this.#slots].find((candidate) => candidate.job === undefined);
      if (slot === undefined) {
        if (this.#slots.size >= this.#size) return;
        slot = this.#start();
      }
      const job = this.#waiting.shift()!;
      slot.job = job;
      slot.id = this.#nextId++;
      slot.worker.postMessage({ id: slot.id, password: job.password, hash: job.hash });
    }
  }

  #start(): Slot {
    const worker = new Worker(this.#source, {
      eval: true,
      workerData: { bcryptjs: createRequire(import.meta.url).resolve('bcryptjs') },
      // Nothing of the parent's command line (a TypeScript loader in tests) is needed to compare passwords.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    // The server keeps the process alive; an idle worker must not.
    worker.unref();
    const slot: Slot = { worker, job: undefined, id: -1 };
    worker.on('message', (message: { id: number; matches: boolean }) => {
      const job = slot.job;
      if (job === undefined || message.id !== slot.id) return;
      slot.job = undefined;
      job.done(message.matches === true);
      this.#dispatch();
    });
    const fail = (error: Error): void => {
      if (!this.#slots.delete(slot)) return;
      slot.job?.done(false);
      slot.job = undefined;
      this.#onWorkerError(error);
      void worker.terminate();
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`password check worker exited with code ${code}`)));
    this.#slots.add(slot);
    return slot;
  }
}
