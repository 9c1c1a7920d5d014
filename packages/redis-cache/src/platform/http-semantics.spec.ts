import { describe, expect, it } from '@jest/globals';
import { appendVary, etagMatches } from './http-semantics.js';

const ETAG = '"x"';

describe('etagMatches', () => {
  it.each<[string, string | undefined, string, boolean]>([
    ['an exact match', '"x"', ETAG, true],
    ['an exact match with surrounding spaces', '  "x"  ', ETAG, true],
    ['a list containing the tag', 'a, "x", "y"', ETAG, true],
    ['a list with the tag last', '"a","y","x"', ETAG, true],
    ['a weak tag in the header', 'W/"x"', ETAG, true],
    ['a weak tag in a list', '"a", W/"x"', ETAG, true],
    ['a weak stored tag', '"x"', 'W/"x"', true],
    ['weak on both sides', 'W/"x"', 'W/"x"', true],
    ['the wildcard', '*', ETAG, true],
    ['the wildcard with spaces', ' * ', ETAG, true],
    ['no header', undefined, ETAG, false],
    ['an empty header', '', ETAG, false],
    ['a different tag', '"y"', ETAG, false],
    ['a list without the tag', '"a", "y", W/"z"', ETAG, false],
    ['the tag without quotes', 'x', ETAG, false],
    ['a tag that only contains the stored one', '"xx"', ETAG, false],
    ['a lower-case weak prefix (not a weak tag)', 'w/"x"', ETAG, false],
    ['a header given twice (as an array)', ['"a"', '"x"'] as never, ETAG, true],
  ])('%s: If-None-Match %p against %p -> %p', (_label, header, etag, expected) => {
    expect(etagMatches(header, etag)).toBe(expected);
  });
});

describe('appendVary', () => {
  it.each<[string, string | string[] | undefined, string, string]>([
    ['nothing there yet', undefined, 'Authorization', 'Authorization'],
    ['an empty header', '', 'Authorization', 'Authorization'],
    ["CORS's Origin", 'Origin', 'Authorization', 'Origin, Authorization'],
    ['a list', 'Origin, Accept-Encoding', 'Authorization', 'Origin, Accept-Encoding, Authorization'],
    ['already there, other case', 'origin, authorization', 'Authorization', 'origin, authorization'],
    ['the wildcard', '*', 'Authorization', '*'],
    ['an array of headers', ['Origin', 'Accept'], 'Authorization', 'Origin, Accept, Authorization'],
  ])('%s: %p + %p -> %p', (_label, current, field, expected) => {
    expect(appendVary(current, field)).toBe(expected);
  });
});
