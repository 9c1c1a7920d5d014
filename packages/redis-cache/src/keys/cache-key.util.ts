import { createHash } from 'node:crypto';
import { InvalidKeyPatternError } from '../errors.js';

/** A key pattern parsed into its segments: `'jobs:item:{id}'` -> literal, literal, placeholder. */
export type Segment = { kind: 'literal'; value: string } | { kind: 'placeholder'; name: string };

export interface ParsedPattern {
  source: string;
  segments: Segment[];
  placeholders: string[];
}

/** The value a missing placeholder renders as: `~` itself is always percent-encoded, so nothing else renders so. */
export const MISSING_VALUE = '~';
/** Logical keys longer than this keep a readable head and replace the rest by a SHA-256 of the whole key. */
export const MAX_KEY_BYTES = 200;
const HEAD_BYTES = 120;

/** `{name}`, `{name.path}` (`{user.id}`, `{result.authorId}`), or a provider method's argument `{0}`, `{1.id}`. */
const PLACEHOLDER = /^\{((?:[A-Za-z_][A-Za-z0-9_]*|\d{1,2})(?:\.[A-Za-z_][A-Za-z0-9_]*){0,4})\}$/;
const LITERAL = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `'jobs:list:{skip}:{limit}'` or an invalidation prefix such as `'jobs:list:'`. Segments are separated by
 * `:`; a trailing `:` is allowed and means the same as none (prefixes always match whole segments). Each segment
 * is a literal (letters, digits, `_ . -`) or exactly one placeholder such as `{id}` or `{user.id}`.
 *
 * @throws InvalidKeyPatternError describing the first problem.
 */
export function parseKeyPattern(source: string): ParsedPattern {
  if (typeof source !== 'string' || source.length === 0)
    throw new InvalidKeyPatternError('empty key pattern');
  const trimmed = source.endsWith(':') ? source.slice(0, -1) : source;
  const segments = trimmed.split(':').map((part): Segment => {
    const placeholder = PLACEHOLDER.exec(part);
    if (placeholder)
      return { kind: 'placeholder', name: placeholder[1] === 'user_id' ? 'user.id' : placeholder[1] };
    if (LITERAL.test(part)) return { kind: 'literal', value: part };
    throw new InvalidKeyPatternError(
      `invalid segment ${JSON.stringify(part)} in key pattern ${JSON.stringify(source)}: ` +
        'use literals of letters, digits, _ . - or one {placeholder} per segment',
    );
  });
  const placeholders = segments.flatMap((s) => (s.kind === 'placeholder' ? [s.name] : []));
  return { source, segments, placeholders };
}

/**
 * Encodes one value so that it cannot change a key's structure: everything but letters, digits and `_ . -` is
 * percent-encoded (so `:`, `*`, `?`, `[`, `]`, `{`, `}`, `~`, whitespace and control characters never appear raw),
 * and a missing value renders as {@link MISSING_VALUE}, distinct from the empty string.
 */
export function encodeKeyValue(value: unknown): string {
  if (value === undefined || value === null) return MISSING_VALUE;
  const text =
    value instanceof Date ? value.toISOString() : isStructured(value) ? canonicalJson(value) : String(value);
  // encodeURIComponent throws on a lone surrogate (possible in JSON bodies); it becomes %uXXXX instead, which no
  // well-formed input can render as (a literal '%' always encodes as %25).
  let encoded = '';
  let from = 0;
  for (const match of text.matchAll(LONE_SURROGATE)) {
    encoded +=
      encodeText(text.slice(from, match.index)) + `%u${match[0].charCodeAt(0).toString(16).toUpperCase()}`;
    from = match.index + 1;
  }
  return encoded + encodeText(text.slice(from));
}

/**
 * Arrays and plain objects (a repeated query parameter, a nested query object) render as canonical JSON, so that
 * `?tag=a&tag=b` and `?tag=a,b` never share a key; a JSON text starts with `[` or `{`, which always encode.
 */
function isStructured(value: unknown): value is object {
  return Array.isArray(value) || (typeof value === 'object' && value !== null && !(value instanceof Date));
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function encodeText(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Renders a parsed pattern into segments, looking each placeholder up with `resolve`. */
export function renderSegments(pattern: ParsedPattern, resolve: (name: string) => unknown): string[] {
  return pattern.segments.map((segment) =>
    segment.kind === 'literal' ? segment.value : encodeKeyValue(resolve(segment.name)),
  );
}

/**
 * Joins rendered segments into a logical key. A key over {@link MAX_KEY_BYTES} keeps its first bytes (so it stays
 * readable in redis-cli) and replaces the tail by `#` and the SHA-256 of the whole key.
 */
export function joinKey(segments: string[]): string {
  const key = segments.join(':');
  if (key.length <= MAX_KEY_BYTES) return key;
  const digest = createHash('sha256').update(key).digest('base64url');
  return `${key.slice(0, HEAD_BYTES)}#${digest}`;
}

/**
 * Whether an invalidation prefix pattern can cover keys of a cached pattern: segment by segment over the prefix's
 * length, literals must agree unless one side is a placeholder.
 */
export function prefixCanCover(prefix: ParsedPattern, key: ParsedPattern): boolean {
  if (prefix.segments.length > key.segments.length) return false;
  return prefix.segments.every((segment, i) => {
    const other = key.segments[i];
    return segment.kind === 'placeholder' || other.kind === 'placeholder' || segment.value === other.value;
  });
}
