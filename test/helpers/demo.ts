import { spawn } from 'node:child_process';

/** `npm run demo` running in its own process group: its output so far, and how to stop it as Ctrl-C does. */
export type RunningDemo = Readonly<{
  stdout: () => string;
  /** Sends SIGINT to the process group; resolves with the signal or exit code npm ended with. */
  interrupt: () => Promise<string>;
}>;

/**
 * Starts `npm run demo` with `args` after `--`, its exporter on `port`, polling every second with JSON logs, and
 * waits (up to a minute, the build included) until it prints the metrics URL.
 */
export async function startDemo(port: number, args: readonly string[] = []): Promise<RunningDemo> {
  const child = spawn('npm', ['run', 'demo', ...(args.length === 0 ? [] : ['--', ...args])], {
    env: { ...process.env, DIS_EXPORTER_PORT: String(port), DIS_POLL_INTERVAL: '1s', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the signal reaches npm's child like Ctrl-C does
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  const exited = new Promise<string>((resolve) => child.on('close', (code, signal) => resolve(signal ?? String(code))));
  for (let i = 0; i < 1200 && !stdout.includes('Metrics:'); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    stdout: () => stdout,
    interrupt: () => {
      process.kill(-child.pid!, 'SIGINT');
      return exited;
    },
  };
}
