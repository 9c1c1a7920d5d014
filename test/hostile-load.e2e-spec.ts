// Issue 16's cost caps under load, on a real process over real sockets: one client that sends hostile bodies and
// query strings as fast as the server answers must not slow anyone's cached hits (it made them 190x slower when
// 9,000 unknown keys were validated one by one and listed in a 305 KB answer).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { call, register, seededDatabase } from './support/app-client.js';
import { spawnApp, type SpawnedApp } from './support/spawn-app.js';

const HIT_PATH = '/api/jobs?limit=20';
const SAMPLES = 400;
/**
 * Five times the rate at which the original attack took cached hits from 4 ms to 768 ms (on this 2-core machine,
 * 100/s still held within 1.6x; past about 200/s the attacking thread and the server compete for the cores).
 */
const ATTACK_PER_SECOND = 40;

/**
 * The attacker, on a thread of its own so that its client-side work does not delay the hits being timed: hostile
 * requests at a fixed rate (open loop: a slow answer does not slow the attack), each answer's status and size
 * posted back, until told to stop.
 */
const ATTACKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { baseUrl, token, hostile, perSecond } = workerData;
let sent = 0;
const timer = setInterval(() => {
  const attempt = hostile[sent++ % hostile.length];
  fetch(baseUrl + attempt.path, {
    method: attempt.method,
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: attempt.body,
  }).then(async (response) => {
    const text = await response.text();
    parentPort.postMessage({ expected: attempt.status, status: response.status, bytes: text.length });
  }, (error) => parentPort.postMessage({ expected: attempt.status, status: 0, bytes: 0, error: String(error) }));
}, 1000 / perSecond);
parentPort.on('message', () => { clearInterval(timer); setTimeout(() => process.exit(0), 500); });
`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('cached hits while one client floods the server with hostile input', () => {
  let db: Awaited<ReturnType<typeof seededDatabase>>;
  let app: SpawnedApp;
  let token: string;

  beforeAll(async () => {
    db = await seededDatabase('hostile');
    app = await spawnApp({
      DATABASE_URL: db.scratch.url,
      MIGRATE_ON_START: 'false',
      NODE_ENV: 'test',
      REDIS_URL: '',
      AUTH_RATE_LIMIT_MAX: '100000',
    });
    token = await register(app, 'attacker');
  });

  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  /** Sequential cached hits, each timed at the client: their latencies in ms. */
  async function timeHits(): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const answer = await call(app, 'GET', HIT_PATH);
      expect(answer.status).toBe(200);
      expect(answer.cache).toBe('HIT');
      times.push(answer.ms);
    }
    return times;
  }

  it('keeps the cached-hit median within 2x of its quiet value, every hostile request refused briefly', async () => {
    const keys = Array.from({ length: 9_000 }, (_, i) => `u${i}`);
    const job = { title: 'T', company: 'C', location: 'L', description: 'D' };
    const bodyWith = (count: number) =>
      JSON.stringify({ ...job, ...Object.fromEntries(keys.slice(0, count).map((key) => [key, 1])) });
    const query = keys
      .slice(0, 1_500)
      .map((key) => `${key}=1`)
      .join('&');
    const hostile = [
      { method: 'POST', path: '/api/jobs', body: bodyWith(9_000), status: 413 }, // 89 KB, over the route's limit
      { method: 'POST', path: '/api/jobs', body: bodyWith(5_000), status: 400 }, // fits, over the field cap
      { method: 'GET', path: `/api/jobs?${query}`, body: undefined, status: 400 },
      { method: 'GET', path: `/api/jobs/1?${query}`, body: undefined, status: 400 },
    ];
    expect(hostile[0].body!.length).toBeGreaterThan(85_000);

    await call(app, 'GET', HIT_PATH); // the miss that fills
    await timeHits(); // warm-up: JIT and connections, not measured
    const quiet = median(await timeHits());

    const refused: { expected: number; status: number; bytes: number }[] = [];
    const attacker = new Worker(ATTACKER, {
      eval: true,
      workerData: { baseUrl: app.baseUrl, token, hostile, perSecond: ATTACK_PER_SECOND },
    });
    attacker.on('message', (answer) => refused.push(answer));
    const ended = new Promise((resolve) => attacker.once('exit', resolve));
    const started = performance.now();
    let underAttack: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // the attack is under way
      underAttack = median(await timeHits());
    } finally {
      attacker.postMessage('stop');
      await ended;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `cached-hit median: quiet ${quiet.toFixed(2)} ms, under attack ${underAttack.toFixed(2)} ms ` +
        `(${(underAttack / quiet).toFixed(2)}x); ${refused.length} hostile requests answered in ` +
        `${seconds.toFixed(1)} s (offered ${ATTACK_PER_SECOND}/s), largest answer ` +
        `${Math.max(...refused.map((r) => r.bytes))} B`,
    );
    // The attack ran throughout (the worker takes some 100 ms to start).
    expect(refused.length).toBeGreaterThan((seconds - 0.5) * ATTACK_PER_SECOND * 0.7);
    expect(refused.filter((r) => r.status !== r.expected)).toEqual([]);
    expect(Math.max(...refused.map((r) => r.bytes))).toBeLessThan(2_000);
    expect(underAttack).toBeLessThanOrEqual(2 * quiet);
  });
});
