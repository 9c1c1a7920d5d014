import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { InvalidKeyPatternError } from '../errors.js';
import {
  encodeKeyValue,
  joinKey,
  MAX_KEY_BYTES,
  MISSING_VALUE,
  parseKeyPattern,
  prefixCanCover,
  renderSegments,
  type Segment,
} from './cache-key.util.js';

const lit = (value: string): Segment => ({ kind: 'literal', value });
const ph = (name: string): Segment => ({ kind: 'placeholder', name });

/** Everything an encoded present value may contain; `~` is reserved for the missing value. */
const ENCODED_VALUE = /^[A-Za-z0-9_.%-]*$/;

describe('parseKeyPattern', () => {
  it.each<[string, Segment[], string[]]>([
    ['jobs', [lit('jobs')], []],
    ['jobs:list', [lit('jobs'), lit('list')], []],
    ['jobs:list:{skip}:{limit}', [lit('jobs'), lit('list'), ph('skip'), ph('limit')], ['skip', 'limit']],
    ['jobs:item:{id}', [lit('jobs'), lit('item'), ph('id')], ['id']],
    ['users:{user.id}', [lit('users'), ph('user.id')], ['user.id']],
    ['users:{user_id}', [lit('users'), ph('user.id')], ['user.id']],
    ['scores:{0}:{1.id}', [lit('scores'), ph('0'), ph('1.id')], ['0', '1.id']],
    ['deep:{body.author.id}', [lit('deep'), ph('body.author.id')], ['body.author.id']],
    ['posts:user:{result.authorId}', [lit('posts'), lit('user'), ph('result.authorId')], ['result.authorId']],
    ['posts:user:{body.author_id}', [lit('posts'), lit('user'), ph('body.author_id')], ['body.author_id']],
    ['{tenant}:jobs', [ph('tenant'), lit('jobs')], ['tenant']],
    ['v1.2:a-b:c_d', [lit('v1.2'), lit('a-b'), lit('c_d')], []],
    ['{_x}:{X9}', [ph('_x'), ph('X9')], ['_x', 'X9']],
  ])('parses %p', (source, segments, placeholders) => {
    expect(parseKeyPattern(source)).toStrictEqual({ source, segments, placeholders });
  });

  it.each<[string, string]>([
    ['jobs:list:', 'jobs:list'],
    ['jobs:', 'jobs'],
    ['posts:user:{authorId}:', 'posts:user:{authorId}'],
  ])('treats the trailing ":" of %p as absent', (withColon, without) => {
    const a = parseKeyPattern(withColon);
    const b = parseKeyPattern(without);
    expect(a.segments).toStrictEqual(b.segments);
    expect(a.placeholders).toStrictEqual(b.placeholders);
    expect(a.source).toBe(withColon);
  });

  it.each<[string, unknown]>([
    ['an empty pattern', ''],
    ['a lone separator', ':'],
    ['two placeholders in one segment', '{a}{b}'],
    ['a placeholder glued to a literal', 'jobs{id}'],
    ['a space', 'a b'],
    ['a glob star', 'a:*'],
    ['a glob star inside a literal', 'jobs*'],
    ['a question mark', 'a:?'],
    ['brackets', 'a:[b]'],
    ['a leading separator', ':x'],
    ['an empty middle segment', 'a::b'],
    ['two trailing separators', 'a::'],
    ['a placeholder starting with a digit', '{1x}'],
    ['an empty placeholder', '{}'],
    ['a placeholder with six levels', '{a.b.c.d.e.f}'],
    ['a positional placeholder of three digits', '{100}'],
    ['a path starting with a digit', '{0.1}'],
    ['a placeholder with a space', '{a b}'],
    ['an unclosed placeholder', 'jobs:{id'],
    ['an unopened placeholder', 'jobs:id}'],
    ['a tilde', 'a:~'],
    ['a percent sign', 'a:%3A'],
    ['a hash', 'a#b'],
    ['a newline', 'a\nb'],
    ['a non-string', undefined],
  ])('rejects %s (%p) with InvalidKeyPatternError', (_label, source) => {
    expect(() => parseKeyPattern(source as string)).toThrow(InvalidKeyPatternError);
  });
});

