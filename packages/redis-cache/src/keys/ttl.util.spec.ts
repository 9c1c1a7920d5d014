import { describe, expect, it } from '@jest/globals';
import { InvalidTtlError } from '../errors.js';
import { ttlToMs } from './ttl.util.js';

/** An object JSON.stringify cannot serialise. */
function circular(): object {
  const value: Record<string, unknown> = {};
  value.self = value;
  return value;
}

describe('ttlToMs', () => {
  it.each<[unknown, number]>([
    // Numbers are seconds, as in Redis EX.
    [1, 1_000],
    [30, 30_000],
    [3_600, 3_600_000],
    // Strings are durations with a unit.
    ['1ms', 1],
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['7d', 604_800_000],
  ])('converts %p to %p ms', (ttl, expected) => {
    expect(ttlToMs(ttl)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['zero seconds', 0],
    ['negative zero', -0],
    ['a negative number', -1],
    ['a fractional number', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe integer', Number.MAX_SAFE_INTEGER + 1],
    ['an empty string', ''],
    ['a bare number string', '30'],
    ['weeks (not in the grammar)', '1w'],
    ['a leading space', ' 30s'],
    ['a trailing newline', '30s\n'],
    ['a space between number and unit', '30 s'],
    ['a zero duration', '0s'],
    ['a zero duration in ms', '0ms'],
    ['a negative duration', '-1s'],
    ['a fractional duration', '1.5s'],
    ['an upper-case unit', '30S'],
    ['two units', '1h30m'],
    ['a unit without a number', 's'],
    ['an object', { seconds: 30 }],
    ['an array', ['30s']],
    ['a boolean', true],
    ['a bigint', 30n],
    ['a circular object', circular()],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s with InvalidTtlError', (_label, ttl) => {
    expect(() => ttlToMs(ttl)).toThrow(InvalidTtlError);
  });
});
