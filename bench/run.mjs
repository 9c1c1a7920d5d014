#!/usr/bin/env node
// `npm run bench`: the jobs list under load, four ways, on the same seeded PostgreSQL database and a Redis of the
// bench's own, with autocannon in a separate process. Modes:
//   redis-cache  our RedisCacheModule (every request a hit after warm-up)
//   off          the same app with caching off (a database query per request)
//   official     the same app with the official @nestjs/cache-manager CacheInterceptor + Keyv/@keyv/redis
//   ceiling      a plain node:http server returning the same bytes
// Interleaved rounds, medians of req/s, p50/p99 latency and server CPU per request; Redis commands per hit and per
// miss from INFO commandstats. Results: bench/results/*.json and *.md.
//
// Options: --duration S (10) --connections N (50) --rounds N (3) --jobs N (10000). Needs a PostgreSQL server:
// BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (a scratch database is created and dropped there).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createClient } from '@redis/client';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '10000' },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const ROUNDS = Number(opts.rounds);
const PATH = '/api/jobs?skip=0&limit=20&location=Berlin';
const APP_MODES = ['redis-cache', 'off', 'official'];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const children = [];
const cleanups = [];
const log = (...args) => console.log('[bench]', ...args);

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function track(child) {
  children.push(child);
  return child;
}

async function waitFor(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** user+system CPU time of a process in microseconds, from /proc. */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function autocannon(url, duration) {
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/autocannon/autocannon.js'),
      '-c',
      String(CONNECTIONS),
      '-d',
      String(duration),
      '-j',
      url,
    ],
    { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return JSON.parse(out.toString());
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'n/a';
  }
}

