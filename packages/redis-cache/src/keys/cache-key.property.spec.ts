import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeKeyValue, joinKey, MAX_KEY_BYTES, parseKeyPattern, renderSegments } from './cache-key.util.js';

/** Strings an attacker would try: key syntax, glob characters, separators, whitespace, controls, unicode, length. */
const hostile = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      ':',
      '*',
      '?',
      '[',
      ']',
      '{',
      '}',
      '\\',
      '~',
      '%',
      ' ',
      '\t',
      '\n',
      '\r',
      '\0',
      '#',
      'a',
      'é',
      '🚀',
    ),
    maxLength: 64,
  }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    maxLength: 32,
  }),
  fc.string({ unit: 'grapheme', minLength: 1_000, maxLength: 10_000 }),
  fc.constantFrom('', '~', '%7E', 'null', 'undefined', '__proto__', '0', '-0'),
);

const pattern = parseKeyPattern('items:search:{q}:{page}');
const render = (q: unknown, page: unknown) =>
  joinKey(renderSegments(pattern, (name) => (name === 'q' ? q : page)));

describe('cache keys under hostile input (property-based, RELIABILITY.md §4 #16)', () => {
  it('never lets a value change the structure of a key: only letters, digits, _ . - % and the separators remain', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const encoded = encodeKeyValue(value);
        expect(encoded).toMatch(/^[A-Za-z0-9_.\-%]*$|^~$/);
        expect(encoded).not.toMatch(/[:*?[\]{}\s\\]/);
      }),
      { numRuns: 2_000 },
    );
  });

  it('maps different values to different keys (no collision), and the same value to the same key', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        expect(render(a, 1) === render(b, 1)).toBe(a === b);
        expect(render(a, 1)).toBe(render(a, 1));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps a missing value apart from every string, the empty one and "~" included', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        expect(render(undefined, 1)).not.toBe(render(value, 1));
        expect(render(null, 1)).toBe(render(undefined, 1));
      }),
      { numRuns: 1_000 },
    );
  });

  it('bounds every key, keeps its readable head, and never lets one segment run into the next', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 1_000_000 }), (q, page) => {
        const key = render(q, page);
        expect(key.length).toBeLessThanOrEqual(MAX_KEY_BYTES);
        expect(key.startsWith('items:search:')).toBe(true);
        const segments = key.split(':');
        if (!key.includes('#')) expect(segments).toHaveLength(4);
      }),
      { numRuns: 2_000 },
    );
  });
});
