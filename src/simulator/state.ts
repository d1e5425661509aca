import type { Response } from 'express';
import type { Clock } from '../clock.js';
import { createFakeAgency, type FakeAgency } from './agency.js';
import { createFaultInjector, type FaultInjector } from './faults.js';
import { createFakeIam, type FakeIam } from './iam.js';
import type { FaultKind, Operation, Scenario, ScenarioCredential } from './scenario.js';
import type { World, WorldEvent } from './world.js';

/** One request the fake answered (or deliberately did not: `status` 0 for `timeout`, `reset` and client aborts). */
export type RecordedRequest = Readonly<{
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The raw query string without `?`; `''` when there is none. */
  query: string;
  operation: Operation;
  status: number;
  requestId: string;
  /** Kinds of the injected faults that hit this request, in order. */
  faults: readonly FaultKind[];
  /** The `errorCode` (DIS) or `error_code` (API gateway) of the error body sent, when it had one. */
  errorCode?: string;
}>;

/** What the fake DIS's routes and its control handle share. */
export type FakeDisState = Readonly<{
  scenario: Scenario;
  clock: Clock;
  /** The scenario's time zero. */
  epochMs: number;
  /** The changes made through the control handle, oldest first; the world is the scenario plus these. */
  events: WorldEvent[];
  /** The simulated world as it is now. */
  world: () => World;
  faults: FaultInjector;
  iam: FakeIam;
  /** The metadata service, when the scenario has an agency. */
  agency: FakeAgency | undefined;
  /** Accepted AK/SK pairs by access key; empty (and no agency) turns signature checks off. */
  secrets: ReadonlyMap<string, string>;
  /** The security token of each accepted temporary AK/SK, by access key: its requests must carry it. */
  securityTokens: ReadonlyMap<string, string>;
  /** The requests answered so far, oldest first. */
  log: RecordedRequest[];
  /** Sets the `X-Request-Id` of a response to a new id, and returns it. */
  nextRequestId: (res: Response) => string;
}>;

/** The state of a new fake DIS: the scenario's world, faults and IAM users, and no requests yet. */
export function createFakeDisState(
  scenario: Scenario,
  clock: Clock,
  credentials: readonly ScenarioCredential[],
): FakeDisState {
  const epochMs = scenario.epochMs ?? clock.now();
  const events: WorldEvent[] = [];
  let requestCounter = 0;
  return {
    scenario,
    clock,
    epochMs,
    events,
    world: () => ({ scenario, epochMs, events }),
    faults: createFaultInjector(scenario.faults, scenario.seed),
    iam: createFakeIam(scenario.iam, scenario.projectId, scenario.seed),
    agency: scenario.agency === undefined ? undefined : createFakeAgency(scenario.agency, scenario.seed),
    secrets: new Map(credentials.map((c) => [c.accessKey, c.secretKey])),
    securityTokens: new Map(
      credentials.flatMap((c) => (c.securityToken === undefined ? [] : [[c.accessKey, c.securityToken] as const])),
    ),
    log: [],
    nextRequestId: (res) => {
      requestCounter += 1;
      // Deterministic, and shaped like the real 32-hex-digit ids.
      const id = requestCounter.toString(16).padStart(32, '0');
      res.setHeader('X-Request-Id', id);
      return id;
    },
  };
}
