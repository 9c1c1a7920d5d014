import { describe, expect, it } from '@jest/globals';
import { hashPassword, verifyPassword } from './password.util.js';

describe('password hashing', () => {
  it('writes a self-describing scrypt hash with a 16-byte salt and a 64-byte key', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const [scheme, n, r, p, salt, key] = stored.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(key, 'base64')).toHaveLength(64);
    expect(stored).not.toContain('correct horse');
  });

  it.each([
    'password123',
    '',
    ' leading and trailing ',
    'Zürich ☕ 密码',
    'a'.repeat(1_000),
    'with$dollar$signs',
  ])('verifies %p against its own hash', async (password) => {
    await expect(verifyPassword(password, await hashPassword(password))).resolves.toBe(true);
  });

  it.each([
    ['a different password', 'password124'],
    ['a different case', 'PASSWORD123'],
    ['a prefix', 'password12'],
    ['an extension', 'password1234'],
    ['a trailing space', 'password123 '],
    ['the empty string', ''],
  ])('rejects %s', async (_label, attempt) => {
    const stored = await hashPassword('password123');
    await expect(verifyPassword(attempt, stored)).resolves.toBe(false);
  });

  it('salts: two hashes of one password differ, and each verifies', async () => {
    const [first, second] = await Promise.all([hashPassword('password123'), hashPassword('password123')]);
    expect(first).not.toBe(second);
    expect(first.split('$')[4]).not.toBe(second.split('$')[4]);
    await expect(verifyPassword('password123', first)).resolves.toBe(true);
    await expect(verifyPassword('password123', second)).resolves.toBe(true);
  });

  describe('malformed stored values verify as false and never throw', () => {
    const salt = Buffer.from('0123456789abcdef').toString('base64');
    const key = Buffer.alloc(64, 7).toString('base64');

    it.each([
      ['empty', ''],
      ['bcrypt-style', 'bcrypt$2b$10$abcdefghijklmnopqrstuv'],
      ['a real bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['scrypt with too few fields', 'scrypt$1$2'],
      ['the scheme alone', 'scrypt'],
      ['an upper-case scheme', `SCRYPT$16384$8$1$${salt}$${key}`],
      ['an empty salt', `scrypt$16384$8$1$$${key}`],
      ['an empty key', `scrypt$16384$8$1$${salt}$`],
      ['a non-numeric cost', `scrypt$abc$8$1$${salt}$${key}`],
      ['a cost that is not a power of two', `scrypt$3$8$1$${salt}$${key}`],
      ['a cost of 1', `scrypt$1$8$1$${salt}$${key}`],
      ['a cost beyond the memory limit', `scrypt$1048576$8$1$${salt}$${key}`],
      ['an absurd cost', `scrypt$1099511627776$8$1$${salt}$${key}`],
      ['a missing block size', `scrypt$16384$$1$${salt}$${key}`],
      ['a negative parallelism', `scrypt$16384$8$-1$${salt}$${key}`],
    ])('%s', async (_label, stored) => {
      await expect(verifyPassword('password123', stored)).resolves.toBe(false);
    });

    // A key that decodes to no bytes compares two empty buffers: every password would match.
    it.each(['!!!!', '====', '*'])(
      'a key that decodes to nothing (%p) matches no password',
      async (badKey) => {
        for (const attempt of ['password123', '', 'anything']) {
          await expect(verifyPassword(attempt, `scrypt$16384$8$1$${salt}$${badKey}`)).resolves.toBe(false);
        }
      },
    );

    it('a truncated key does not verify, not even for the right password', async () => {
      const stored = await hashPassword('password123');
      const parts = stored.split('$');
      const truncated = Buffer.from(parts[5], 'base64').subarray(0, 2).toString('base64');
      await expect(verifyPassword('password123', [...parts.slice(0, 5), truncated].join('$'))).resolves.toBe(
        false,
      );
    });
  });
});
