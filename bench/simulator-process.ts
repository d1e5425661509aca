// The DIS simulator in a process of its own (forked by bench/run.ts), so its CPU is not counted as the exporter's
// and it does not share the exporter's event loop. Its latency fault waits on the system clock.
import { systemClock } from '../src/clock.js';
import { parseScenario, startFakeDis, type FakeDis } from '../src/simulator/fake-dis.js';
import { fleetScenario, type FleetShape } from './scenario.js';

/** Messages from bench/run.ts. */
export type SimulatorRequest =
  Readonly<{ type: 'start'; shape: FleetShape }> | Readonly<{ type: 'count' }> | Readonly<{ type: 'stop' }>;

/** Messages to bench/run.ts. */
export type SimulatorReply =
  | Readonly<{ type: 'ready'; url: string; startMs: number }>
  /** Requests answered since the previous count, by operation and by HTTP status (0: not answered). */
  | Readonly<{ type: 'count'; byOperation: Record<string, number>; byStatus: Record<string, number> }>
  | Readonly<{ type: 'error'; message: string }>;

let dis: FakeDis | undefined;

function send(reply: SimulatorReply): void {
  process.send?.(reply);
}

// The bench gone (killed, crashed) means the channel is gone: do not outlive it with a listening server.
process.on('disconnect', () => {
  void (dis?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});

process.on('message', (message: SimulatorRequest) => {
  void handle(message).catch((error: unknown) => send({ type: 'error', message: String(error) }));
});

async function handle(message: SimulatorRequest): Promise<void> {
  switch (message.type) {
    case 'start': {
      const started = performance.now();
      dis = await startFakeDis({ scenario: parseScenario(fleetScenario(message.shape)), clock: systemClock });
      send({ type: 'ready', url: dis.url, startMs: performance.now() - started });
      return;
    }
    case 'count': {
      const requests = dis?.control.requests() ?? [];
      dis?.control.resetRequests();
      const byOperation: Record<string, number> = {};
      const byStatus: Record<string, number> = {};
      for (const request of requests) {
        byOperation[request.operation] = (byOperation[request.operation] ?? 0) + 1;
        byStatus[request.status] = (byStatus[request.status] ?? 0) + 1;
      }
      send({ type: 'count', byOperation, byStatus });
      return;
    }
    case 'stop':
      process.disconnect();
      return;
  }
}
