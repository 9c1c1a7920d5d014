import { describe, expect, it } from '@jest/globals';
import { runAppExpectingExit } from './support/spawn-app.js';

const CANARY = 'CANARY-9f3e';

/** Start-up refuses a bad environment with a message that names variables and rules, never values. */
describe('startup configuration', () => {
  it.each([
    ['a malformed DATABASE_URL', { DATABASE_URL: `mysql://root:${CANARY}@db/x` }, /DATABASE_URL/],
    ['a REDIS_URL with the wrong scheme', { REDIS_URL: `http://:${CANARY}@cache:6379` }, /REDIS_URL/],
    ['a port out of range', { PORT: `70000${CANARY}` }, /PORT/],
    ['an unknown duration', { CACHE_DEFAULT_TTL: `${CANARY}` }, /CACHE_DEFAULT_TTL/],
    [
      'production without secrets',
      { NODE_ENV: 'production' },
      /JWT_SECRET[\s\S]*ADMIN_TOKEN|ADMIN_TOKEN[\s\S]*JWT_SECRET/,
    ],
    [
      'production with a short JWT secret',
      { NODE_ENV: 'production', JWT_SECRET: CANARY, ADMIN_TOKEN: 'x'.repeat(20) },
      /JWT_SECRET/,
    ],
  ])('exits 1 on %s, naming the variable and never printing its value', async (_case, env, named) => {
    const { code, output } = await runAppExpectingExit({ PGLITE_DIR: 'memory://', ...env });
    expect(code).toBe(1);
    expect(output).toMatch(named);
    expect(output).not.toContain(CANARY);
  });
});