describe('encodeKeyValue', () => {
  it.each<[string, unknown, string]>([
    ['undefined', undefined, MISSING_VALUE],
    ['null', null, MISSING_VALUE],
    ['the empty string', '', ''],
    ['a plain word', 'Berlin', 'Berlin'],
    ['unreserved characters', 'a-b_c.d', 'a-b_c.d'],
    ['the missing-value character', '~', '%7E'],
    ['a separator', ':', '%3A'],
    ['a glob star', '*', '%2A'],
    ['a glob question mark', '?', '%3F'],
    ['an opening bracket', '[', '%5B'],
    ['a closing bracket', ']', '%5D'],
    ['an opening brace', '{', '%7B'],
    ['a closing brace', '}', '%7D'],
    ['a space', ' ', '%20'],
    ['a newline', '\n', '%0A'],
    ['a NUL', '\u0000', '%00'],
    ['a percent sign', '%', '%25'],
    ['a slash', '/', '%2F'],
    ['a hash', '#', '%23'],
    ['an exclamation mark', '!', '%21'],
    ['a quote', "'", '%27'],
    ['parentheses', '()', '%28%29'],
    ['a backslash', '\\', '%5C'],
    ['a non-ASCII letter', 'é', '%C3%A9'],
    ['an astral character', '🚀', '%F0%9F%9A%80'],
    ['a structured value', 'a:b*c', 'a%3Ab%2Ac'],
    ['zero', 0, '0'],
    ['a number', 42, '42'],
    ['a negative fraction', -1.5, '-1.5'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['a bigint', 12n, '12'],
    ['a date', new Date('2024-03-01T12:30:00.000Z'), '2024-03-01T12%3A30%3A00.000Z'],
    ['a repeated query parameter', ['a', 'b'], '%5B%22a%22%2C%22b%22%5D'],
    ['an object, keys in canonical order', { b: 1, a: [2] }, '%7B%22a%22%3A%5B2%5D%2C%22b%22%3A1%7D'],
  ])('encodes %s', (_label, value, expected) => {
    expect(encodeKeyValue(value)).toBe(expected);
  });

  const ASCII = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code));
  const TRICKY: unknown[] = [
    ...ASCII,
    'a b',
    'a\tb',
    'a\r\nb',
    '\u00a0',
    '\u2028',
    '\u200b',
    'é',
    'e\u0301',
    '🚀',
    '%3A',
    '%%',
    '{id}',
    'jobs:*',
    '[a-z]?',
    'x'.repeat(500),
    42,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    new Date(0),
    undefined,
    null,
  ];

  it.each(TRICKY.map((value) => [value]))(
    'never lets %p change key structure: only [A-Za-z0-9_.%~-], and ~ only when missing',
    (value) => {
      const encoded = encodeKeyValue(value);
      if (value === undefined || value === null) expect(encoded).toBe(MISSING_VALUE);
      else expect(encoded).toMatch(ENCODED_VALUE);
    },
  );

  it.each<[string, string]>([
    ['a lone high surrogate', '\uD800'],
    ['a lone low surrogate', '\uDFFF'],
    ['a lone surrogate inside text', 'a\uD83Db'],
    ['a truncated astral character', '🚀'.slice(0, 1)],
  ])('encodes %s (possible in a JSON body or result) without throwing', (_label, value) => {
    expect(() => encodeKeyValue(value)).not.toThrow();
    expect(encodeKeyValue(value)).toMatch(ENCODED_VALUE);
  });

  describe('is injective over tricky inputs', () => {
    const DISTINCT: (string | undefined)[] = [
      undefined,
      '',
      '~',
      '%7E',
      '%7e',
      'a:b',
      'a%3Ab',
      'a%3ab',
      'a%253Ab',
      'a b',
      'a+b',
      'a%20b',
      'a*',
      'a%2A',
      'ab',
      'a',
      'A',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\t',
      '\u0000',
      '%',
      '%25',
      '%%',
      ':',
      '::',
      '*',
      '?',
      '[',
      ']',
      '{',
      '}',
      '{a}',
      '/',
      '#',
      'null',
      'undefined',
      'é',
      'e\u0301',
      '\u00a0',
    ];

    it.each<[unknown, unknown]>([
      ['a:b', 'a%3Ab'],
      ['~', undefined],
      ['', undefined],
      ['', '~'],
      ['%7E', '~'],
      ['a*', 'ab'],
      ['null', null],
      ['undefined', undefined],
      [['a', 'b'], 'a,b'],
      [['a,b'], ['a', 'b']],
      [[], ''],
      [{}, '[object Object]'],
    ])('%p and %p encode differently', (a, b) => {
      expect(encodeKeyValue(a)).not.toBe(encodeKeyValue(b));
    });

    it('no two distinct values of the list share an encoding', () => {
      const seen = new Map<string, string | undefined>();
      const collisions: [string | undefined, string | undefined, string][] = [];
      for (const value of DISTINCT) {
        const encoded = encodeKeyValue(value);
        if (seen.has(encoded)) collisions.push([seen.get(encoded), value, encoded]);
        else seen.set(encoded, value);
      }
      expect(collisions).toEqual([]);
    });

    it.each(DISTINCT.filter((v): v is string => v !== undefined).map((value) => [value]))(
      '%p decodes back to itself (so the encoding is reversible)',
      (value) => {
        expect(decodeURIComponent(encodeKeyValue(value))).toBe(value);
      },
    );
  });
});

