#!/usr/bin/env node
// `npm run bench`: the jobs list under load, on the same seeded PostgreSQL database and a Redis of the bench's own,
// with autocannon in separate processes. One build and one configuration; only the environment below differs.
// Modes:
//   l1        our RedisCacheModule, default L1 on (after warm-up every request is an L1 hit, ~0 Redis commands)
//   l2        the same with CACHE_L1_MAX_ENTRIES=0 (every request an L2 hit: one MGET)
//   l2-redis-cluster, l2-sentinel
//             l2 on a Redis Cluster (3 masters + 3 replicas) and on a Sentinel group (1 master + 1 replica + 3
//             sentinels) instead of the one server, both from redis-server via @jobboard/redis-cache/testing
//   official  the same app with the official @nestjs/cache-manager CacheInterceptor + Keyv/@keyv/redis
//   off       the same app with caching off (a database query per request)
//   ceiling   a plain node:http server returning the same bytes
//   fleet     two instances of `l1` on one Redis and one CACHE_PREFIX, loaded at the same time by two autocannon
//             processes with half the connections each (a coherence check before each round's load)
// All six are interleaved in every round (the order rotates). Medians of req/s, p50/p99 latency and server CPU per
// request; Redis commands per hit and per miss (INFO commandstats) for l1, l2 and official, and per request under
// load for every mode. Results: bench/results/*.json, *.md, *.svg (latest.json, latest.md and latest.svg tracked).
//
// Options: --duration S (10) --connections N (50) --rounds N (3) --jobs N (10000). Needs a PostgreSQL server:
// BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (a scratch database is created and dropped there).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient } from '@redis/client';
import { freePort, spawnApp, startAppCluster } from '../scripts/app-cluster.mjs';
import {
  cpuMicros,
  createScratchDatabase,
  machineCpuMicros,
  machineDescription,
  redactUrl,
  root,
  seedJobs,
  ticksPerSecond,
  versionOf,
  gitCommit,
} from './lib.mjs';
import { standaloneDeployment, startClusterDeployment, startSentinelDeployment } from './topologies.mjs';

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
const WARMUP_S = 2;
/** Sequential hits per mode for the commands and the latency of a lone hit. */
const LONE_HITS = 500;
const PATH = '/api/jobs?skip=0&limit=20&location=Berlin';
const AUTOCANNON = join(root, 'node_modules/autocannon/autocannon.js');

/** What each app mode adds to the shared environment; nothing else differs between them. */
const MODE_ENV = {
  l1: {},
  l2: { CACHE_L1_MAX_ENTRIES: '0' },
  'l2-redis-cluster': { CACHE_L1_MAX_ENTRIES: '0' },
  'l2-sentinel': { CACHE_L1_MAX_ENTRIES: '0' },
  official: { CACHE_ENABLED: 'false' },
  off: { CACHE_ENABLED: 'false' },
};
/** The process each mode runs: the product's entry point, or the bench-only one that adds the peer interceptor. */
const MODE_ENTRY = { official: join(root, 'bench/peers/official-cache.mjs') };
/** Modes on a Redis deployment of their own (its env replaces REDIS_URL); the others share the one server. */
const MODE_DEPLOYMENT = {
  'l2-redis-cluster': startClusterDeployment,
  'l2-sentinel': startSentinelDeployment,
};
const APP_MODES = Object.keys(MODE_ENV);
const SINGLE_MODES = [...APP_MODES, 'ceiling'];
const ROTATION = [...SINGLE_MODES, 'fleet'];
const FLEET_SIZE = 2;
/** Runs during which other programs used more than this percent of all cores are marked in the report. */
const FOREIGN_FLAG_PERCENT = 10;

const apps = []; // SpawnedApp / AppCluster handles, stopped at the end
const children = []; // other processes of ours: redis-server, the ceiling, autocannon
const cleanups = [];
let redis;
/** Where each mode's Redis commands are counted: its own deployment, or the one server (`standalone`). */
const deployments = {};
let standalone;
const deploymentOf = (mode) => deployments[mode] ?? standalone;
const log = (...args) => console.log('[bench]', ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
    await sleep(100);
  }
}

/** CPU of the bench itself, and of its reaped children (the autocannon processes), in microseconds. */
function benchCpuMicros() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const toMicros = (ticks) => (Number(ticks) / ticksPerSecond()) * 1e6;
  return {
    self: toMicros(fields[11]) + toMicros(fields[12]),
    children: toMicros(fields[13]) + toMicros(fields[14]),
  };
}

/** Every live process of ours that is not the bench: the apps, the ceiling and redis-server. */
const ownPids = new Set();

function ownCpuMicros() {
  let total = 0;
  for (const pid of ownPids) {
    const micros = cpuMicros(pid);
    if (micros === undefined)
      ownPids.delete(pid); // exited
    else total += micros;
  }
  return total;
}

const machineText = (m) =>
  `CPU of all cores: ${m.busyPercent}% busy = server ${m.targetPercent}% + autocannon ${m.autocannonPercent}% + ` +
  `rest of bench ${m.restOfBenchPercent}% + other programs ${m.foreignPercent}%; steal ${m.stealPercent}%`;

/** The q-quantile (0..1) of `values`, nearest rank. */
function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round1 = (value) => Math.round(value * 10) / 10;
const ratio = (a, b) => Number((a / b).toFixed(2));

/**
 * autocannon in a process of its own, asynchronously: the bench keeps draining the apps' stdout while it runs (a
 * blocked parent would fill their pipes), and several can run at the same time.
 */
function autocannon(url, duration, connections) {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, [AUTOCANNON, '-c', String(connections), '-d', String(duration), '-j', url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err = (err + chunk).slice(-2_000)));
    child.on('error', reject);
    child.on('close', (code) => {
      children.splice(children.indexOf(child), 1);
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out));
      } catch (error) {
        reject(new Error(`autocannon printed no JSON (${error.message}): ${err}`));
      }
    });
  });
}

/**
 * One measured run: a warm-up, then every target loaded at the same time, each by its own autocannon process with
 * its share of the connections. CPU per request is per target (its process's CPU over its own requests).
 */
