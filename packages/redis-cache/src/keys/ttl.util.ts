import { InvalidTtlError } from '../errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

/** A time to live: a number of seconds (as Redis `EX`), or a duration string such as `'30s'`, `'2m'`, `'1h'`. */
export type Ttl = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/**
 * Converts a TTL to milliseconds, the unit cache-manager and Keyv use; the one place where that conversion happens.
 *
 * @throws InvalidTtlError for anything that is not a positive whole number of seconds or a duration string.
 */
export function ttlToMs(ttl: unknown): number {
  if (typeof ttl === 'number' && Number.isSafeInteger(ttl) && ttl > 0) return ttl * 1_000;
  if (typeof ttl === 'string') {
    const match = DURATION.exec(ttl);
    if (match && Number(match[1]) > 0) return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  throw new InvalidTtlError(
    `invalid TTL ${typeof ttl === 'string' ? `'${ttl}'` : typeof ttl === 'number' ? ttl : `of type ${typeof ttl}`}: ` +
      "use a positive whole number of seconds or a duration like '30s', '2m', '1h'",
  );
}
