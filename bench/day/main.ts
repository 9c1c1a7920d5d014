// `npm run bench:day`: a production day under load. A scratch database of the default seed size, a Redis of the
// bench's own, then the scenarios: the mixed day per mode (scenarios/mixed-day.ts), CPU per request along the hit
// paths (scenarios/hit-paths.ts), and the open-loop generator cross-checked against autocannon
// (scenarios/cross-check.ts). Prints the table, the chart's path and the stale count; writes bench/results/latest-day.*
// and appends a line to bench/results/day-history.csv.
//
// Options: --step-seconds S (30) --seed N (20261204) --modes a,b (all) --rounds N (2, hit paths). Needs a PostgreSQL
// server: BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (a scratch database is created and dropped there).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  createScratchDatabase,
  gitCommit,
  machineDescription,
  redactUrl,
  root,
  seedJobs,
  versionOf,
} from '../lib.mjs';
import { standaloneDeployment } from '../topologies.mjs';
import { cleanupAll, log, onCleanup, startRedis } from './lib/processes.js';
import { buildUniverse, distinctKeys, TOKEN_SHARE, VIEWERS, WRITE_SHARE } from './lib/workload.js';
import { runCrossCheck } from './scenarios/cross-check.js';
import { runHitPaths } from './scenarios/hit-paths.js';
import { DAY_MODES, runMode, type ModeReport } from './scenarios/mixed-day.js';
import { renderDay } from './render.js';

const { values: opts } = parseArgs({
  options: {
    'step-seconds': { type: 'string', default: '30' },
    seed: { type: 'string', default: '20261204' },
    modes: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});
const STEP_SECONDS = Number(opts['step-seconds']);
const SEED = Number(opts.seed);
const SEED_JOBS = 10_000;

async function main() {
  const startedAt = Date.now();
  const serverUrl =
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const database = await createScratchDatabase(serverUrl, 'day', log);
  onCleanup(() => database.drop());
  seedJobs(database, SEED_JOBS, log);
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  onCleanup(() => db.end());

  const redisServer = await startRedis();
  const redis = await redisServer.client();
  const deployment = standaloneDeployment(redis, redisServer.port, redisServer.pid ?? 0);
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';

  const column = async (sql: string) => (await db.query<{ v: string }>(sql)).rows.map((row) => row.v);
  const facts = {
    jobIds: (await column('SELECT id AS v FROM jobs ORDER BY id')).map(Number),
    userIds: (await column('SELECT id AS v FROM users ORDER BY id')).map(Number),
    locations: await column('SELECT DISTINCT location AS v FROM jobs ORDER BY 1'),
    categories: await column('SELECT DISTINCT category AS v FROM jobs ORDER BY 1'),
    types: await column('SELECT DISTINCT type::text AS v FROM jobs ORDER BY 1'),
    ownedJobs: (
      await db.query<{ id: number; postedBy: number }>(
        `SELECT id, posted_by AS "postedBy" FROM jobs WHERE posted_by <= (SELECT id FROM users ORDER BY id OFFSET ${VIEWERS - 1} LIMIT 1) ORDER BY id`,
      )
    ).rows,
  };
  const secret = randomBytes(32).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const universe = buildUniverse(facts, secret, SEED);
  log(
    `universe: ${distinctKeys(universe)} distinct URLs (${universe.kinds.map((k) => `${k.name} ${k.paths.length}`).join(', ')}), ` +
      `${universe.viewers.length} viewers, ${universe.ownedJobs.length} jobs they own`,
  );

  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: database.url,
    REDIS_URL: redisServer.url,
    MIGRATE_ON_START: 'false',
    SEED_ON_EMPTY: 'false',
    LOG_LEVEL: 'info',
    JWT_SECRET: secret,
    ADMIN_TOKEN: adminToken,
  };
  const probe = { redis, deployment, database: db, databaseName: database.name, adminToken };
  const context = {
    probe,
    universe,
    seed: SEED,
    stepSeconds: STEP_SECONDS,
    env,
    flushRedis: () => redis.flushAll(),
  };
  const chosen = opts.modes ? DAY_MODES.filter((m) => opts.modes!.split(',').includes(m.name)) : DAY_MODES;
  const modes: ModeReport[] = [];
  for (const mode of chosen) {
    log(`mode ${mode.name}: ${mode.describe}`);
    modes.push(await runMode(context, mode));
  }

  log('hit paths: CPU per request, closed loop (autocannon -c 20)');
  await redis.flushAll();
  const paths = process.env.DAY_SKIP_PATHS
    ? { paths: [], ratios: {} }
    : await runHitPaths(env, universe.viewers[0].token, { rounds: Number(opts.rounds), seconds: 6 });
  const offHeld = modes.find((m) => m.mode.name === 'off')?.heldRate ?? 200;
  const crossCheck = await runCrossCheck(env, universe, {
    // Where autocannon's one connection finishes each second's quota in well under the second (see cross-check.ts).
    rate: Math.max(50, Math.round(offHeld * 0.4)),
    seconds: 15,
    seed: SEED,
  });

  const { files, summary } = renderDay({
    command: `npm run bench:day -- --step-seconds ${STEP_SECONDS} --seed ${SEED}`,
    machine: machineDescription(),
    versions: {
      node: process.version,
      redis: redisVersion,
      postgres: (
        await db.query<{ server_version: string }>('SHOW server_version')
      ).rows[0].server_version.split(' ')[0],
      nest: versionOf('@nestjs/core'),
      fastify: versionOf('fastify'),
      autocannon: versionOf('autocannon'),
      cacheManager: versionOf('@nestjs/cache-manager'),
    },
    commit: gitCommit(),
    loadAverage: os.loadavg(),
    database: `${database.name} on ${redactUrl(serverUrl)}, ${facts.userIds.length} users, ${facts.jobIds.length} jobs`,
    workload: {
      distinctUrls: distinctKeys(universe),
      viewers: VIEWERS,
      tokenShare: TOKEN_SHARE,
      writeShare: WRITE_SHARE,
    },
    stepSeconds: STEP_SECONDS,
    modes,
    paths,
    crossCheck,
    elapsedS: Math.round((Date.now() - startedAt) / 1000),
    resultsDir: join(root, 'bench/results'),
  });
  console.log(summary);
  log(`report ${files.markdown}, chart ${files.svg}, history ${files.csv}`);
  if (modes.some((m) => m.mode.ours && m.stale > 0)) process.exitCode = 2;
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