async function measure(targets, deployment = standalone) {
  await Promise.all(targets.map((t) => autocannon(t.url, WARMUP_S, t.connections)));
  await deployment.resetStats();
  const cpuBefore = targets.map((t) => cpuMicros(t.pid) ?? 0);
  const redisCpu = () => deployment.pids.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0);
  const redisCpuBefore = redisCpu();
  const machineBefore = machineCpuMicros();
  const ownBefore = ownCpuMicros();
  const benchBefore = benchCpuMicros();
  const started = Date.now();
  const results = await Promise.all(targets.map((t) => autocannon(t.url, DURATION, t.connections)));
  const wallMs = Date.now() - started;
  const cpu = targets.map((t, i) => (cpuMicros(t.pid) ?? 0) - cpuBefore[i]);
  const redisCpuMicros = redisCpu() - redisCpuBefore;
  const machineAfter = machineCpuMicros();
  const benchAfter = benchCpuMicros();
  const capacity = wallMs * 1e3 * os.cpus().length;
  const busy = machineAfter.busy - machineBefore.busy;
  const loadGenerator = benchAfter.children - benchBefore.children;
  const harness = benchAfter.self - benchBefore.self;
  const own = ownCpuMicros() - ownBefore;
  // Percent of all cores over the run: the target app(s), autocannon, everything else of ours (idle apps,
  // Redis, the bench draining the apps' stdout) and what is left: other programs on the machine.
  const targetCpu = cpu.reduce((sum, c) => sum + c, 0);
  const machine = {
    busyPercent: round1((busy / capacity) * 100),
    targetPercent: round1((targetCpu / capacity) * 100),
    autocannonPercent: round1((loadGenerator / capacity) * 100),
    restOfBenchPercent: round1(((own - targetCpu + harness) / capacity) * 100),
    foreignPercent: round1(((busy - own - harness - loadGenerator) / capacity) * 100),
    stealPercent: round1(((machineAfter.steal - machineBefore.steal) / capacity) * 100),
  };
  const redisLoad = await deployment.requestCalls();
  const perTarget = results.map((result, i) => ({
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMicrosPerRequest: cpu[i] / result.requests.total,
  }));
  const total = perTarget.reduce((s, r) => s + r.total, 0);
  return {
    perTarget,
    wallMs,
    machine,
    redisCommandsPerRequest: redisLoad.calls / total,
    redisCpuMicrosPerRequest: redisCpuMicros / total,
    redisCommands: redisLoad.byCommand,
    redisCommandsByNode: redisLoad.byNode,
  };
}

async function getBody(baseUrl) {
  const response = await fetch(baseUrl + PATH);
  return {
    status: response.status,
    text: await response.text(),
    type: response.headers.get('content-type'),
    xcache: response.headers.get('x-cache'),
  };
}

const escapeXml = (text) =>
  String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** A bar per mode: median req/s, with a line from the slowest to the fastest round. Hand-written SVG. */
function barChart(title, subtitle, bars) {
  const left = 70;
  const right = 20;
  const width = Math.max(720, left + right + bars.length * 110); // room for a label like "l2-redis-cluster"
  const height = 380;
  const top = 50;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(...bars.map((b) => b.max ?? b.value));
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 6) ?? magnitude * 10;
  const yMax = Math.ceil(max / step) * step;
  const y = (value) => top + plotH - (value / yMax) * plotH;
  const slot = plotW / bars.length;
  const barW = slot * 0.6;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="39" text-anchor="middle" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  for (let v = 0; v <= yMax; v += step) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v.toLocaleString('en-US')}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#555">req/s (median of rounds)</text>`,
  );
  bars.forEach((bar, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    const cx = x + barW / 2;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y(bar.value).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(bar.value)).toFixed(1)}" fill="${bar.color}"/>`,
    );
    if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
      parts.push(
        `<line x1="${cx}" x2="${cx}" y1="${y(bar.max).toFixed(1)}" y2="${y(bar.min).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${cx - 6}" x2="${cx + 6}" y1="${y(bar.max).toFixed(1)}" y2="${y(bar.max).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${cx - 6}" x2="${cx + 6}" y1="${y(bar.min).toFixed(1)}" y2="${y(bar.min).toFixed(1)}" stroke="#222"/>`,
      );
    }
    const labelY = Math.min(y(bar.max ?? bar.value), y(bar.value)) - 6;
    parts.push(
      `<text x="${cx}" y="${labelY.toFixed(1)}" text-anchor="middle" font-weight="bold">${Math.round(bar.value).toLocaleString('en-US')}</text>`,
      `<text x="${cx}" y="${top + plotH + 18}" text-anchor="middle">${escapeXml(bar.label)}</text>`,
    );
    if (bar.note)
      parts.push(
        `<text x="${cx}" y="${top + plotH + 34}" text-anchor="middle" fill="#555" font-size="11">${escapeXml(bar.note)}</text>`,
      );
  });
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`,
    `<text x="${left}" y="${height - 10}" fill="#555" font-size="11">Whiskers: slowest and fastest round.</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

