import { CST, Lexer, isAlias, parseDocument, visit, type Document, type ErrorCode, type YAMLError } from 'yaml';
import type { ParseResult, SyntaxProblem } from './parse-result.js';

/**
 * The YAML 1.2 core schema, strictly: every mapping key a string, each key once, no YAML 1.1 tags (`!!binary`,
 * `!!set`...: `resolveKnownTags`), and no process warnings (which would print the text on stderr).
 */
const OPTIONS = {
  prettyErrors: false,
  schema: 'core',
  resolveKnownTags: false,
  stringKeys: true,
  uniqueKeys: true,
  logLevel: 'error',
} as const;

/** Expanding aliases past this many nodes is refused (a "billion laughs" file). */
const MAX_ALIAS_COUNT = 100;

/**
 * The text of each error, by its code. Never the parser's message: several quote the text (`Unresolved alias:
 * <name>`, `Invalid escape sequence <raw>`, `Unexpected <source>`), and a value can be a secret.
 */
const MESSAGES: Readonly<Record<ErrorCode, string>> = {
  ALIAS_PROPS: 'an alias (*name) cannot have a tag or an anchor',
  BAD_ALIAS: 'invalid alias (*name) or anchor (&name)',
  BAD_COLLECTION_TYPE: 'a tag does not fit its value',
  BAD_DIRECTIVE: 'unknown or invalid directive (a line starting with %)',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchors and tags must come after the -, ? or : indicator',
  BAD_SCALAR_START: 'a plain value cannot start with @, `, % or another reserved character; quote it',
  BLOCK_AS_IMPLICIT_KEY: 'nested mappings are not allowed in compact mappings',
  BLOCK_IN_FLOW: 'a block collection cannot be inside { } or [ ]',
  DUPLICATE_KEY: 'map keys must be unique',
  IMPOSSIBLE: 'syntax error',
  KEY_OVER_1024_CHARS: 'a key without "?" must be at most 1024 characters long',
  MISSING_CHAR: 'missing character',
  MULTILINE_IMPLICIT_KEY: 'implicit keys need to be on a single line',
  MULTIPLE_ANCHORS: 'a node can have at most one anchor',
  MULTIPLE_DOCS: 'the file must hold a single document (no "---" between two)',
  MULTIPLE_TAGS: 'a node can have at most one tag',
  NON_STRING_KEY: 'mapping keys must be strings',
  RESOURCE_EXHAUSTION: 'nested too deeply',
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
  TAG_RESOLVE_FAILED:
    'unknown tag, or a tag that does not fit its value (only !!str, !!int, !!float, !!bool, !!null, !!map and ' +
    '!!seq are allowed)',
  UNEXPECTED_TOKEN: 'unexpected text',
};

/**
 * The parser's messages that are fixed texts and more precise than MESSAGES: a message equal to one of these
 * cannot hold anything from the file.
 */
const FIXED_MESSAGES: ReadonlySet<string> = new Set([
  'Missing closing "quote',
  "Missing closing 'quote",
  'Missing , between flow map items',
  'Missing , between flow sequence items',
  'Missing , or : between flow map items',
  'Missing , or : between flow sequence items',
  'Implicit map keys need to be followed by map values',
  'Sequence item without - indicator',
  'Comments must be separated from other tokens by white space characters',
  'Tags and anchors must be separated from the next token by white space',
  'All mapping items must start at the same column',
  'All sequence items must start at the same column',
  'Flow map in block collection must be sufficiently indented and end with a }',
  'Flow sequence in block collection must be sufficiently indented and end with a ]',
  'Alias cannot be an empty string',
  'Anchor cannot be an empty string',
  'A block sequence may not be used as an implicit map key',
]);

function messageOf(error: YAMLError): string {
  if (FIXED_MESSAGES.has(error.message)) return error.message.charAt(0).toLowerCase() + error.message.slice(1);
  return MESSAGES[error.code] ?? 'syntax error';
}

/**
 * Where `{`/`[` first nest deeper than `maxDepth`, by the lexer (cheap, and it knows quotes and comments), before
 * the parser spends seconds and memory on them.
 */
function tooDeepAt(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-map-start' || type === 'flow-seq-start') {
      if (++depth > maxDepth) return offset;
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') {
      depth = Math.max(0, depth - 1);
    }
    // The lexer's control tokens mark modes and are not part of the text.
    if (token !== CST.DOCUMENT && token !== CST.FLOW_END && token !== CST.SCALAR) offset += token.length;
  }
  return undefined;
}

/**
 * The first alias with no anchor before it, or inside the node it names (a cycle, which the checks after parsing
 * would recurse into for ever).
 */
function badAlias(document: Document): SyntaxProblem | undefined {
  const anchored = new Map<string, unknown>();
  let found: SyntaxProblem | undefined;
  visit(document, {
    Node(_key, node, path) {
      if (isAlias(node)) {
        const target = anchored.get(node.source);
        const offset = node.range?.[0] ?? 0;
        if (target === undefined) found = { offset, message: 'an alias (*name) with no anchor (&name) before it' };
        else if (path.includes(target as never)) {
          found = { offset, message: 'an alias (*name) inside the value it names (a cycle)' };
        }
        return found === undefined ? undefined : visit.BREAK;
      }
      if (node.anchor !== undefined) anchored.set(node.anchor, node);
      return undefined;
    },
  });
  return found;
}

/**
 * Pure: the value of a YAML text (one document, the core schema), strictly: any parser error or warning (an unknown
 * tag or directive) is an error, as are a key that is not a string, an alias without its anchor, flow collections
 * nested deeper than `maxDepth` and aliases that expand too far. Error messages are fixed texts.
 */
export function parseStrictYaml(text: string, maxDepth: number): ParseResult {
  const deep = tooDeepAt(text, maxDepth);
  if (deep !== undefined) return { error: { offset: deep, message: `nested deeper than ${maxDepth} levels` } };
  const document = parseDocument(text, OPTIONS);
  // Only the first: the parser's later errors mostly follow from it and mislead.
  const [error] = [...document.errors, ...document.warnings];
  if (error !== undefined) return { error: { offset: error.pos[0], message: messageOf(error) } };
  const alias = badAlias(document);
  if (alias !== undefined) return { error: alias };
  try {
    return { value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch {
    // What is left is the alias count: its position is the whole document's.
    return { error: { message: `aliases expand to more than ${MAX_ALIAS_COUNT} values` } };
  }
}
