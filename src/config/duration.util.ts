const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)?$/;

/**
 * Parses the duration grammar shared by every TTL in the project: a number is seconds (as in Redis `EX`),
 * a string is a whole number with a unit (`'500ms'`, `'30s'`, `'2m'`, `'1h'`, `'1d'`).
 *
 * @returns the duration in milliseconds, or `undefined` when the value is not in the grammar.
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value * 1_000 : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}
