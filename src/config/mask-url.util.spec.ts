import { describe, expect, it } from '@jest/globals';
import { maskUrl } from './mask-url.util.js';

const CANARY = 'CANARY-9f3e';

describe('maskUrl', () => {
  it('returns undefined for undefined', () => {
    expect(maskUrl(undefined)).toBeUndefined();
  });

  it.each([
    [`redis://default:${CANARY}@cache.internal:6379/0`, 'redis://default:***@cache.internal:6379/0'],
    [`redis://:${CANARY}@cache.internal:6379`, 'redis://:***@cache.internal:6379'],
    [`rediss://app:${CANARY}@cache.example.com:6380`, 'rediss://app:***@cache.example.com:6380'],
    [`postgres://jobs:${CANARY}@db.internal:5432/jobboard`, 'postgres://jobs:***@db.internal:5432/jobboard'],
    [`postgresql://jobs:${CANARY}@db.internal/jobboard`, 'postgresql://jobs:***@db.internal/jobboard'],
    // A user with no password is usually a token (e.g. managed Redis): the user is masked instead.
    [`redis://${CANARY}@cache.internal:6379`, 'redis://***@cache.internal:6379'],
    [`postgres://${CANARY}@db.internal/jobboard`, 'postgres://***@db.internal/jobboard'],
    // Query strings can carry passwords (libpq `?password=`, `?sslpassword=`): masked as a whole.
    [`postgres://jobs@db.internal/jobboard?password=${CANARY}`, 'postgres://***@db.internal/jobboard?***'],
    [
      `postgres://jobs:${CANARY}@db.internal/jobboard?sslmode=require&sslpassword=${CANARY}`,
      'postgres://jobs:***@db.internal/jobboard?***',
    ],
    // Nothing to hide: unchanged.
    ['redis://cache.internal:6379', 'redis://cache.internal:6379'],
    ['postgres://db.internal:5432/jobboard', 'postgres://db.internal:5432/jobboard'],
  ])('masks %s as %s', (input, expected) => {
    const masked = maskUrl(input);
    expect(masked).toBe(expected);
    expect(masked).not.toContain(CANARY);
  });

  it('keeps scheme, host, port and database visible so the log still says where it connects', () => {
    expect(maskUrl(`postgres://jobs:${CANARY}@db.internal:5433/jobboard`)).toMatch(
      /^postgres:\/\/.*db\.internal:5433\/jobboard$/,
    );
  });

  it.each([
    ['a bare secret', CANARY],
    ['text with spaces', `not a url ${CANARY}`],
    ['an out-of-range port', `redis://:${CANARY}@cache.internal:99999`],
    ['a non-numeric port', `redis://user:${CANARY}@cache.internal:port`],
    ['an unclosed IPv6 host', `postgres://jobs:${CANARY}@[::1/jobboard`],
    ['credentials without a host', `redis://:${CANARY}@/0`],
    ['an empty scheme', `://user:${CANARY}@host`],
    ['a leading colon', `:${CANARY}@host:6379`],
    ['user:password@host without a scheme', `default:${CANARY}@cache.internal:6379`],
    ['host:password without a scheme', `cache.internal:${CANARY}`],
    ['a token user followed by a colon', `${CANARY}:secret@cache.internal`],
    ['a password with a NUL', `redis://:${CANARY}\u0000@cache.internal`],
  ])('never echoes %s', (_label, input) => {
    const masked = maskUrl(input);
    expect(typeof masked).toBe('string');
    expect(masked!.toLowerCase()).not.toContain(CANARY.toLowerCase());
  });

  it.each([
    [`redis://:${CANARY}@cache.internal:99999`, 'redis://<unparseable>'],
    [`postgres://jobs:${CANARY}@[::1/jobboard`, 'postgres://<unparseable>'],
    [CANARY, '<unparseable>'],
    // Without `scheme://` the leading word may be a user name or a secret, so not even it is kept.
    [`default:${CANARY}@cache.internal:6379`, '<unparseable>'],
    [`${CANARY}:secret@cache.internal`, '<unparseable>'],
  ])('reduces unparseable %s to %s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });
});
