import type { ServerResponse } from 'node:http';
import { mulberry32 } from './prng.js';
import type { Fault, FaultKind, Operation } from './scenario.js';

/** What a request looks like to fault matching. */
export type FaultContext = Readonly<{
  operation: Operation;
  stream?: string;
  task?: string;
  /** Milliseconds since the scenario's time zero. */
  elapsedMs: number;
}>;

/** A terminal fault: the one that decides the response instead of the normal handler. */
export type TerminalFault = Fault & Readonly<{ kind: Exclude<FaultKind, 'latency'> }>;

/** The faults that hit one request: total latency to add, then at most one terminal fault. */
export type FaultPlan = Readonly<{ latencyMs: number; terminal?: TerminalFault; applied: readonly FaultKind[] }>;

/** Holds the active faults and decides, deterministically, which of them hit each request. */
export interface FaultInjector {
  /** Adds a fault after the existing ones. */
  add(fault: Fault): void;
  /** Removes every fault, the scenario's included. */
  clear(): void;
  /** Decides which faults hit a request; counts `times` and draws `probability` as a side effect. */
  plan(context: FaultContext): FaultPlan;
}

/** Whether a fault's `match` and time window cover a request (ignoring `times` and `probability`). */
export function faultMatches(fault: Fault, context: FaultContext): boolean {
  const match = fault.match;
  if (match?.operation !== undefined && match.operation !== context.operation) return false;
  if (match?.stream !== undefined && match.stream !== context.stream) return false;
  if (match?.task !== undefined && match.task !== context.task) return false;
  if (fault.fromMs !== undefined && context.elapsedMs < fault.fromMs) return false;
  if (fault.untilMs !== undefined && context.elapsedMs >= fault.untilMs) return false;
  return true;
}

/** Creates an injector over `faults`, with `probability` drawn from a PRNG seeded by `seed`. */
export function createFaultInjector(faults: readonly Fault[], seed: number): FaultInjector {
  const entries: { fault: Fault; hits: number }[] = faults.map((fault) => ({ fault, hits: 0 }));
  const random = mulberry32(seed);
  return {
    add(fault) {
      entries.push({ fault, hits: 0 });
    },
    clear() {
      entries.length = 0;
    },
    plan(context) {
      let latencyMs = 0;
      const applied: FaultKind[] = [];
      for (const entry of entries) {
        const { fault } = entry;
        if (!faultMatches(fault, context)) continue;
        if (fault.times !== undefined && entry.hits >= fault.times) continue;
        // Draw only for faults that could apply, so one fault's draws do not depend on unrelated requests.
        if (fault.probability !== undefined && !(random() < fault.probability)) continue;
        entry.hits += 1;
        applied.push(fault.kind);
        if (fault.kind === 'latency') {
          latencyMs += fault.latencyMs ?? 0;
        } else {
          // The first terminal fault decides the response; later ones are not consumed.
          return { latencyMs, terminal: fault as TerminalFault, applied };
        }
      }
      return { latencyMs, applied };
    },
  };
}

/** The start of an `oversized` body: it looks like JSON, and never ends. */
const OVERSIZED_PREFIX = '{"padding":"';
const OVERSIZED_CHUNK_BYTES = 64 * 1024;

/**
 * Writes a body of exactly `bytes` bytes in chunks (no Content-Length, so the client must count), waiting for
 * 'drain' between chunks; stops as soon as the client hangs up, as a client enforcing a size cap does.
 */
export function writeOversizedBody(res: ServerResponse, bytes: number): void {
  const prefix = Buffer.from(OVERSIZED_PREFIX).subarray(0, bytes);
  const chunk = Buffer.alloc(OVERSIZED_CHUNK_BYTES, 'x');
  res.write(prefix);
  let left = bytes - prefix.length;
  const pump = (): void => {
    while (left > 0) {
      if (res.destroyed) return;
      const size = Math.min(left, chunk.length);
      left -= size;
      if (!res.write(chunk.subarray(0, size))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}