async function main() {
  const serverUrl =
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');

  // Scratch database, seeded with the default data set.
  const dbName = `jobboard_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await client.end();
  });
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  log(`seeding ${opts.jobs} jobs into ${dbName}`);
  execFileSync(process.execPath, [join(root, 'dist/database/cli/seed.js'), '--jobs', opts.jobs], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: 'ignore',
  });

  // Redis of the bench's own, so INFO commandstats count only the apps' traffic.
  const redisPort = await freePort();
  track(
    spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    ),
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      break;
    } catch {
      if (i > 50) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const redisVersion = (await redis.info('server')).match(/redis_version:(\S+)/)?.[1];

  // One binary and configuration for every app mode; only CACHE_BENCH_MODE differs. Request logging stays on.
  const servers = {};
  for (const mode of APP_MODES) {
    const port = await freePort();
    const child = track(
      spawn(process.execPath, [join(root, 'dist/main.js')], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'development',
          HOST: '127.0.0.1',
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          REDIS_URL: redisUrl,
          CACHE_PREFIX: `bench-${mode}:`,
          CACHE_BENCH_MODE: mode,
          LOG_LEVEL: 'info',
          MIGRATE_ON_START: 'false',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    servers[mode] = { url: `http://127.0.0.1:${port}`, pid: child.pid };
  }
  for (const mode of APP_MODES) await waitFor(`${servers[mode].url}/health`);

  // Byte-identical bodies, checked before any load.
  const bodies = {};
  for (const mode of APP_MODES) {
    await fetch(servers[mode].url + PATH);
    await new Promise((r) => setTimeout(r, 50));
    const response = await fetch(servers[mode].url + PATH);
    bodies[mode] = {
      text: await response.text(),
      type: response.headers.get('content-type'),
      xcache: response.headers.get('x-cache'),
    };
  }
  const reference = bodies['redis-cache'];
  for (const mode of APP_MODES) {
    if (bodies[mode].text !== reference.text)
      throw new Error(`${mode} answers different bytes than redis-cache`);
  }
  log(
    `bodies byte-identical across modes (${Buffer.byteLength(reference.text)} bytes); x-cache:`,
    APP_MODES.map((m) => `${m}=${bodies[m].xcache}`).join(' '),
  );

  const ceilingPort = await freePort();
  const ceilingSource = `
    const body = Buffer.from(${JSON.stringify(reference.text)});
    require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': ${JSON.stringify(reference.type)}, 'content-length': body.length });
      res.end(body);
    }).listen(${ceilingPort}, '127.0.0.1');`;
  const ceiling = track(spawn(process.execPath, ['-e', ceilingSource], { stdio: 'ignore' }));
  servers.ceiling = { url: `http://127.0.0.1:${ceilingPort}`, pid: ceiling.pid };
  await waitFor(servers.ceiling.url + PATH);
  if ((await (await fetch(servers.ceiling.url + PATH)).text()) !== reference.text)
    throw new Error('ceiling differs');

  // Redis commands per hit and per miss.
  const commandsPer = async (mode, paths) => {
    await redis.configResetStat();
    for (const path of paths) await (await fetch(servers[mode].url + path)).text();
    await new Promise((r) => setTimeout(r, 100));
    const info = await redis.info('commandstats');
    let calls = 0;
    for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
      if (!['ping', 'config|resetstat', 'info'].includes(match[1])) calls += Number(match[2]);
    }
    return calls / paths.length;
  };
  const roundTrips = {};
  for (const mode of ['redis-cache', 'official']) {
    const hits = Array.from({ length: 200 }, () => PATH);
    const misses = Array.from(
      { length: 200 },
      (_, i) => `/api/jobs?skip=${1000 + i}&limit=20&location=Berlin`,
    );
    roundTrips[mode] = { perHit: await commandsPer(mode, hits), perMiss: await commandsPer(mode, misses) };
  }
  log('Redis commands per request:', JSON.stringify(roundTrips));

  // Interleaved rounds; the mode order rotates so no mode always runs first or last.
  const modes = [...APP_MODES, 'ceiling'];
  const runs = Object.fromEntries(modes.map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = modes.map((_, i) => modes[(i + round) % modes.length]);
    for (const mode of order) {
      const url = servers[mode].url + PATH;
      autocannon(url, 2); // warm-up, not recorded
      const cpuBefore = cpuMicros(servers[mode].pid);
      const result = autocannon(url, DURATION);
      const cpu = cpuMicros(servers[mode].pid) - cpuBefore;
      const run = {
        reqPerSec: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        total: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        cpuMicrosPerRequest: cpu / result.requests.total,
      };
      runs[mode].push(run);
      log(
        `round ${round + 1} ${mode}: ${Math.round(run.reqPerSec)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ` +
          `${run.cpuMicrosPerRequest.toFixed(1)} us CPU/req, non-2xx ${run.non2xx}, errors ${run.errors}`,
      );
    }
  }

  const summary = Object.fromEntries(
    modes.map((m) => [
      m,
      {
        reqPerSec: Math.round(median(runs[m].map((r) => r.reqPerSec))),
        p50: median(runs[m].map((r) => r.p50)),
        p99: median(runs[m].map((r) => r.p99)),
        cpuMicrosPerRequest: Number(median(runs[m].map((r) => r.cpuMicrosPerRequest)).toFixed(1)),
        non2xx: runs[m].reduce((s, r) => s + r.non2xx, 0),
        errors: runs[m].reduce((s, r) => s + r.errors, 0),
      },
    ]),
  );
  const ratios = {
    vsOfficialReqPerSec: Number((summary['redis-cache'].reqPerSec / summary.official.reqPerSec).toFixed(2)),
    vsUncachedReqPerSec: Number((summary['redis-cache'].reqPerSec / summary.off.reqPerSec).toFixed(2)),
    vsOfficialCpuPerRequest: Number(
      (summary.official.cpuMicrosPerRequest / summary['redis-cache'].cpuMicrosPerRequest).toFixed(2),
    ),
    ofCeilingReqPerSec: Number((summary['redis-cache'].reqPerSec / summary.ceiling.reqPerSec).toFixed(2)),
  };

  const environment = {
    command: `npm run bench -- --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS} --jobs ${opts.jobs}`,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    node: process.version,
    packages: Object.fromEntries(
      [
        '@nestjs/core',
        '@nestjs/platform-fastify',
        'fastify',
        'cache-manager',
        'keyv',
        '@keyv/redis',
        '@redis/client',
        '@nestjs/cache-manager',
        'autocannon',
        'drizzle-orm',
        'pg',
      ].map((name) => [name, versionOf(name)]),
    ),
    redis: redisVersion,
    path: PATH,
    bodyBytes: Buffer.byteLength(reference.text),
    load: `autocannon -c ${CONNECTIONS} -d ${DURATION} (separate process, same machine), ${ROUNDS} interleaved rounds, 2 s warm-up each`,
    appConfig:
      'one build, NODE_ENV=development, global ValidationPipe + guards + request logging (LOG_LEVEL=info) on; only CACHE_BENCH_MODE differs',
  };
  const report = { environment, roundTrips, summary, ratios, runs };

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = environment.date.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `jobs-list-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const rows = modes.map((m) => {
    const s = summary[m];
    const trips = roundTrips[m]
      ? `${roundTrips[m].perHit.toFixed(2)} / ${roundTrips[m].perMiss.toFixed(2)}`
      : '-';
    return `| ${m} | ${s.reqPerSec} | ${s.p50} | ${s.p99} | ${s.cpuMicrosPerRequest} | ${trips} | ${s.non2xx} |`;
  });
  const markdown = [
    `# Jobs list benchmark (${environment.date})`,
    '',
    `\`${environment.command}\` on ${environment.machine}, Node ${environment.node}, Redis ${environment.redis}.`,
    `GET \`${PATH}\` (${environment.bodyBytes} bytes, byte-identical in every mode). ${environment.load}. ${environment.appConfig}.`,
    '',
    '| mode | req/s (median) | p50 ms | p99 ms | server CPU us/req | Redis cmds per hit / miss | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `redis-cache vs official: ${ratios.vsOfficialReqPerSec}x req/s, ${ratios.vsOfficialCpuPerRequest}x less CPU per request; ` +
      `vs caching off: ${ratios.vsUncachedReqPerSec}x req/s; ${Math.round(ratios.ofCeilingReqPerSec * 100)}% of the node:http ceiling.`,
    '',
    `Packages: ${Object.entries(environment.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, `jobs-list-${stamp}.md`), markdown);
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  console.log(`\n${markdown}`);
  await redis.quit();
}

async function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const fn of cleanups.reverse())
    await fn().catch((error) => console.error('[bench] cleanup:', error.message));
}

main()
  .then(cleanup)
  .catch(async (error) => {
    console.error('[bench] failed:', error);
    await cleanup();
    process.exit(1);
  });
