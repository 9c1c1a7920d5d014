import { describe, expect, it } from '@jest/globals';
import { reconnectDelayMs } from './redis-client.factory.js';

const CAP_MS = 2_000;
const low = () => 0;
const high = () => 1;

describe('reconnectDelayMs', () => {
  it.each<[number, number, number]>([
    // retries, delay with random() = 0, delay with random() = 1
    [0, 25, 50],
    [1, 50, 100],
    [2, 100, 200],
    [3, 200, 400],
    [4, 400, 800],
    [5, 800, 1_600],
    [6, 1_000, CAP_MS],
    [10, 1_000, CAP_MS],
    [11, 1_000, CAP_MS],
    [50, 1_000, CAP_MS],
    [1_000, 1_000, CAP_MS],
    [Number.MAX_SAFE_INTEGER, 1_000, CAP_MS],
    [Number.POSITIVE_INFINITY, 1_000, CAP_MS],
  ])('after %p retries waits between %p and %p ms', (retries, min, max) => {
    expect(reconnectDelayMs(retries, low)).toBe(min);
    expect(reconnectDelayMs(retries, high)).toBe(max);
  });

  it('doubles from 50 ms until it reaches the 2 s cap', () => {
    const maxima = Array.from({ length: 8 }, (_, retries) => reconnectDelayMs(retries, high));
    expect(maxima).toEqual([50, 100, 200, 400, 800, 1_600, CAP_MS, CAP_MS]);
  });

  it.each<[number]>([[0], [0.25], [0.5], [0.999_999], [1]])(
    'with random() = %p is a whole, non-negative, non-decreasing number of ms within the cap',
    (r) => {
      let previous = 0;
      for (let retries = 0; retries <= 2_000; retries += 1) {
        const delay = reconnectDelayMs(retries, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThan(0);
        expect(delay).toBeLessThanOrEqual(CAP_MS);
        expect(delay).toBeGreaterThanOrEqual(previous);
        previous = delay;
      }
    },
  );

  it('defaults to Math.random and stays within the jitter bounds', () => {
    for (let i = 0; i < 200; i += 1) {
      const delay = reconnectDelayMs(i % 20);
      expect(delay).toBeGreaterThanOrEqual(reconnectDelayMs(i % 20, low));
      expect(delay).toBeLessThanOrEqual(reconnectDelayMs(i % 20, high));
    }
  });
});
