import type { Project } from '../config/types.js';
import type { DisClient } from '../dis/client.js';

/**
 * The DIS client of each project: one client each, so each has its own endpoint, token, cool-down and API budget. A
 * reload keeps a project's client while its ID and endpoint stay (new credentials reach it through its getter) and
 * makes a new one otherwise; a client no longer used is retired, and closed only once the poll cycle that may still
 * use it is over (closeRetired), so that a reload never cuts a request short.
 */
export class ProjectClients {
  readonly #create: (project: Project) => DisClient;
  #current = new Map<string, Readonly<{ endpoint: string; client: DisClient }>>();
  #retired: DisClient[] = [];

  constructor(create: (project: Project) => DisClient) {
    this.#create = create;
  }

  /** Makes the clients of `projects` current: kept, or made for a new project ID or endpoint; the rest are retired. */
  update(projects: readonly Project[]): void {
    const next = new Map<string, Readonly<{ endpoint: string; client: DisClient }>>();
    for (const project of projects) {
      const kept = this.#current.get(project.projectId);
      const same = kept !== undefined && kept.endpoint === project.endpoint;
      next.set(project.projectId, same ? kept : { endpoint: project.endpoint, client: this.#create(project) });
    }
    for (const [projectId, { client }] of this.#current) {
      if (next.get(projectId)?.client !== client) this.#retired.push(client);
    }
    this.#current = next;
  }

  /** The client of a project made current by the last update. */
  clientOf(projectId: string): DisClient {
    const entry = this.#current.get(projectId);
    if (entry === undefined) throw new Error(`no DIS client for project ${projectId}`);
    return entry.client;
  }

  /** Every current client. */
  current(): DisClient[] {
    return [...this.#current.values()].map(({ client }) => client);
  }

  /**
   * Closes the retired clients; called when a poll cycle ends, as the cycle under way at the update (the only one that
   * may use them) is over then. A retired client that is current again stays open.
   */
  closeRetired(): void {
    const inUse = new Set(this.current());
    for (const client of new Set(this.#retired)) if (!inUse.has(client)) client.close();
    this.#retired = [];
  }

  /** Closes every client, retired or current, once each. */
  close(): void {
    for (const client of new Set([...this.#retired, ...this.current()])) client.close();
    this.#retired = [];
    this.#current = new Map();
  }
}
