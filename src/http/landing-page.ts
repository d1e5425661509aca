import { createHash } from 'node:crypto';
import type { Project } from '../config/types.js';
import type { Snapshot, TargetStatus } from '../poll/store.js';

// The page's only style, inline; the Content-Security-Policy allows exactly this text by its hash.
const STYLE = `
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
tr.up td:nth-child(3) { color: #1a7f37; }
tr.down td:nth-child(3) { color: #cf222e; font-weight: bold; }
`;

/** The CSP source expression (`sha256-…`) of the landing page's inline style. */
export const LANDING_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Pure: the landing page for a snapshot, a table of targets per project; every value from DIS or the config is escaped. */
export function renderLandingPage(
  snapshot: Snapshot,
  info: Readonly<{ version: string; projects: readonly Pick<Project, 'projectId' | 'region'>[] }>,
): string {
  const byProject = new Map<string, TargetStatus[]>();
  for (const status of snapshot.targets) {
    const statuses = byProject.get(status.projectId);
    if (statuses === undefined) byProject.set(status.projectId, [status]);
    else statuses.push(status);
  }
  // The configured projects in order, then any the snapshot still holds that a reload has just removed.
  const regions = new Map<string, string | undefined>(
    info.projects.map(({ projectId, region }) => [projectId, region]),
  );
  for (const projectId of byProject.keys()) if (!regions.has(projectId)) regions.set(projectId, undefined);
  const sections = [...regions].map(([projectId, region]) => {
    const heading = `<h2>Project ${escapeHtml(projectId)}${region === undefined ? '' : ` · ${escapeHtml(region)}`}</h2>`;
    if (snapshot.cyclesCompleted === 0) return heading;
    const statuses = byProject.get(projectId) ?? [];
    return statuses.length === 0 ? `${heading}\n<p>No targets.</p>` : `${heading}\n${targetTable(statuses)}`;
  });
  const pending = snapshot.cyclesCompleted === 0 ? '<p>The first poll cycle has not finished yet.</p>\n' : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>DIS exporter</title>
<style>${STYLE}</style>
</head>
<body>
<h1>DIS exporter</h1>
<p>Version ${escapeHtml(info.version)} · <a href="metrics">Metrics</a></p>
${pending}${sections.join('\n')}
</body>
</html>
`;
}

function targetTable(statuses: readonly TargetStatus[]): string {
  const rows = statuses.map((status) => {
    const state = status.lastPollMs === undefined ? 'pending' : status.up ? 'up' : 'down';
    const lastSuccess = status.lastSuccessMs === undefined ? 'never' : new Date(status.lastSuccessMs).toISOString();
    const lastError =
      status.lastError === undefined
        ? ''
        : `${status.lastError.reason} at ${new Date(status.lastError.atMs).toISOString()}: ${status.lastError.message}`;
    return (
      `<tr class="${state}"><td>${escapeHtml(status.target.stream)}</td><td>${escapeHtml(status.target.task)}</td>` +
      `<td>${state}</td><td>${lastSuccess}</td><td>${escapeHtml(lastError)}</td></tr>`
    );
  });
  return `<table>
<thead><tr><th>stream</th><th>task</th><th>state</th><th>last success</th><th>last error</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
