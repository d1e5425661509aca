import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError, errnoCode } from './config-error.js';

function syntaxMessage(error: YAMLError, json: boolean): string {
  // These two quote part of a scalar, which could be a secret.
  if (error.code === 'BAD_DQ_ESCAPE') return 'invalid escape sequence in a double-quoted string';
  if (error.code === 'TAG_RESOLVE_FAILED' && json) return 'strings must be in double quotes';
  if (error.code === 'MULTIPLE_DOCS') return 'the file must hold a single document (no "---" between two)';
  const message = error.message.charAt(0).toLowerCase() + error.message.slice(1);
  if (!json) return message;
  return message.replaceAll('flow map', 'object').replaceAll('flow sequence', 'array').replace(' in YAML stream', '');
}

/** The parsed contents of a YAML (or, by its `.json` extension, JSON) config file; errors give line and column. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read: ${errnoCode(error)}`]);
  }
  // JSON goes through the YAML parser's JSON schema too: unlike JSON.parse on Node 20, it gives a
  // line and column for every error and never quotes the surrounding text (which may hold a secret).
  // Any other extension is read as YAML, of which JSON is a subset.
  const json = extname(file).toLowerCase() === '.json';
  const language = json ? 'JSON' : 'YAML';
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, lineCounter, schema: json ? 'json' : 'core' });
  // Only the first error: the parser's later ones mostly follow from it and mislead.
  const [error] = document.errors;
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError([`${file}:${line}:${col}: invalid ${language}: ${syntaxMessage(error, json)}`]);
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${file}: invalid ${language}: ${message}`]);
  }
}