async function main() {
  const benchStarted = Date.now();
  const serverUrl =
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const serverUrlFrom = process.env.BENCH_DATABASE_URL
    ? 'BENCH_DATABASE_URL'
    : process.env.TEST_DATABASE_URL
      ? 'TEST_DATABASE_URL'
      : 'DATABASE_URL';

  // Scratch database, seeded with the default data set.
  const database = await createScratchDatabase(serverUrl, 'bench', log);
  cleanups.push(database.drop);
  const databaseUrl = database.url;
  seedJobs(database, opts.jobs, log);

  // Redis of the bench's own, so INFO commandstats count only the apps' traffic.
  const redisPort = await freePort();
  const redisServer = track(
    spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    ),
  );
  ownPids.add(redisServer.pid);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  redis = createClient({ url: redisUrl, RESP: 2 });
  redis.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      break;
    } catch {
      if (i > 50) throw new Error('redis-server did not start');
      await sleep(50);
    }
  }
  const redisVersion = (await redis.info('server')).match(/redis_version:(\S+)/)?.[1];
  standalone = standaloneDeployment(redis, redisPort, redisServer.pid);
  for (const [mode, start] of Object.entries(MODE_DEPLOYMENT)) {
    const deployment = await start(`bench-${mode}:`);
    cleanups.push(deployment.stop);
    for (const pid of deployment.pids) ownPids.add(pid);
    deployments[mode] = deployment;
    log(`${mode}: ${deployment.describe} started`);
  }

  // One binary and configuration for every app mode; only MODE_ENV (and the cache prefix) differs. Request
  // logging stays on.
  const baseEnv = {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'info',
    MIGRATE_ON_START: 'false',
  };
  const envOf = (mode, prefix = mode) => {
    const env = { ...baseEnv, CACHE_PREFIX: `bench-${prefix}:`, ...MODE_ENV[mode] };
    if (!deployments[mode]) return env;
    delete env.REDIS_URL;
    return { ...env, ...deployments[mode].env };
  };
  /** A deployment's env as printed: URLs without their passwords, and no password variable. */
  const printable = (env) =>
    Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        /PASSWORD/.test(k) ? '***' : v.includes('://') ? v.split(',').map(redactUrl).join(',') : v,
      ]),
    );
  log('app environment (on top of PATH, HOME, HOST=127.0.0.1, PORT):', {
    ...baseEnv,
    DATABASE_URL: redactUrl(databaseUrl),
  });
  for (const mode of APP_MODES)
    log(
      `  ${mode}: CACHE_PREFIX=bench-${mode}: ${JSON.stringify({
        ...MODE_ENV[mode],
        ...(deployments[mode] ? printable(deployments[mode].env) : {}),
      })}`,
    );
  log(`  fleet: ${FLEET_SIZE} x l1, CACHE_PREFIX=bench-fleet: (shared)`);

  const servers = {};
  for (const mode of APP_MODES) {
    const app = await spawnApp(envOf(mode), { timeoutMs: 60_000, entry: MODE_ENTRY[mode] });
    apps.push(app);
    ownPids.add(app.process.pid);
    servers[mode] = { url: app.baseUrl, pid: app.process.pid, app };
  }
  const fleet = await startAppCluster(FLEET_SIZE, envOf('l1', 'fleet'), { timeoutMs: 60_000 });
  apps.push(fleet);
  for (const app of fleet.instances) ownPids.add(app.process.pid);
  const fleetNodes = fleet.instances.map((app, i) => ({
    name: `fleet#${i + 1}`,
    url: app.baseUrl,
    pid: app.process.pid,
    app,
  }));
  log(
    'started',
    [
      ...APP_MODES.map((m) => `${m} pid ${servers[m].pid}`),
      ...fleetNodes.map((n) => `${n.name} pid ${n.pid}`),
    ].join(', '),
  );

  // Byte-identical bodies, checked before any load: every app mode and every fleet instance (fetched twice, so
  // the second answer comes from the cache where there is one), then the ceiling.
  const bodies = {};
  for (const target of [...APP_MODES.map((m) => ({ name: m, url: servers[m].url })), ...fleetNodes]) {
    await getBody(target.url);
    await sleep(50);
    bodies[target.name] = await getBody(target.url);
  }
  const reference = bodies.l1;
  for (const [name, body] of Object.entries(bodies)) {
    if (body.status !== 200) throw new Error(`${name} answered ${body.status}`);
    if (body.text !== reference.text) throw new Error(`${name} answers different bytes than l1`);
  }

  const ceilingPort = await freePort();
  const ceilingSource = `
    const body = Buffer.from(${JSON.stringify(reference.text)});
    require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': ${JSON.stringify(reference.type)}, 'content-length': body.length });
      res.end(body);
    }).listen(${ceilingPort}, '127.0.0.1');`;
  const ceiling = track(spawn(process.execPath, ['-e', ceilingSource], { stdio: 'ignore' }));
  servers.ceiling = { url: `http://127.0.0.1:${ceilingPort}`, pid: ceiling.pid };
  ownPids.add(ceiling.pid);
  await waitFor(servers.ceiling.url + PATH);
  bodies.ceiling = await getBody(servers.ceiling.url);
  if (bodies.ceiling.text !== reference.text) throw new Error('ceiling differs');
  log(
    `bodies byte-identical across modes and instances (${Buffer.byteLength(reference.text)} bytes); x-cache:`,
    Object.entries(bodies)
      .map(([name, body]) => `${name}=${body.xcache}`)
      .join(' '),
  );

  // Redis commands per hit and per miss, one app at a time (the others idle), one request at a time: each hit is
  // then a lone hit (no concurrent request to share its Redis read with), so its latency is the topology's own
  // cost of a hit (under load, concurrent hits of one key share one read).
  const commandsPer = async (mode, paths) => {
    const deployment = deploymentOf(mode);
    await deployment.resetStats();
    const latencies = [];
    for (const path of paths) {
      const started = performance.now();
      await (await fetch(servers[mode].url + path)).text();
      latencies.push(performance.now() - started);
    }
    await sleep(100);
    const { calls, byCommand } = await deployment.requestCalls();
    const ms = (q) => Number(percentile(latencies, q).toFixed(2));
    return { perRequest: calls / paths.length, byCommand, latencyMs: { p50: ms(0.5), p99: ms(0.99) } };
  };
  const roundTrips = {};
  for (const mode of ['l1', 'l2', ...Object.keys(MODE_DEPLOYMENT), 'official']) {
    await (await fetch(servers[mode].url + PATH)).text(); // the hit key is warm in every tier the mode has
    const hits = await commandsPer(
      mode,
      Array.from({ length: LONE_HITS }, () => PATH),
    );
    const misses = await commandsPer(
      mode,
      Array.from({ length: 200 }, (_, i) => `/api/jobs?skip=${1000 + i}&limit=20&location=Berlin`),
    );
    roundTrips[mode] = {
      perHit: hits.perRequest,
      perMiss: misses.perRequest,
      loneHitMs: hits.latencyMs,
      loneMissMs: misses.latencyMs,
      hitCommands: hits.byCommand,
      missCommands: misses.byCommand,
    };
  }
  log(
    'Redis commands per hit / miss:',
    Object.entries(roundTrips)
      .map(
        ([m, t]) =>
          `${m} ${t.perHit.toFixed(2)} ${JSON.stringify(t.hitCommands)} / ${t.perMiss.toFixed(2)} ` +
          `${JSON.stringify(t.missCommands)}, lone hit p50 ${t.loneHitMs.p50} p99 ${t.loneHitMs.p99} ms`,
      )
      .join('; '),
  );

  // Interleaved rounds; the order rotates so no mode always runs first or last. The fleet is one slot of the
  // rotation: a coherence check, then both instances loaded at once with half the connections each.
  const runs = Object.fromEntries(ROTATION.map((m) => [m, []]));
  const coherence = [];
  const perInstance = Math.floor(CONNECTIONS / FLEET_SIZE);
  const parentCpuBefore = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round++) {
    const order = ROTATION.map((_, i) => ROTATION[(i + round) % ROTATION.length]);
    for (const mode of order) {
      if (mode === 'fleet') {
        // Warm both first: since the last round the entry may have outlived the route's TTL in Redis (and so in
        // L1), and the first GET is then a MISS on one instance and an L2 hit on the other (recorded, not a
        // failure). Then both must answer HIT with the same bytes.
        const warming = [];
        for (const node of fleetNodes) warming.push({ name: node.name, ...(await getBody(node.url)) });
        const answers = [];
        for (const node of fleetNodes) answers.push({ name: node.name, ...(await getBody(node.url)) });
        const check = {
          round: round + 1,
          warmingXcache: warming.map((a) => `${a.name}=${a.xcache}`).join(' '),
          xcache: answers.map((a) => `${a.name}=${a.xcache}`).join(' '),
          allHit: answers.every((a) => a.xcache === 'HIT'),
          identical: [...warming, ...answers].every((a) => a.status === 200 && a.text === reference.text),
        };
        coherence.push(check);
        log(
          `round ${round + 1} fleet coherence (before load): warming ${check.warmingXcache}, then ${check.xcache}, ` +
            `bytes identical: ${check.identical}` +
            (check.allHit && check.identical ? '' : '  <-- FAILED'),
        );
        const measured = await measure(
          fleetNodes.map((n) => ({ url: n.url + PATH, pid: n.pid, connections: perInstance })),
        );
        const [a, b] = measured.perTarget;
        const run = {
          reqPerSec: measured.perTarget.reduce((s, r) => s + r.reqPerSec, 0),
          total: measured.perTarget.reduce((s, r) => s + r.total, 0),
          non2xx: measured.perTarget.reduce((s, r) => s + r.non2xx, 0),
          errors: measured.perTarget.reduce((s, r) => s + r.errors, 0),
          timeouts: measured.perTarget.reduce((s, r) => s + r.timeouts, 0),
          cpuMicrosPerRequest:
            measured.perTarget.reduce((s, r) => s + r.cpuMicrosPerRequest * r.total, 0) /
            measured.perTarget.reduce((s, r) => s + r.total, 0),
          instances: measured.perTarget,
          wallMs: measured.wallMs,
          machine: measured.machine,
          redisCommandsPerRequest: measured.redisCommandsPerRequest,
          redisCpuMicrosPerRequest: measured.redisCpuMicrosPerRequest,
          redisCommands: measured.redisCommands,
        };
        runs.fleet.push(run);
        log(
          `round ${round + 1} fleet: ${Math.round(run.reqPerSec)} req/s aggregate ` +
            `(#1 ${Math.round(a.reqPerSec)} p50 ${a.p50} p99 ${a.p99} ms ${a.cpuMicrosPerRequest.toFixed(1)} us/req; ` +
            `#2 ${Math.round(b.reqPerSec)} p50 ${b.p50} p99 ${b.p99} ms ${b.cpuMicrosPerRequest.toFixed(1)} us/req), ` +
            `Redis cmds/req ${run.redisCommandsPerRequest.toFixed(4)}, non-2xx ${run.non2xx}, errors ${run.errors}; ` +
            machineText(run.machine),
        );
        continue;
      }
      const measured = await measure(
        [{ url: servers[mode].url + PATH, pid: servers[mode].pid, connections: CONNECTIONS }],
        deploymentOf(mode),
      );
      const run = {
        ...measured.perTarget[0],
        wallMs: measured.wallMs,
        machine: measured.machine,
        redisCommandsPerRequest: measured.redisCommandsPerRequest,
        redisCpuMicrosPerRequest: measured.redisCpuMicrosPerRequest,
        redisCommands: measured.redisCommands,
        redisCommandsByNode: measured.redisCommandsByNode,
      };
      runs[mode].push(run);
      log(
        `round ${round + 1} ${mode}: ${Math.round(run.reqPerSec)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ` +
          `${run.cpuMicrosPerRequest.toFixed(1)} us CPU/req, Redis cmds/req ${run.redisCommandsPerRequest.toFixed(4)}, ` +
          `non-2xx ${run.non2xx}, errors ${run.errors}; ${machineText(run.machine)}`,
      );
    }
  }
  // The similar-jobs route: computed in JobsService and cached there by @Cached on the method (not the route).
  // Cached = the product (l1); uncached = CACHE_ENABLED=false (the method runs its pg_trgm query every time).
  const similarJob = JSON.parse(reference.text).items[0].id;
  const SIMILAR_PATH = `/api/jobs/${similarJob}/similar?limit=5`;
  const similarBodies = await Promise.all(
    ['l1', 'off'].map(async (mode) => (await fetch(servers[mode].url + SIMILAR_PATH)).text()),
  );
  if (similarBodies[0] !== similarBodies[1])
    throw new Error('the similar-jobs route answers differently cached');
  const similarRuns = { cached: [], uncached: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, mode] of round % 2 === 0
      ? [
          ['cached', 'l1'],
          ['uncached', 'off'],
        ]
      : [
          ['uncached', 'off'],
          ['cached', 'l1'],
        ]) {
      const measured = await measure([
        { url: servers[mode].url + SIMILAR_PATH, pid: servers[mode].pid, connections: CONNECTIONS },
      ]);
      const run = {
        ...measured.perTarget[0],
        machine: measured.machine,
        redisCommandsPerRequest: measured.redisCommandsPerRequest,
      };
      similarRuns[name].push(run);
      log(
        `round ${round + 1} similar ${name}: ${Math.round(run.reqPerSec)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ` +
          `${run.cpuMicrosPerRequest.toFixed(1)} us CPU/req, non-2xx ${run.non2xx}, errors ${run.errors}`,
      );
    }
  }
  const parentCpu = process.cpuUsage(parentCpuBefore);

  const summarize = (list) => ({
    reqPerSec: Math.round(median(list.map((r) => r.reqPerSec))),
    minReqPerSec: Math.round(Math.min(...list.map((r) => r.reqPerSec))),
    maxReqPerSec: Math.round(Math.max(...list.map((r) => r.reqPerSec))),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    cpuMicrosPerRequest: round1(median(list.map((r) => r.cpuMicrosPerRequest))),
    redisCommandsPerRequest: Number(median(list.map((r) => r.redisCommandsPerRequest)).toFixed(4)),
    redisCpuMicrosPerRequest:
      list[0]?.redisCpuMicrosPerRequest === undefined
        ? null
        : round1(median(list.map((r) => r.redisCpuMicrosPerRequest))),
    non2xx: list.reduce((s, r) => s + r.non2xx, 0),
    errors: list.reduce((s, r) => s + r.errors + (r.timeouts ?? 0), 0),
    machine: list[0]?.machine
      ? Object.fromEntries(
          Object.keys(list[0].machine).map((k) => [k, round1(median(list.map((r) => r.machine[k])))]),
        )
      : undefined,
  });
  const summary = Object.fromEntries(SINGLE_MODES.map((m) => [m, summarize(runs[m])]));
  const fleetSummary = {
    aggregate: {
      ...summarize(runs.fleet.map((r) => ({ ...r, p50: NaN, p99: NaN }))),
      p50: null,
      p99: null,
    },
    instances: fleetNodes.map((node, i) => ({
      name: node.name,
      ...summarize(
        runs.fleet.map((r) => ({ ...r.instances[i], redisCommandsPerRequest: r.redisCommandsPerRequest })),
      ),
    })),
    coherence,
  };

  const l1 = summary.l1;
  const l2 = summary.l2;
  const official = summary.official;
  const ratios = {
    l1VsOfficialReqPerSec: ratio(l1.reqPerSec, official.reqPerSec),
    l1VsOfficialP99: ratio(l1.p99, official.p99),
    l2VsOfficialReqPerSec: ratio(l2.reqPerSec, official.reqPerSec),
    l2VsOfficialP99: ratio(l2.p99, official.p99),
    l1VsL2ReqPerSec: ratio(l1.reqPerSec, l2.reqPerSec),
    l1VsOffReqPerSec: ratio(l1.reqPerSec, summary.off.reqPerSec),
    l2VsOffReqPerSec: ratio(l2.reqPerSec, summary.off.reqPerSec),
    l1OfCeilingReqPerSec: ratio(l1.reqPerSec, summary.ceiling.reqPerSec),
    // CPU: how many times more server CPU per request the other mode spends than ours.
    officialVsL1CpuPerRequest: ratio(official.cpuMicrosPerRequest, l1.cpuMicrosPerRequest),
    officialVsL2CpuPerRequest: ratio(official.cpuMicrosPerRequest, l2.cpuMicrosPerRequest),
    offVsL1CpuPerRequest: ratio(summary.off.cpuMicrosPerRequest, l1.cpuMicrosPerRequest),
    l2VsL1CpuPerRequest: ratio(l2.cpuMicrosPerRequest, l1.cpuMicrosPerRequest),
    l1VsCeilingCpuPerRequest: ratio(l1.cpuMicrosPerRequest, summary.ceiling.cpuMicrosPerRequest),
    fleetAggregateVsL1ReqPerSec: ratio(fleetSummary.aggregate.reqPerSec, l1.reqPerSec),
    // The L2 hit on the other topologies against the one server (same build, same L1-off configuration).
    l2RedisClusterVsL2ReqPerSec: ratio(summary['l2-redis-cluster'].reqPerSec, l2.reqPerSec),
    l2SentinelVsL2ReqPerSec: ratio(summary['l2-sentinel'].reqPerSec, l2.reqPerSec),
    l2RedisClusterVsL2CpuPerRequest: ratio(
      summary['l2-redis-cluster'].cpuMicrosPerRequest,
      l2.cpuMicrosPerRequest,
    ),
    l2SentinelVsL2CpuPerRequest: ratio(summary['l2-sentinel'].cpuMicrosPerRequest, l2.cpuMicrosPerRequest),
    l2RedisClusterVsL2RedisCpuPerRequest: ratio(
      summary['l2-redis-cluster'].redisCpuMicrosPerRequest,
      l2.redisCpuMicrosPerRequest,
    ),
    l2RedisClusterVsL2LoneHitP50: ratio(
      roundTrips['l2-redis-cluster'].loneHitMs.p50,
      roundTrips.l2.loneHitMs.p50,
    ),
    l2SentinelVsL2LoneHitP50: ratio(roundTrips['l2-sentinel'].loneHitMs.p50, roundTrips.l2.loneHitMs.p50),
    l2SentinelVsL2RedisCpuPerRequest: ratio(
      summary['l2-sentinel'].redisCpuMicrosPerRequest,
      l2.redisCpuMicrosPerRequest,
    ),
  };
  const targets = [
    {
      name: 'l1 req/s >= 4x official',
      value: `${ratios.l1VsOfficialReqPerSec}x`,
      met: ratios.l1VsOfficialReqPerSec >= 4,
    },
    {
      name: 'l1 p99 no worse than official p99',
      value: `${l1.p99} ms vs ${official.p99} ms`,
      met: l1.p99 <= official.p99,
    },
    {
      name: 'l1 Redis commands per hit ~0 (< 0.05)',
      value: roundTrips.l1.perHit.toFixed(2),
      met: roundTrips.l1.perHit < 0.05,
    },
    {
      name: 'l2 Redis commands per hit ~1 (0.95-1.05)',
      value: roundTrips.l2.perHit.toFixed(2),
      met: roundTrips.l2.perHit >= 0.95 && roundTrips.l2.perHit <= 1.05,
    },
    {
      // Counters and entry in one MGET on one server or Sentinel's master; on Cluster the client splits it into one
      // MGET per slot, sent together (the counters' slot, the entry's slot): 2.
      name: 'l2-sentinel Redis commands per hit ~1 (0.95-1.05); l2-redis-cluster at most 2 (one MGET per slot, sent together)',
      value: `${roundTrips['l2-sentinel'].perHit.toFixed(2)}; ${roundTrips['l2-redis-cluster'].perHit.toFixed(2)}`,
      met:
        roundTrips['l2-sentinel'].perHit >= 0.95 &&
        roundTrips['l2-sentinel'].perHit <= 1.05 &&
        roundTrips['l2-redis-cluster'].perHit <= 2.05,
    },
    {
      name: "a lone L2 hit on Cluster and on Sentinel within 1.25x of one server's (p50)",
      value: `${ratios.l2RedisClusterVsL2LoneHitP50}x, ${ratios.l2SentinelVsL2LoneHitP50}x`,
      met: ratios.l2RedisClusterVsL2LoneHitP50 <= 1.25 && ratios.l2SentinelVsL2LoneHitP50 <= 1.25,
    },
    {
      name: 'fleet: both instances HIT with identical bytes before every round',
      value: `${coherence.filter((c) => c.allHit && c.identical).length}/${coherence.length}`,
      met: coherence.every((c) => c.allHit && c.identical),
    },
  ];
  for (const target of targets)
    log(`target ${target.met ? 'MET' : 'NOT MET'}: ${target.name} (${target.value})`);

  // What capturing the apps' output (spawnApp keeps it in memory) amounted to.
  const capture = {
    apps: [...APP_MODES.map((m) => [m, servers[m].app]), ...fleetNodes.map((n) => [n.name, n.app])].map(
      ([name, app]) => {
        const output = app.output();
        const warnOrError = output.match(/^.*"level":[456]0\b.*$/gm) ?? [];
        return {
          name,
          outputChars: output.length,
          warnOrErrorLines: warnOrError.length,
          warnOrErrorSamples: warnOrError.slice(0, 3).map((line) => line.slice(0, 400)),
        };
      },
    ),
    benchProcessCpuSecondsDuringRounds: round1((parentCpu.user + parentCpu.system) / 1e6),
    benchProcessMaxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  log('captured app output:', JSON.stringify(capture));

  const fleetOrder = 'interleaved: one slot of the rotation in every round, like the single-instance modes';
  const environment = {
    command:
      `${serverUrlFrom}=${redactUrl(serverUrl)} npm run bench -- --duration ${DURATION} ` +
      `--connections ${CONNECTIONS} --rounds ${ROUNDS} --jobs ${opts.jobs}`,
    date: new Date().toISOString(),
    runSeconds: null,
    machine: machineDescription(),
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
        'lru-cache',
        '@nestjs/cache-manager',
        'autocannon',
        'drizzle-orm',
        'pg',
        'pino',
        '@jobboard/redis-cache',
      ].map((name) => [name, versionOf(name)]),
    ),
    commit: gitCommit(),
    redis: redisVersion,
    path: PATH,
    bodyBytes: Buffer.byteLength(reference.text),
    load:
      `autocannon -c ${CONNECTIONS} -d ${DURATION} (separate process, same machine), ${ROUNDS} interleaved rounds, ` +
      `${WARMUP_S} s warm-up each`,
    topologies: Object.fromEntries(
      [['l2', standalone], ...Object.entries(deployments)].map(([m, d]) => [m, d.describe]),
    ),
    fleet:
      `${FLEET_SIZE} instances of l1 (separate processes, one Redis, one CACHE_PREFIX), each loaded by its own ` +
      `autocannon -c ${perInstance} -d ${DURATION} at the same time; ${fleetOrder}`,
    appConfig:
      'one build (dist/main.js via scripts/app-cluster.mjs spawnApp), NODE_ENV=development, global ValidationPipe + ' +
      'guards + request logging (LOG_LEVEL=info, stdout piped to the bench) on; only CACHE_ENABLED (official, off), ' +
      'CACHE_L1_MAX_ENTRIES (l2) and the entry point (official: bench/peers/official-cache.mjs, the same app plus ' +
      'the official CacheInterceptor) differ, plus a CACHE_PREFIX per mode',
    appEnv: { ...baseEnv, DATABASE_URL: redactUrl(databaseUrl) },
    modeEnv: MODE_ENV,
    modeEntry: MODE_ENTRY,
  };
  environment.runSeconds = Math.round((Date.now() - benchStarted) / 1000);
  const similar = {
    path: SIMILAR_PATH,
    bodyBytes: Buffer.byteLength(similarBodies[0]),
    cached: summarize(similarRuns.cached),
    uncached: summarize(similarRuns.uncached),
  };
  similar.cachedVsUncachedReqPerSec =
    Math.round((similar.cached.reqPerSec / similar.uncached.reqPerSec) * 100) / 100;
  const report = {
    environment,
    roundTrips,
    summary,
    similar,
    fleet: fleetSummary,
    ratios,
    targets,
    capture,
    runs,
  };

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = environment.date.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `jobs-list-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);

  const svg = barChart(
    `Jobs list: median req/s per mode (${ROUNDS} rounds, ${os.cpus().length} cores)`,
    `GET ${PATH}, autocannon -c ${CONNECTIONS} -d ${DURATION}`,
    [
      ...SINGLE_MODES.map((m) => ({
        label: m,
        value: summary[m].reqPerSec,
        min: summary[m].minReqPerSec,
        max: summary[m].maxReqPerSec,
        color: {
          l1: '#1f77b4',
          l2: '#6baed6',
          'l2-redis-cluster': '#9ecae1',
          'l2-sentinel': '#c6dbef',
          official: '#ff7f0e',
          off: '#999999',
          ceiling: '#2ca02c',
        }[m],
      })),
      {
        label: `fleet (${FLEET_SIZE} x l1)`,
        note: 'aggregate',
        value: fleetSummary.aggregate.reqPerSec,
        min: fleetSummary.aggregate.minReqPerSec,
        max: fleetSummary.aggregate.maxReqPerSec,
        color: '#9467bd',
      },
    ],
  );
  writeFileSync(join(resultsDir, `jobs-list-${stamp}.svg`), svg);
  writeFileSync(join(resultsDir, 'latest.svg'), svg);

  const trips = (m) =>
    roundTrips[m] ? `${roundTrips[m].perHit.toFixed(2)} / ${roundTrips[m].perMiss.toFixed(2)}` : '-';
  const row = (label, s, tripsText) =>
    `| ${label} | ${s.reqPerSec} | ${s.p50 ?? '-'} | ${s.p99 ?? '-'} | ${s.cpuMicrosPerRequest} | ${tripsText} | ` +
    `${s.redisCommandsPerRequest} | ${s.redisCpuMicrosPerRequest ?? '-'} | ${s.non2xx} | ${s.errors} |`;
  const rows = [
    ...SINGLE_MODES.map((m) => row(m, summary[m], trips(m))),
    ...fleetSummary.instances.map((s) => row(`${s.name} (l1)`, s, '-')),
    row(`fleet aggregate (${FLEET_SIZE} x l1)`, fleetSummary.aggregate, '-'),
  ];
  // A run during which other programs used more than FOREIGN_FLAG_PERCENT of the machine is marked (and kept).
  const cell = (r) =>
    `${Math.round(r.reqPerSec)}${r.machine.foreignPercent > FOREIGN_FLAG_PERCENT ? ` (other programs ${r.machine.foreignPercent}%)` : ''}`;
  const perRoundRows = [
    ...SINGLE_MODES.map((m) => `| ${m} | ${runs[m].map(cell).join(' | ')} |`),
    `| fleet aggregate | ${runs.fleet.map(cell).join(' | ')} |`,
  ];
  const contended = ROTATION.flatMap((m) => runs[m]).filter(
    (r) => r.machine.foreignPercent > FOREIGN_FLAG_PERCENT,
  );
  const chartName = (file) => `![median req/s per mode](${file})`;
  const markdown = (chartFile) =>
    [
      `# Jobs list benchmark (${environment.date})`,
      '',
      `\`${environment.command}\` on ${environment.machine}, Node ${environment.node}, Redis ${environment.redis}; ` +
        `${environment.runSeconds} s in all. @jobboard/redis-cache ` +
        `${environment.packages['@jobboard/redis-cache']} at commit ${environment.commit}.`,
      `GET \`${PATH}\` (${environment.bodyBytes} bytes, byte-identical in every mode and instance, checked before load). ` +
        `${environment.load}. ${environment.appConfig}.`,
      `Modes: ${APP_MODES.map(
        (m) =>
          `${m} = \`${
            Object.entries(MODE_ENV[m])
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '(defaults)'
          }\`${MODE_ENTRY[m] ? ` via bench/peers/${MODE_ENTRY[m].split('/').at(-1)}` : ''}`,
      ).join(', ')}, ceiling = node:http with the same bytes.`,
      `Fleet: ${environment.fleet}. The machine has ${os.cpus().length} cores: the two instances, the two ` +
        'autocannon processes and Redis share them, so the aggregate is bounded by CPU, not by the cache.',
      '',
      chartName(chartFile),
      '',
      '| mode | req/s (median) | p50 ms | p99 ms | server CPU us/req | Redis cmds per hit / miss | Redis cmds/req under load | Redis CPU us/req | non-2xx | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Fleet instance rows: each instance's own autocannon (-c ${perInstance}); the aggregate's req/s is their sum, ` +
        'its CPU us/req both processes over all requests. Redis cmds/req under load: all commands during the measured ' +
        "run (without PING, the bus heartbeat) over its requests. Redis CPU us/req: every process of the mode's Redis " +
        'deployment (on Cluster the 3 masters and 3 replicas, on Sentinel the master, the replica and the sentinels) ' +
        'over its requests.',
      '',
      `Topologies, L2 hit (\`CACHE_L1_MAX_ENTRIES=0\`): ${Object.entries(environment.topologies)
        .map(([m, d]) => `${m} on ${d}`)
        .join('; ')}. Against l2 on the one server: req/s Cluster ` +
        `${ratios.l2RedisClusterVsL2ReqPerSec}x, Sentinel ${ratios.l2SentinelVsL2ReqPerSec}x; server CPU per request ` +
        `Cluster ${ratios.l2RedisClusterVsL2CpuPerRequest}x, Sentinel ${ratios.l2SentinelVsL2CpuPerRequest}x; Redis CPU ` +
        `per request Cluster ${ratios.l2RedisClusterVsL2RedisCpuPerRequest}x, Sentinel ` +
        `${ratios.l2SentinelVsL2RedisCpuPerRequest}x; p99 ${l2.p99} / ${summary['l2-redis-cluster'].p99} / ` +
        `${summary['l2-sentinel'].p99} ms. Commands per master during Cluster's measured runs (round 1, by port): ` +
        `${JSON.stringify(runs['l2-redis-cluster'][0].redisCommandsByNode)}. A lone hit (${LONE_HITS} sequential ` +
        `requests, nothing to share a read with): p50 ${roundTrips.l2.loneHitMs.p50} / ` +
        `${roundTrips['l2-redis-cluster'].loneHitMs.p50} / ${roundTrips['l2-sentinel'].loneHitMs.p50} ms, p99 ` +
        `${roundTrips.l2.loneHitMs.p99} / ${roundTrips['l2-redis-cluster'].loneHitMs.p99} / ` +
        `${roundTrips['l2-sentinel'].loneHitMs.p99} ms (one server / Cluster / Sentinel; Cluster ` +
        `${ratios.l2RedisClusterVsL2LoneHitP50}x, Sentinel ${ratios.l2SentinelVsL2LoneHitP50}x). Under closed-loop ` +
        'load concurrent hits of the one key share a read (Redis cmds/req under load), so req/s mostly measures the ' +
        'app; the lone hit and Redis CPU per request measure the topology.',
      '',
      'Targets:',
      '',
      ...targets.map((t) => `- ${t.met ? 'MET' : 'NOT MET'}: ${t.name} (${t.value})`),
      '',
      `Ratios (req/s): l1 vs official ${ratios.l1VsOfficialReqPerSec}x, l2 vs official ${ratios.l2VsOfficialReqPerSec}x, ` +
        `l1 vs l2 ${ratios.l1VsL2ReqPerSec}x, l1 vs off ${ratios.l1VsOffReqPerSec}x, l2 vs off ${ratios.l2VsOffReqPerSec}x; ` +
        `l1 is ${Math.round(ratios.l1OfCeilingReqPerSec * 100)}% of the node:http ceiling; fleet aggregate vs single l1 ` +
        `${ratios.fleetAggregateVsL1ReqPerSec}x.`,
      `Similar jobs (\`GET ${similar.path}\`, ${similar.bodyBytes} bytes, cached in JobsService by @Cached on the method): ` +
        `cached ${similar.cached.reqPerSec} req/s, p50 ${similar.cached.p50} ms, p99 ${similar.cached.p99} ms, ` +
        `${similar.cached.cpuMicrosPerRequest} us CPU/req; uncached (CACHE_ENABLED=false) ${similar.uncached.reqPerSec} ` +
        `req/s, p50 ${similar.uncached.p50} ms, p99 ${similar.uncached.p99} ms, ${similar.uncached.cpuMicrosPerRequest} ` +
        `us CPU/req: ${similar.cachedVsUncachedReqPerSec}x (${ROUNDS} interleaved rounds each, medians).`,
      `p99: l1 ${l1.p99} ms, l2 ${l2.p99} ms, official ${official.p99} ms (l1/official ${ratios.l1VsOfficialP99}, ` +
        `l2/official ${ratios.l2VsOfficialP99}).`,
      `Server CPU per request: official spends ${ratios.officialVsL1CpuPerRequest}x l1's and ` +
        `${ratios.officialVsL2CpuPerRequest}x l2's; off ${ratios.offVsL1CpuPerRequest}x l1's; l2 ` +
        `${ratios.l2VsL1CpuPerRequest}x l1's; l1 ${ratios.l1VsCeilingCpuPerRequest}x the ceiling's.`,
      '',
      `req/s per round (rounds interleaved, order rotating; ${contended.length} of ${ROTATION.length * ROUNDS} runs ` +
        `shared the machine with other programs using more than ${FOREIGN_FLAG_PERCENT}% of it, marked below; all ` +
        'runs count in the medians):',
      '',
      `| mode | ${runs.l1.map((_, i) => `round ${i + 1}`).join(' | ')} |`,
      `|---|${runs.l1.map(() => '---:').join('|')}|`,
      ...perRoundRows,
      '',
      'Where the CPU went during the measured runs (median over rounds, percent of all cores; "rest of bench" is the ' +
        'idle apps, Redis and the bench process reading the apps\' stdout; "other programs" is everything else on the ' +
        'machine, including the shared PostgreSQL server: in the off mode that is mostly what it is):',
      '',
      '| mode | machine busy % | server % | autocannon % | rest of bench % | other programs % | steal % |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...[
        ...SINGLE_MODES.map((m) => [m, summary[m].machine]),
        ['fleet (both)', fleetSummary.aggregate.machine],
      ].map(
        ([m, c]) =>
          `| ${m} | ${c.busyPercent} | ${c.targetPercent} | ${c.autocannonPercent} | ${c.restOfBenchPercent} | ` +
          `${c.foreignPercent} | ${c.stealPercent} |`,
      ),
      '',
      `Redis commands during the measured run, by command (round 1): ${ROTATION.map(
        (m) => `${m} ${JSON.stringify(runs[m][0].redisCommands)}`,
      ).join(', ')}. Per hit / miss: ${Object.entries(roundTrips)
        .map(([m, t]) => `${m} ${JSON.stringify(t.hitCommands)} / ${JSON.stringify(t.missCommands)}`)
        .join(', ')}.`,
      '',
      `Fleet coherence before each round's load: ${coherence
        .map(
          (c) =>
            `round ${c.round} warming ${c.warmingXcache}, then ${c.xcache}${c.identical ? ', identical' : ', DIFFERENT BYTES'}`,
        )
        .join('; ')}.`,
      '',
      `App output captured by spawnApp (in the bench's memory): ${capture.apps
        .map(
          (a) =>
            `${a.name} ${(a.outputChars / 2 ** 20).toFixed(1)} MiB (${a.warnOrErrorLines} warn/error lines)`,
        )
        .join(
          ', ',
        )}; bench process ${capture.benchProcessCpuSecondsDuringRounds} s CPU during the rounds, max RSS ` +
        `${capture.benchProcessMaxRssMiB} MiB.`,
      '',
      `Packages: ${Object.entries(environment.packages)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      '',
    ].join('\n');
  writeFileSync(join(resultsDir, `jobs-list-${stamp}.md`), markdown(`jobs-list-${stamp}.svg`));
  writeFileSync(join(resultsDir, 'latest.md'), markdown('latest.svg'));
  console.log(`\n${markdown('latest.svg')}`);
  if (!coherence.every((c) => c.allHit && c.identical)) process.exitCode = 1; // a coherence failure makes the run fail, after its results are written
}

let cleaningUp;
let cleanedUp = false;
process.on('exit', () => {
  if (!cleanedUp)
    console.error('[bench] exiting before cleanup finished: apps, Redis or the scratch database may remain');
});
function cleanup() {
  cleaningUp ??= (async () => {
    const stopped = await Promise.allSettled(apps.map((app) => app.stop()));
    for (const result of stopped)
      if (result.status === 'rejected') console.error('[bench] stop:', result.reason);
    // Close the client before its server goes: QUIT to a dead server waiting to reconnect never settles, and with
    // nothing else to wait for Node would exit right there, before the scratch database is dropped.
    if (redis?.isOpen) redis.destroy();
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const fn of cleanups.reverse())
      await fn().catch((error) => console.error('[bench] cleanup:', error.message));
    cleanedUp = true;
  })();
  return cleaningUp;
}

// An exception outside main's chain (say, in a listener of a child's output) still stops the apps, Redis and the
// scratch database before the bench exits.
process.once('uncaughtException', (error) => {
  console.error('[bench] failed (uncaught):', error);
  void cleanup().then(() => process.exit(1));
});

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    console.error(`[bench] ${signal}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });

main()
  .then(cleanup)
  .catch(async (error) => {
    console.error('[bench] failed:', error);
    await cleanup();
    process.exit(1);
  });
