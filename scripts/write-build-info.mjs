// Stamps dist/build-info.json with the git commit being built, for dis_exporter_build_info{revision}.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

let revision = process.env.DIS_EXPORTER_REVISION ?? '';
if (revision === '') {
  try {
    revision = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    revision = 'unknown';
  }
}
mkdirSync('dist', { recursive: true });
writeFileSync('dist/build-info.json', `${JSON.stringify({ revision })}\n`);