describe('renderSegments + joinKey', () => {
  const render = (pattern: string, values: Record<string, unknown>) =>
    joinKey(renderSegments(parseKeyPattern(pattern), (name) => values[name]));

  it.each<[string, string, Record<string, unknown>, string]>([
    ['literals only', 'jobs:list', {}, 'jobs:list'],
    ['placeholders', 'jobs:list:{skip}:{limit}', { skip: 0, limit: 20 }, 'jobs:list:0:20'],
    ['a missing value', 'jobs:list:{skip}:{limit}', { skip: 0 }, 'jobs:list:0:~'],
    ['a null value', 'jobs:list:{skip}:{limit}', { skip: 0, limit: null }, 'jobs:list:0:~'],
    ['an empty value', 'jobs:list:{skip}:{limit}', { skip: 0, limit: '' }, 'jobs:list:0:'],
    ['a value with separators', 'jobs:item:{id}', { id: 'a:b' }, 'jobs:item:a%3Ab'],
    ['a glob value', 'jobs:item:{id}', { id: '*' }, 'jobs:item:%2A'],
    ['the viewer alias', 'users:{user_id}', { 'user.id': 7 }, 'users:7'],
    ['a trailing separator in the pattern', 'jobs:list:', {}, 'jobs:list'],
  ])('renders %s', (_label, pattern, values, expected) => {
    expect(render(pattern, values)).toBe(expected);
  });

  it.each<[unknown]>([['a:b:c'], [':'], ['::'], ['x\ny'], ['*:?']])(
    'a value of %p stays one segment',
    (value) => {
      expect(render('jobs:item:{id}:{page}', { id: value, page: 1 }).split(':')).toHaveLength(4);
    },
  );

  it('resolves each placeholder by its name', () => {
    const asked: string[] = [];
    renderSegments(parseKeyPattern('a:{x}:b:{user_id}:{body.y}'), (name) => {
      asked.push(name);
      return name;
    });
    expect(asked).toEqual(['x', 'user.id', 'body.y']);
  });

  it.each<[string, number]>([
    ['an empty key', 0],
    ['a short key', 20],
    ['a key one under the limit', MAX_KEY_BYTES - 1],
    ['a key exactly at the limit', MAX_KEY_BYTES],
  ])('keeps %s unchanged', (_label, length) => {
    const key = `k:${'a'.repeat(Math.max(0, length - 2))}`.slice(0, length);
    expect(key).toHaveLength(length);
    expect(joinKey(key === '' ? [] : key.split(':'))).toBe(key);
  });

  it('joins segments with ":"', () => {
    expect(joinKey(['jobs', 'list', '0', '20'])).toBe('jobs:list:0:20');
  });

  it.each<[string, number]>([
    ['one over the limit', MAX_KEY_BYTES + 1],
    ['far over the limit', 5_000],
  ])('hashes the tail of a key %s: 120-char head, "#", 43-char base64url SHA-256', (_label, length) => {
    const segments = ['jobs', 'search', 'x'.repeat(length - 'jobs:search:'.length)];
    const key = segments.join(':');
    expect(key).toHaveLength(length);
    const joined = joinKey(segments);
    expect(joined).toMatch(/^.{120}#[A-Za-z0-9_-]{43}$/);
    expect(joined.slice(0, 120)).toBe(key.slice(0, 120));
    expect(joined.slice(121)).toBe(createHash('sha256').update(key).digest('base64url'));
    expect(joined.length).toBeLessThanOrEqual(MAX_KEY_BYTES);
  });

  it('hashes two long keys that differ only in their last character differently', () => {
    const head = `posts:search:${'q'.repeat(300)}`;
    const a = joinKey([head, '1']);
    const b = joinKey([head, '2']);
    expect(a.slice(0, 120)).toBe(b.slice(0, 120));
    expect(a).not.toBe(b);
  });

  it('a hashed key never equals a short key (encoded values cannot contain "#")', () => {
    const long = render('jobs:search:{q}', { q: 'y'.repeat(300) });
    expect(long).toContain('#');
    expect(render('jobs:search:{q}', { q: long })).not.toContain('#');
  });
});

describe('prefixCanCover', () => {
  it.each<[string, string, boolean]>([
    ['jobs:list:', 'jobs:list:{skip}:{limit}', true],
    ['jobs:list', 'jobs:list:{skip}:{limit}', true],
    ['jobs:', 'jobs:list:{skip}:{limit}', true],
    ['jobs:', 'jobs:item:{id}', true],
    ['jobs:item:{id}', 'jobs:item:{id}', true],
    ['jobs:item:{id}:', 'jobs:item:{id}', true],
    ['jobs:item:{id}', 'users:item:{id}', false],
    ['jobs:item:{id}', 'users:{id}', false],
    ['posts:user:{authorId}:', 'posts:user:{userId}:{skip}:{limit}', true],
    ['posts:user:{result.authorId}', 'posts:user:{user.id}', true],
    ['posts:user:42', 'posts:user:{userId}:{skip}', true],
    ['posts:{kind}:42', 'posts:user:{id}', true],
    ['jobs:list:{skip}:{limit}', 'jobs:list', false],
    ['jobs:list:{skip}:{limit}:extra', 'jobs:list:{skip}:{limit}', false],
    ['jobs:list:x:', 'jobs:list', false],
    ['jobs:list:', 'jobs:listing:{skip}', false],
    ['jobs:list:', 'jobs:item:{id}', false],
    ['users:', 'jobs:list:{skip}:{limit}', false],
    ['posts:user:7', 'posts:user:8', false],
    ['posts:user:7:', 'posts:item:{id}', false],
  ])('%p covers %p: %p', (prefix, key, expected) => {
    expect(prefixCanCover(parseKeyPattern(prefix), parseKeyPattern(key))).toBe(expected);
  });
});
