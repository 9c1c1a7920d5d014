import { describe, expect, it } from '@jest/globals';
import { KeySpace } from './key-space.js';

const PREFIX = 'jobboard:';
const keys = new KeySpace(PREFIX);

/** A tenant's scope: what every physical key of that tenant starts with. */
const scopeOf = (tenant: string | undefined) => keys.generation(tenant, []).slice(0, -'g:'.length);

describe('KeySpace', () => {
  it('exposes its prefix and the root generation `<prefix>g:`', () => {
    expect(keys.prefix).toBe(PREFIX);
    expect(keys.rootGeneration).toBe('jobboard:g:');
    expect(new KeySpace('other-app:').rootGeneration).toBe('other-app:g:');
  });

  it.each<[string, string | undefined, string, string]>([
    [
      'the doc comment example',
      undefined,
      'jobs:list:0:20:~:Berlin:~:~:active',
      'jobboard:c:jobs:list:0:20:~:Berlin:~:~:active',
    ],
    ['a one-segment key', undefined, 'health', 'jobboard:c:health'],
    ['a hashed long key', undefined, `jobs:${'a'.repeat(10)}#abc`, `jobboard:c:jobs:${'a'.repeat(10)}#abc`],
    ['a tenant', 'acme', 'jobs:item:42', 'jobboard:t:acme:c:jobs:item:42'],
    ['an encoded tenant', 'a:b', 'jobs:item:42', 'jobboard:t:a%3Ab:c:jobs:item:42'],
  ])('entry: %s', (_label, tenant, logicalKey, expected) => {
    expect(keys.entry(tenant, logicalKey)).toBe(expected);
  });

  it.each<[string, string | undefined, string[], string, string]>([
    // label, tenant, prefix segments, generation counter, entry prefix
    [
      'the doc comment example',
      undefined,
      ['jobs', 'list'],
      'jobboard:g:jobs:list:',
      'jobboard:c:jobs:list:',
    ],
    ['one segment', undefined, ['jobs'], 'jobboard:g:jobs:', 'jobboard:c:jobs:'],
    [
      'a rendered placeholder',
      undefined,
      ['posts', 'user', '7'],
      'jobboard:g:posts:user:7:',
      'jobboard:c:posts:user:7:',
    ],
    [
      'a missing placeholder',
      undefined,
      ['posts', 'user', '~'],
      'jobboard:g:posts:user:~:',
      'jobboard:c:posts:user:~:',
    ],
    ['no segments (the root)', undefined, [], 'jobboard:g:', 'jobboard:c:'],
    ['a tenant', 'acme', ['jobs', 'list'], 'jobboard:t:acme:g:jobs:list:', 'jobboard:t:acme:c:jobs:list:'],
    ['a tenant, no segments', 'acme', [], 'jobboard:t:acme:g:', 'jobboard:t:acme:c:'],
  ])('generation and entryPrefix: %s', (_label, tenant, segments, generation, entryPrefix) => {
    expect(keys.generation(tenant, segments)).toBe(generation);
    expect(keys.entryPrefix(tenant, segments)).toBe(entryPrefix);
  });

  it('the generation of no segments without a tenant is the root generation', () => {
    expect(keys.generation(undefined, [])).toBe(keys.rootGeneration);
  });

  it('an entry prefix covers exactly the entries under its logical prefix', () => {
    const entryPrefix = keys.entryPrefix(undefined, ['jobs', 'list']);
    expect(keys.entry(undefined, 'jobs:list:0:20').startsWith(entryPrefix)).toBe(true);
    expect(keys.entry(undefined, 'jobs:listing:0:20').startsWith(entryPrefix)).toBe(false);
    expect(keys.entry('acme', 'jobs:list:0:20').startsWith(entryPrefix)).toBe(false);
  });

  describe('tenant encoding', () => {
    it.each<[string, string, string]>([
      ['a glob character', 'a*', 'ab'],
      ['a question mark', 'a?', 'ab'],
      ['a bracket', 'a[b]', 'ab'],
      ['a separator', 'a:b', 'ab'],
      ['the missing-value placeholder', '~', ''],
      ['an already encoded-looking tenant', 'a%3Ab', 'a:b'],
    ])('%s: tenants %p and %p get different scopes', (_label, a, b) => {
      expect(scopeOf(a)).not.toBe(scopeOf(b));
    });

    it.each<[string, string]>([
      ['a tenant', 'acme'],
      ['a glob tenant', 'a*'],
      ['a tenant with separators', 'x:c:jobs'],
      ['a tenant with control characters', 'a\nb\u0000'],
    ])('%s (%p) has a scope of exactly one encoded segment, without glob characters', (_label, tenant) => {
      expect(scopeOf(tenant)).toMatch(/^jobboard:t:[A-Za-z0-9_.%~-]*:$/);
    });

    const tenants = [
      'a',
      'b',
      'ab',
      'a*',
      'a:b',
      'a:t:b',
      'b:c:x',
      'a:c:jobs',
      'a:g:',
      '',
      '~',
      'c',
      'g',
      't',
    ];

    it.each(tenants.flatMap((a) => tenants.filter((b) => b !== a).map((b): [string, string] => [a, b])))(
      'no key of tenant %p lies in the scope of tenant %p',
      (a, b) => {
        for (const key of [
          keys.entry(a, 'jobs:list'),
          keys.generation(a, ['jobs']),
          keys.generation(a, []),
        ]) {
          expect(key.startsWith(scopeOf(b))).toBe(false);
        }
      },
    );

    it.each(tenants)('no key of tenant %p lies in the tenant-less layout', (tenant) => {
      const tenantless = [keys.entryPrefix(undefined, []), keys.rootGeneration];
      for (const key of [keys.entry(tenant, 'jobs:list'), keys.generation(tenant, ['jobs'])]) {
        for (const start of tenantless) expect(key.startsWith(start)).toBe(false);
      }
    });
  });
});
