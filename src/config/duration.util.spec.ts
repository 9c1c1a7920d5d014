import { describe, expect, it } from '@jest/globals';
import { parseDurationMs } from './duration.util.js';

describe('parseDurationMs', () => {
  it.each<[unknown, number]>([
    // Numbers are seconds, as in Redis EX.
    [0, 0],
    [1, 1_000],
    [30, 30_000],
    [3_600, 3_600_000],
    // Strings carry a unit; a bare number string is seconds too.
    ['500ms', 500],
    ['0ms', 0],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['7d', 604_800_000],
    ['30', 30_000],
    ['0', 0],
    ['999999999ms', 999_999_999],
    // Surrounding whitespace (a stray space or newline in a .env file) is trimmed.
    [' 30s ', 30_000],
    ['5s\n', 5_000],
  ])('parses %p as %p ms', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['whitespace only', '   '],
    ['a fraction', '1.5s'],
    ['a fractional number of seconds', 1.5],
    ['a negative string', '-1'],
    ['a negative string with a unit', '-1s'],
    ['a negative number', -1],
    ['weeks (not in the grammar)', '1w'],
    ['an upper-case unit', '1S'],
    ['a unit without a number', 's'],
    ['a space between number and unit', '10 s'],
    ['a space inside the number', '1 0s'],
    ['two units', '1h30m'],
    ['a unit before the number', 's10'],
    ['exponent notation', '1e3'],
    ['hexadecimal', '0x10'],
    ['a plus sign', '+5s'],
    ['more than nine digits', '1234567890'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe integer', Number.MAX_SAFE_INTEGER + 1],
    ['an object', { seconds: 5 }],
    ['an array', ['5s']],
    ['a boolean', true],
    ['null', null],
    ['undefined', undefined],
    ['a bigint', 5n],
  ])('rejects %s', (_label, input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});
