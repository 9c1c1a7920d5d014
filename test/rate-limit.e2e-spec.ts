import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiClient, errorText } from './support/api-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('rate-limited login and register', () => {
  let t: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    t = await startTestApp('pglite', { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW: '1m' });
    api = new ApiClient(t.app);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 429 in the common shape once a client exceeds the window, per route', async () => {
    const attempts = [];
    for (let i = 0; i < 4; i++) {
      attempts.push(
        await api.post('/api/auth/login', { email: 'nobody@example.com', password: 'wrong-password' }),
      );
    }
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expect(errorText(attempts[3].body)).toMatch(/retry/i);
    expect(attempts[3].headers['retry-after']).toBeDefined();

    // Other routes are not limited, and register counts separately from login.
    for (let i = 0; i < 5; i++) expect((await api.get('/api/jobs?limit=1')).status).toBe(200);
    const register = await api.post('/api/auth/register', {
      email: 'rl@example.com',
      password: 'long enough',
      name: 'R',
    });
    expect(register.status).toBe(201);
  });
});
