import { spawnSync } from 'node:child_process';

/** Whether a command is on the PATH. */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Skips the calling test when a tool is missing on a developer machine; in CI (CI=true) a missing
 * tool fails the test instead, so a broken install can never pass as a skip.
 */
export function requireTool(context: Mocha.Context, name: string): void {
  if (hasTool(name)) return;
  if (process.env.CI === 'true') throw new Error(`${name} is required when CI=true but is not installed`);
  context.skip();
}

/** The path of the first of these commands on the PATH; undefined when none is. */
export function findTool(names: readonly string[]): string | undefined {
  for (const name of names) {
    const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (result.status === 0) return result.stdout.trim();
  }
  return undefined;
}

/**
 * requireTool for a tool that goes by several names (Debian's `chromium`, a runner's `google-chrome`): the path of the
 * first found. Skips the test without any on a developer machine; fails in CI (CI=true).
 */
export function requireAnyTool(context: Mocha.Context, names: readonly string[]): string {
  const path = findTool(names);
  if (path !== undefined) return path;
  if (process.env.CI === 'true') throw new Error(`${names.join(' or ')} is required when CI=true but is not installed`);
  context.skip();
}

/** Runs `promtool check metrics` on an exposition (stdin): exit code and what it printed. */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
