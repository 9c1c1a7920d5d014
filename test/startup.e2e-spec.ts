import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { runAppExpectingExit, spawnApp } from './support/spawn-app.js';

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

describe('shutdown', () => {
  it('on SIGTERM fails readiness, keeps serving with Connection: close for the drain delay, then exits 0', async () => {
    const app = await spawnApp({ PGLITE_DIR: 'memory://', SHUTDOWN_DRAIN_MS: '1500', LOG_LEVEL: 'info' });
    expect((await fetch(`${app.baseUrl}/health/ready`)).status).toBe(200);
    const keepAlive = await fetch(`${app.baseUrl}/api/jobs?limit=1`);
    expect(keepAlive.headers.get('connection')).toBe('keep-alive');

    const started = Date.now();
    const stopped = app.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ready = await fetch(`${app.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const during = await fetch(`${app.baseUrl}/api/jobs?limit=1`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    expect(((await during.json()) as { items: unknown[] }).items).toHaveLength(1);

    const ended = await stopped;
    expect(ended).toEqual({ code: 0, signal: null, killed: false });
    // Bounded by the drain delay plus closing, not by the 72 s keep-alive timeout of idle sockets.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(app.output()).toMatch(/SIGTERM: draining for 1500 ms[\s\S]*"msg":"closed"/);
  });

  /** Sends a POST's headers and half its body, then nothing: resolves with the socket once the server closes it. */
  const stallBody = (baseUrl: string) => {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined); // a reset is one way of being cut
    socket.write('POST /api/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
    socket.write('Content-Length: 100\r\n\r\n{"content":"half a bo');
    return new Promise<number>((resolve) => {
      const started = Date.now();
      socket.once('close', () => resolve(Date.now() - started));
    });
  };

  it('cuts a request whose body stalls once REQUEST_TIMEOUT_MS passes in silence', async () => {
    const app = await spawnApp({ PGLITE_DIR: 'memory://', REQUEST_TIMEOUT_MS: '1500' });
    try {
      const cutAfter = await stallBody(app.baseUrl);
      expect(cutAfter).toBeGreaterThanOrEqual(1_000);
      expect(cutAfter).toBeLessThan(5_000);
      expect((await fetch(`${app.baseUrl}/health`)).status).toBe(200);
    } finally {
      expect((await app.stop()).code).toBe(0);
    }
  });

  it('on SIGTERM cuts a stalled body after the drain and exits 0 well within SHUTDOWN_TIMEOUT_MS', async () => {
    const app = await spawnApp({
      PGLITE_DIR: 'memory://',
      REQUEST_TIMEOUT_MS: '600000',
      SHUTDOWN_DRAIN_MS: '300',
      SHUTDOWN_TIMEOUT_MS: '8000',
      LOG_LEVEL: 'info',
    });
    const cut = stallBody(app.baseUrl);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the server has read the headers
    const started = Date.now();
    const ended = await app.stop();
    expect(ended).toEqual({ code: 0, signal: null, killed: false });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await cut).toBeLessThan(5_000);
    expect(app.output()).not.toMatch(/exceeded/);
  });
});
