import type { CallOptions, DisClient } from '../dis/client.js';
import type { AppListing, ConsumerState, DumpTask, DumpTaskSummary, StreamDetails } from '../dis/types.js';
import type { ScrapePriority } from './scrape-priority.js';

/**
 * The DIS client as the poller uses it: each DIS call first waits its turn behind the scrapes being rendered
 * (ScrapePriority.turn), then goes to the wrapped client unchanged; the cool-down and close() pass straight through.
 */
export class ScrapeFirstClient implements DisClient {
  readonly #client: DisClient;
  readonly #priority: Pick<ScrapePriority, 'turn'>;

  constructor(client: DisClient, priority: Pick<ScrapePriority, 'turn'>) {
    this.#client = client;
    this.#priority = priority;
  }

  async getDumpTask(stream: string, task: string, signal?: AbortSignal, options?: CallOptions): Promise<DumpTask> {
    await this.#priority.turn();
    return this.#client.getDumpTask(stream, task, signal, options);
  }

  async listStreams(signal?: AbortSignal, options?: CallOptions): Promise<string[]> {
    await this.#priority.turn();
    return this.#client.listStreams(signal, options);
  }

  async listDumpTasks(stream: string, signal?: AbortSignal, options?: CallOptions): Promise<DumpTaskSummary[]> {
    await this.#priority.turn();
    return this.#client.listDumpTasks(stream, signal, options);
  }

  async getStream(stream: string, signal?: AbortSignal, options?: CallOptions): Promise<StreamDetails> {
    await this.#priority.turn();
    return this.#client.getStream(stream, signal, options);
  }

  async listApps(signal?: AbortSignal, options?: CallOptions): Promise<AppListing> {
    await this.#priority.turn();
    return this.#client.listApps(signal, options);
  }

  async getConsumerState(
    app: string,
    stream: string,
    signal?: AbortSignal,
    options?: CallOptions,
  ): Promise<ConsumerState> {
    await this.#priority.turn();
    return this.#client.getConsumerState(app, stream, signal, options);
  }

  cooldownUntilMs(): number | undefined {
    return this.#client.cooldownUntilMs?.();
  }

  close(): void {
    this.#client.close();
  }
}
