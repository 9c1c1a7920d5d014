#!/usr/bin/env node
// `npm run bench:faults`: the jobs list under fixed-rate load while the cache's Redis fails (RELIABILITY.md §4,
// scenarios 3 and 4; TESTING.md "Faults"). One app instance (dist/main.js through scripts/app-cluster.mjs spawnApp,
// default cache settings: CACHE_OP_TIMEOUT_MS 150, default L1) on a seeded scratch PostgreSQL database and a
// redis-server of this script's own, on a free port.
//   baseline  Redis healthy: the p99 of requests on never-cached keys (all X-Cache MISS) is the DB-path p99
//   run A     Redis SIGKILLed at t=10 s, relaunched on the same port with the same arguments at t=20 s
//   run B     Redis SIGSTOPped at t=10 s, SIGCONTed at t=20 s
// Load: autocannon's programmatic API in a process of its own (this file, started with --load-worker), at a fixed
// overall rate (split over several autocannon instances started evenly over the first second, so that the requests
// of a second do not all leave in one burst); 60% of the requests on keys never requested before (a unique
// skip/limit pair each), the rest on a few hot keys. A warm-up load precedes the baseline. Every response is recorded (send time, latency, status, X-Cache) and every figure per phase is
// computed from those records, not from autocannon's aggregated histograms. Results: bench/results/faults-*.json,
// faults-*.md and faults-latest.md.
//
// Options: --jobs N (10000) --rate N (300) --connections N (30) --instances N (10) --phase S (10: a run is 3
// phases) --baseline S (10) --warmup S (5) --cold-percent N (60) --records FILE (every response, as JSON). Needs a PostgreSQL server: TEST_DATABASE_URL, BENCH_DATABASE_URL or DATABASE_URL (a
// scratch database is created there and dropped at the end, also on failure and on SIGINT/SIGTERM).
import { execFile, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import {
  cpuMicros,
  createScratchDatabase,
  machineCpuMicros,
  machineDescription,
  redactUrl,
  root,
  seedJobs,
  versionOf,
} from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const nowEpoch = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round1 = (value) => Math.round(value * 10) / 10;

/** X-Cache values, coded in the records sent by the load worker. */
const XCACHE = ['HIT', 'MISS', 'BYPASS', 'other'];
const HOT = 0;
const COLD = 1;
/**
 * Cold keys: a unique (skip, limit) pair per index (limit 20-34, skip 0-1999), never used by the hot keys (limit
 * 10 and a location). Consecutive indices stride through the skips (1237 is coprime with 2000, about 0.618 of it),
 * so any stretch of a load has the same mix of page depths and sizes: the database's cost of a miss (OFFSET) does
 * not drift from one phase to the next.
 */
const COLD_SKIPS = 2_000;
const COLD_LIMITS = 15;
const COLD_STRIDE = 1_237;
const COLD_KEYS = COLD_SKIPS * COLD_LIMITS;
const coldPath = (index) =>
  `/api/jobs?skip=${(Math.floor(index / COLD_LIMITS) * COLD_STRIDE) % COLD_SKIPS}&limit=${20 + (index % COLD_LIMITS)}`;
const HOT_PATHS = Array.from({ length: 8 }, (_, i) => `/api/jobs?skip=${i * 10}&limit=10&location=Berlin`);
/** The app's per-operation deadline: CACHE_OP_TIMEOUT_MS is not set, so its default applies. */
const DEADLINE_MS = 150;
/** Loads during which other programs used more than this percent of all cores are flagged in the report. */
const FOREIGN_FLAG_PERCENT = 10;
/** Disjoint ranges of cold-key indices, so that no key is ever requested twice in the whole script. */
const COLD_BASE = { baseline: 0, A: 3_000, B: 10_000, warmup: 17_000, probe: 19_000 };

// ---------------------------------------------------------------------------------------------------------------
// The load worker: a child process running autocannon, reporting every response to the harness.

async function runLoadWorker() {
  const configured = once(process, 'message'); // listening before anything else: the harness sends it at once
  process.on('disconnect', () => process.exit(2)); // the harness went away: stop loading its app
  const { default: autocannon } = await import('autocannon');
  const [config] = await configured;
  const records = [];
  const errors = [];
  let sent = 0;
  let coldSent = 0;
  let hotSent = 0;
  let last; // what onResponse saw for the response that the 'response' event reports right after it
  let overrun = 0;
  const t0 = nowEpoch();
  const request = {
    method: 'GET',
    setupRequest(req, context) {
      // Spread evenly: request n is cold when floor(n * percent / 100) steps up.
      const cold =
        Math.floor(((sent + 1) * config.coldPercent) / 100) > Math.floor((sent * config.coldPercent) / 100);
      sent++;
      context.kind = cold ? COLD : HOT;
      req.path = cold ? coldPath(config.coldBase + coldSent++) : HOT_PATHS[hotSent++ % HOT_PATHS.length];
      return req;
    },
    onResponse(_status, _body, context, headers) {
      const header = Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-cache')?.[1];
      const code = XCACHE.indexOf(String(header ?? '').toUpperCase());
      last = { kind: context.kind, xcache: code === -1 ? 3 : code };
    },
  };
  // autocannon's rate limit lets each connection send its share of a second back to back when the second starts,
  // and all connections of one instance start together: one instance would send all 300 requests of a second in
  // one burst. So the rate and the connections are split over `instances` instances started evenly over the first
  // second (same total rate, same total connections), which spreads the bursts over the second.
  const startOne = (index) =>
    new Promise((resolve, reject) => {
      const startedAt = nowEpoch() - t0;
      const instance = autocannon(
        {
          url: config.baseUrl + HOT_PATHS[0],
          connections: config.connections / config.instances,
          overallRate: config.rate / config.instances,
          duration: config.durationS,
          timeout: config.timeoutS,
          // With a rate, autocannon "corrects" latencies for coordinated omission with an expected interval of
          // ceil(1 / per-connection rate) = 1 ms, which adds a synthetic sample per millisecond of every response.
          // The figures here come from the per-response records instead, and omission shows as sent vs intended.
          ignoreCoordinatedOmission: true,
          requests: [request],
        },
        (error, result) => {
          if (error) return reject(error);
          resolve({
            index,
            startedAtMs: startedAt,
            requests: result.requests.total,
            errors: result.errors,
            timeouts: result.timeouts,
            non2xx: result.non2xx,
            statusCodeStats: result.statusCodeStats,
            durationS: result.duration,
          });
        },
      );
      instance.on('response', (_client, status, _bytes, latency) => {
        const sentAt = nowEpoch() - latency - t0;
        const meta = last ?? { kind: -1, xcache: 3 };
        last = undefined;
        // autocannon stops at its next 1-s tick after the duration, so a connection may start one more second:
        // those requests are outside the measured window.
        if (sentAt >= startedAt + config.durationS * 1000) {
          overrun++;
          return;
        }
        records.push([
          Math.round(sentAt * 100) / 100,
          Math.round(latency * 100) / 100,
          status,
          meta.xcache,
          meta.kind,
        ]);
      });
      instance.on('reqError', (error) => errors.push([Math.round(nowEpoch() - t0), String(error?.message)]));
    });
  process.send({ type: 'start', t0 });
  try {
    const results = await Promise.all(
      Array.from({ length: config.instances }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, (i * 1000) / config.instances)).then(() => startOne(i)),
      ),
    );
    const statusCodeStats = {};
    for (const result of results)
      for (const [code, { count }] of Object.entries(result.statusCodeStats))
        statusCodeStats[code] = (statusCodeStats[code] ?? 0) + count;
    const sum = (key) => results.reduce((total, result) => total + result[key], 0);
    const summary = {
      instances: results.length,
      requests: sum('requests'),
      errors: sum('errors'),
      timeouts: sum('timeouts'),
      non2xx: sum('non2xx'),
      statusCodeStats,
      notRecordedAfterDuration: overrun,
    };
    const starts = results.map((r) => Math.round(r.startedAtMs));
    process.send({ type: 'done', records, errors, summary, starts, coldSent, hotSent }, () =>
      process.exit(0),
    );
  } catch (error) {
    process.send({ type: 'error', message: error.message }, () => process.exit(1));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The harness.

const apps = [];
const children = new Set(); // redis-server and the load worker: SIGKILLed at cleanup if still running
const sockets = new Set();
const cleanups = [];
const log = (...args) => console.log('[faults]', ...args);

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * A minimal RESP2 client (no HELLO, no CLIENT SETINFO), so that the harness adds nothing to what it counts: its
 * only commands are INFO, CONFIG RESETSTAT and CLIENT LIST, all left out of the counts.
 */
class RawRedis {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = undefined;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      sockets.delete(socket);
      this.fail(new Error('connection closed'));
    });
  }

  static async connect(port, timeoutMs = 1_000) {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), timeoutMs);
    try {
      await once(socket, 'connect');
    } finally {
      clearTimeout(timer);
    }
    RawRedis.connections++;
    return new RawRedis(socket);
  }

  /** Connections the harness made: Redis counts them in total_connections_received. */
  static connections = 0;

  get localPort() {
    return this.socket.localPort;
  }

  command(args, timeoutMs = 2_000) {
    if (this.waiting) return Promise.reject(new Error('one command at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${args[0]} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.socket.write(
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
      );
    });
  }

  drain() {
    if (!this.waiting) return;
    const eol = this.buffer.indexOf('\r\n');
    if (eol < 0) return;
    const type = String.fromCharCode(this.buffer[0]);
    const line = this.buffer.toString('utf8', 1, eol);
    let value;
    let used = eol + 2;
    if (type === '$') {
      const length = Number(line);
      if (length >= 0) {
        if (this.buffer.length < eol + 2 + length + 2) return;
        value = this.buffer.toString('utf8', eol + 2, eol + 2 + length);
        used = eol + 2 + length + 2;
      } else value = null;
    } else if (type === '+' || type === ':') value = line;
    const waiting = this.waiting;
    this.waiting = undefined;
    this.buffer = this.buffer.subarray(used);
    if (type === '-') waiting.reject(new Error(line));
    else if (value === undefined) waiting.reject(new Error(`unexpected reply ${JSON.stringify(line)}`));
    else waiting.resolve(value);
  }

  fail(error) {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }

  close() {
    this.socket.destroy();
    sockets.delete(this.socket);
  }
}

/** One command on a connection of its own. */
async function redisCommand(port, args, timeoutMs = 2_000) {
  const client = await RawRedis.connect(port, timeoutMs);
  try {
    return await client.command(args, timeoutMs);
  } finally {
    client.close();
  }
}

/** Harness commands, left out of every count of the app's commands. */
const HARNESS_COMMANDS = new Set(['info', 'config|resetstat', 'client|list']);

function parseCommandstats(info) {
  const calls = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (!HARNESS_COMMANDS.has(match[1])) calls[match[1]] = Number(match[2]);
  return calls;
}

function diffCalls(before, after) {
  const diff = {};
  for (const [command, calls] of Object.entries(after)) {
    const delta = calls - (before[command] ?? 0);
    if (delta !== 0) diff[command] = delta;
  }
  return diff;
}

const totalCalls = (calls) => Object.values(calls).reduce((sum, n) => sum + n, 0);
const callsText = (calls) =>
  `${totalCalls(calls)}${
    Object.keys(calls).length
      ? ` (${Object.entries(calls)
          .sort((a, b) => b[1] - a[1])
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')})`
      : ''
  }`;

const execFileAsync = promisify(execFile);

/**
 * The server side of every TCP connection to Redis, from the kernel (`ss -ti`): bytes received per peer, counted
 * even while redis-server is stopped, and the bytes not yet read (Recv-Q).
 */
async function redisSockets(port, ignoreLocalPorts = []) {
  const { stdout } = await execFileAsync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`]);
  const sockets = new Map();
  let current;
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      const [recvQ, , , peer] = line.trim().split(/\s+/);
      current = { peer, recvQ: Number(recvQ), bytesReceived: 0 };
      if (!ignoreLocalPorts.some((p) => peer.endsWith(`:${p}`))) sockets.set(peer, current);
    } else if (current) {
      current.bytesReceived = Number(line.match(/bytes_received:(\d+)/)?.[1] ?? 0);
    }
  }
  return sockets;
}

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ms = (value) => (value === null || value === undefined ? '-' : round1(value));
const pct = (ratio) => (ratio === null || ratio === undefined ? '-' : `${round1(ratio * 100)}%`);

const seconds = (milliseconds) => Math.round(milliseconds / 10) / 100;

/**
 * Requests the load meant to send in [fromMs, toMs). autocannon releases each instance's share of a second when
 * that second of the instance starts, so the intended send times are the instance's start plus 0, 1, 2 ... s.
 */
function intendedIn(load, fromMs, toMs) {
  const perInstance = load.rate / load.starts.length;
  let total = 0;
  for (const start of load.starts)
    for (let at = start; at < start + load.durationMs; at += 1000)
      if (at >= fromMs && at < toMs) total += perInstance;
  return total;
}

/**
 * Figures for the requests sent in [fromMs, toMs) (send time = response time - latency, relative to the start of
 * the load; `toMs` Infinity for the last phase), and the request errors (connection errors, timeouts) that
 * happened in that window.
 */
function phaseStats(load, fromMs, toMs) {
  const selected = load.records.filter(([t]) => t >= fromMs && t < toMs);
  const latencies = selected.map((r) => r[1]).sort((a, b) => a - b);
  const mix = { HIT: 0, MISS: 0, BYPASS: 0, other: 0 };
  for (const r of selected) mix[XCACHE[r[3]]]++;
  const hot = selected.filter((r) => r[4] === HOT);
  const cold = selected.filter((r) => r[4] === COLD);
  const coldLatencies = cold.map((r) => r[1]).sort((a, b) => a - b);
  const coldMiss = cold.filter((r) => r[3] === 1);
  const coldMissLatencies = coldMiss.map((r) => r[1]).sort((a, b) => a - b);
  return {
    fromS: seconds(fromMs),
    toS: seconds(Math.min(toMs, load.endMs)),
    requests: selected.length,
    intended: intendedIn(load, fromMs, toMs),
    non2xx: selected.filter((r) => r[2] < 200 || r[2] >= 300).length,
    status5xx: selected.filter((r) => r[2] >= 500).length,
    requestErrors: load.errors.filter(([t]) => t >= fromMs && t < toMs).length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? null,
    atLeastDeadline: selected.filter((r) => r[1] >= DEADLINE_MS).length,
    xcache: mix,
    hotRequests: hot.length,
    hotHitRatio: hot.length ? hot.filter((r) => r[3] === 0).length / hot.length : null,
    coldRequests: cold.length,
    coldP99: percentile(coldLatencies, 0.99),
    coldMissRatio: cold.length ? coldMiss.length / cold.length : null,
    coldMissP99: percentile(coldMissLatencies, 0.99),
  };
}

/** One row per second of the load (the last second of every instance starts before its duration). */
function timeline(load) {
  return Array.from({ length: Math.ceil(load.durationMs / 1000) }, (_, s) => {
    const p = phaseStats(load, s * 1000, (s + 1) * 1000);
    return {
      second: s,
      requests: p.requests,
      intended: p.intended,
      status5xx: p.status5xx,
      requestErrors: p.requestErrors,
      p99: p.p99,
      max: p.max,
      hotHitRatio: p.hotHitRatio,
      coldMissRatio: p.coldMissRatio,
      bypass: p.xcache.BYPASS,
      cpu: load.cpuPerSecond?.[s] ?? null,
    };
  });
}

/**
 * 1-s windows of the requests of `kind` (by send time), starting at `fromMs` and then every 100 ms up to the end of
 * the load; windows with fewer than `minRequests` such requests are left out. Each with the share satisfying `isGood`.
 */
function windows(load, kind, isGood, fromMs, minRequests = 10) {
  const list = [];
  for (let start = fromMs; start + 1000 <= load.endMs; start += 100) {
    const window = load.records.filter((r) => r[4] === kind && r[0] >= start && r[0] < start + 1000);
    if (window.length < minRequests) continue;
    list.push({
      afterS: seconds(start - fromMs),
      ratio: window.filter(isGood).length / window.length,
      requests: window.length,
    });
  }
  return list;
}

/**
 * From `fromMs`: the first window whose ratio is at least `threshold`; the first from which every later window is;
 * and the lowest window.
 */
function recoveryOf(list, threshold) {
  const first = list.find((w) => w.ratio >= threshold) ?? null;
  const lastBelow = list.findLastIndex((w) => w.ratio < threshold);
  const stays = lastBelow === list.length - 1 ? null : list[lastBelow + 1];
  const lowest = list.reduce((low, w) => (low === null || w.ratio < low.ratio ? w : low), null);
  return { first, stays, lowest, threshold };
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      jobs: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '300' },
      connections: { type: 'string', default: '30' },
      phase: { type: 'string', default: '10' },
      baseline: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '5' },
      instances: { type: 'string', default: '10' },
      'cold-percent': { type: 'string', default: '60' },
      records: { type: 'string' },
      // `npm run test:faults`: the same run, failing (exit 3) when a target is not met, for CI.
      check: { type: 'boolean', default: false },
    },
  });
  const RATE = Number(opts.rate);
  const CONNECTIONS = Number(opts.connections);
  const PHASE_S = Number(opts.phase);
  const RUN_S = 3 * PHASE_S;
  const BASELINE_S = Number(opts.baseline);
  const COLD_PERCENT = Number(opts['cold-percent']);
  const WARMUP_S = Number(opts.warmup);
  const INSTANCES = Number(opts.instances);
  const TIMEOUT_S = 10;
  for (const [name, value] of Object.entries({ RATE, CONNECTIONS, PHASE_S, BASELINE_S, COLD_PERCENT }))
    if (!Number.isFinite(value) || value <= 0) throw new Error(`bad option ${name}`);
  if (COLD_PERCENT < 50 || COLD_PERCENT > 100) throw new Error('--cold-percent must be 50-100');
  if (!Number.isInteger(INSTANCES) || CONNECTIONS % INSTANCES !== 0 || RATE % INSTANCES !== 0)
    throw new Error('--instances must divide --connections and --rate');
  const coldNeeded = (seconds) => RATE * (COLD_PERCENT / 100) * seconds * 1.2;
  if (
    coldNeeded(BASELINE_S) > COLD_BASE.A - COLD_BASE.baseline ||
    coldNeeded(RUN_S) > COLD_BASE.B - COLD_BASE.A ||
    coldNeeded(RUN_S) > COLD_BASE.warmup - COLD_BASE.B ||
    coldNeeded(WARMUP_S) > COLD_BASE.probe - COLD_BASE.warmup
  )
    throw new Error('rate x duration too large for the ranges of never-requested keys');

  const benchStarted = Date.now();
  const serverUrl =
    process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set TEST_DATABASE_URL (or BENCH_DATABASE_URL) to a PostgreSQL server');
  const serverUrlFrom = process.env.TEST_DATABASE_URL
    ? 'TEST_DATABASE_URL'
    : process.env.BENCH_DATABASE_URL
      ? 'BENCH_DATABASE_URL'
      : 'DATABASE_URL';
  const { default: pg } = await import('pg');
  const { freePort, spawnApp } = await import('../scripts/app-cluster.mjs');

  // Scratch database, seeded with the default data set.
  const database = await createScratchDatabase(serverUrl, 'faults', log);
  cleanups.push(database.drop);
  const dbName = database.name;
  // A connection of the harness's own, to find the PostgreSQL backends serving the scratch database (their CPU is
  // the bench's, not other programs').
  const pgWatch = new pg.Client({ connectionString: serverUrl });
  await pgWatch.connect();
  cleanups.push(async () => pgWatch.end());
  const pgBackends = async () => {
    try {
      const { rows } = await pgWatch.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
      return rows.map((row) => row.pid);
    } catch {
      return [];
    }
  };
  const databaseUrl = database.url;
  seedJobs(database, opts.jobs, log);

  // Redis of the script's own: killed, relaunched (same port, same arguments), stopped and continued.
  const redisPort = await freePort();
  const redisArgs = ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const redis = { process: undefined, launches: 0 };
  const launchRedis = async () => {
    redis.process = track(spawn('redis-server', redisArgs, { stdio: 'ignore' }));
    redis.launches++;
    const spawnedAt = nowEpoch();
    for (;;) {
      try {
        const info = await redisCommand(redisPort, ['INFO', 'server'], 200);
        return { spawnedAt, readyAt: nowEpoch(), version: info.match(/redis_version:(\S+)/)?.[1] };
      } catch {
        if (redis.process.exitCode !== null)
          throw new Error(`redis-server exited with ${redis.process.exitCode}`);
        if (nowEpoch() - spawnedAt > 5_000) throw new Error(`redis-server on ${redisPort} did not start`);
        await sleep(5);
      }
    }
  };
  const killRedis = async () => {
    const child = redis.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(async () => {
    redis.process?.kill('SIGCONT');
    await killRedis();
  });
  const firstLaunch = await launchRedis();
  const redisVersion = firstLaunch.version;
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  log(`redis-server ${redisVersion} on port ${redisPort}: ${['redis-server', ...redisArgs].join(' ')}`);

  // One app instance with the cache's defaults; only what the harness must set is set.
  const appEnv = {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    CACHE_PREFIX: `faults-${process.pid}:`,
    LOG_LEVEL: 'info',
    MIGRATE_ON_START: 'false',
  };
  log('app environment (on top of PATH, HOME, HOST=127.0.0.1, PORT):', {
    ...appEnv,
    DATABASE_URL: redactUrl(databaseUrl),
  });
  const app = await spawnApp(appEnv, { timeoutMs: 60_000 });
  apps.push(app);
  const appPid = app.process.pid;
  log(`app pid ${appPid} at ${app.baseUrl}`);

  let probeIndex = COLD_BASE.probe;
  const get = async (path) => {
    const response = await fetch(app.baseUrl + path);
    await response.arrayBuffer();
    return { status: response.status, xcache: response.headers.get('x-cache') };
  };
  /**
   * Until a never-requested key answers MISS: Redis is read and written again (a hot key can answer HIT from L1
   * while Redis is still away). Then the hot keys are fetched until each answers HIT.
   */
  const waitForCache = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let answer;
    for (;;) {
      if (probeIndex >= COLD_KEYS) throw new Error('out of never-requested keys for probes');
      answer = await get(coldPath(probeIndex++));
      if (answer.status !== 200) throw new Error(`probe answered ${answer.status}`);
      if (answer.xcache === 'MISS') break;
      if (Date.now() > deadline)
        throw new Error(`the app's cache did not connect (last X-Cache ${answer.xcache})`);
      await sleep(100);
    }
    const hot = [];
    for (const path of HOT_PATHS) {
      let hotAnswer;
      for (let i = 0; i < 20; i++) {
        hotAnswer = await get(path);
        if (hotAnswer.xcache === 'HIT') break;
        await sleep(20);
      }
      hot.push(hotAnswer.xcache);
    }
    return `never-cached key MISS; hot keys ${hot.join(' ')}`;
  };
  log(`cache connected: ${await waitForCache()}`);

  /**
   * One load of `durationS` seconds in a worker process; `events` run at their times (ms after the start of the
   * load) in this process. Resolves with every response record, the request errors and the events' results.
   */
  const runLoad = async (name, durationS, coldBase, events = []) => {
    const worker = track(fork(SELF, ['--load-worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const timers = [];
    const eventResults = [];
    const watchdog = setTimeout(() => worker.kill('SIGKILL'), (durationS + 30) * 1000);
    // CPU once a second from the start of the load: the machine, the app, and the rest of this bench (the load
    // worker, Redis, the PostgreSQL backends of the scratch database, this process), so that a latency spike caused
    // by other programs on the machine (other developers' tests share it) can be told from one of the app's own.
    const samples = [];
    const lastByPid = new Map();
    const deltaOf = (pids) =>
      pids.reduce((sum, pid) => {
        const now = cpuMicros(pid) ?? 0;
        const before = lastByPid.get(pid);
        lastByPid.set(pid, now);
        return sum + (before === undefined ? 0 : Math.max(0, now - before));
      }, 0);
    let harnessBefore = 0;
    const sampleCpu = async () => {
      const backends = await pgBackends();
      const machine = machineCpuMicros();
      const harness = process.cpuUsage();
      const harnessNow = harness.user + harness.system;
      const parts = {
        worker: deltaOf([worker.pid]),
        redis: deltaOf([redis.process?.pid].filter(Boolean)),
        postgres: deltaOf(backends),
        harness: harnessNow - harnessBefore,
      };
      samples.push({
        at: nowEpoch(),
        machine: machine.busy,
        steal: machine.steal,
        app: deltaOf([appPid]),
        bench: parts.worker + parts.redis + parts.postgres + parts.harness,
        ...parts,
      });
      harnessBefore = harnessNow;
    };
    let sampling = Promise.resolve();
    const sample = () => (sampling = sampling.then(sampleCpu));
    try {
      const result = await new Promise((resolve, reject) => {
        let done;
        worker.on('message', (message) => {
          if (message.type === 'start') {
            for (let second = 0; second <= durationS + 1; second++)
              timers.push(setTimeout(sample, Math.max(0, message.t0 + second * 1000 - nowEpoch())));
            for (const event of events) {
              const outcome = new Promise((r) => {
                timers.push(setTimeout(r, Math.max(0, message.t0 + event.atMs - nowEpoch())));
              })
                .then(() => event.run(message.t0))
                .then(
                  (value) => ({ name: event.name, value }),
                  (error) => ({ name: event.name, error }),
                );
              eventResults.push(outcome);
            }
            done = { t0: message.t0 };
          } else if (message.type === 'done') done = { ...done, ...message };
          else if (message.type === 'error') reject(new Error(`load worker: ${message.message}`));
        });
        worker.on('error', reject);
        worker.on('exit', (code, signal) => {
          if (done?.records) resolve(done);
          else reject(new Error(`${name}: load worker exited (${code ?? signal}) before reporting`));
        });
        worker.send({
          baseUrl: app.baseUrl,
          connections: CONNECTIONS,
          rate: RATE,
          instances: INSTANCES,
          durationS,
          timeoutS: TIMEOUT_S,
          coldPercent: COLD_PERCENT,
          coldBase,
        });
      });
      const outcomes = await Promise.all(eventResults);
      const failed = outcomes.find((o) => o.error);
      if (failed) throw new Error(`${name}: event ${failed.name} failed: ${failed.error.message}`);
      await sampling;
      result.events = Object.fromEntries(outcomes.map((o) => [o.name, o.value]));
      const percentOf = (intervals, key) => {
        const capacity = intervals.reduce((sum, i) => sum + i.capacity, 0);
        return round1((intervals.reduce((sum, i) => sum + i[key], 0) / capacity) * 100);
      };
      const intervals = samples.slice(1).map((next, i) => {
        const busy = next.machine - samples[i].machine;
        return {
          capacity: (next.at - samples[i].at) * 1000 * os.cpus().length,
          busy,
          steal: next.steal - samples[i].steal,
          app: next.app,
          bench: next.bench,
          worker: next.worker,
          redis: next.redis,
          postgres: next.postgres,
          harness: next.harness,
          others: Math.max(0, busy - next.app - next.bench),
        };
      });
      const cpuOf = (list) => ({
        machineBusyPercent: percentOf(list, 'busy'),
        appPercent: percentOf(list, 'app'),
        restOfBenchPercent: percentOf(list, 'bench'),
        otherProgramsPercent: percentOf(list, 'others'),
        stealPercent: percentOf(list, 'steal'),
        restOfBench: {
          loadWorkerPercent: percentOf(list, 'worker'),
          redisPercent: percentOf(list, 'redis'),
          postgresBackendsPercent: percentOf(list, 'postgres'),
          harnessPercent: percentOf(list, 'harness'),
        },
      });
      result.cpu = cpuOf(intervals.slice(0, durationS));
      result.cpuPerSecond = intervals.slice(0, durationS).map((interval) => cpuOf([interval]));
      result.rate = RATE;
      result.durationMs = durationS * 1000;
      result.endMs = Math.max(...result.starts) + result.durationMs;
      return result;
    } finally {
      clearTimeout(watchdog);
      for (const timer of timers) clearTimeout(timer);
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }
  };

  /** The app's warn/error log lines (pino level >= 40) printed since `fromChars`, with times relative to `t0`. */
  const appWarnings = (fromChars, t0) =>
    app
      .output()
      .slice(fromChars)
      .split('\n')
      .flatMap((line) => {
        if (!line.startsWith('{'))
          return line.trim() ? [{ t: null, level: 'raw', msg: line.slice(0, 300) }] : [];
        try {
          const entry = JSON.parse(line);
          if (entry.level < 40) return [];
          return [
            {
              t: seconds(entry.time - t0),
              level: entry.level,
              msg: String(entry.msg ?? '').slice(0, 300),
            },
          ];
        } catch {
          return [{ t: null, level: 'raw', msg: line.slice(0, 300) }];
        }
      });

  const commandstats = async (client) =>
    parseCommandstats(
      await (client
        ? client.command(['INFO', 'commandstats'])
        : redisCommand(redisPort, ['INFO', 'commandstats'])),
    );

  // Warm-up: the same load, not measured (a freshly started app compiles its hot paths and fills its database pool;
  // under load the first seconds are slow enough to miss the cache deadline).
  if (WARMUP_S > 0) {
    log(`warm-up: ${WARMUP_S} s of the same load (not measured)`);
    await runLoad('warm-up', WARMUP_S, COLD_BASE.warmup);
    log(`cache after the warm-up: ${await waitForCache()}`);
  }

  // Baseline: Redis healthy, the same load; cold keys all MISS, so their p99 is the database path's.
  log(`baseline: ${BASELINE_S} s at ${RATE} req/s, ${COLD_PERCENT}% never-cached keys, Redis healthy`);
  await redisCommand(redisPort, ['CONFIG', 'RESETSTAT']);
  let outputMark = app.output().length;
  const baselineLoad = await runLoad('baseline', BASELINE_S, COLD_BASE.baseline);
  const baselineCalls = await commandstats();
  const baseline = {
    load: baselineLoad,
    all: phaseStats(baselineLoad, 0, Infinity),
    redisCommands: baselineCalls,
    warnings: appWarnings(outputMark, baselineLoad.t0),
  };
  const dbPathP99 = baseline.all.coldMissP99;
  log(
    `baseline: ${baseline.all.requests} requests, cold MISS ${pct(baseline.all.coldMissRatio)}, DB-path p99 ` +
      `${ms(dbPathP99)} ms (p50 all ${ms(baseline.all.p50)} ms), 5xx ${baseline.all.status5xx}`,
  );

  const faultAtMs = PHASE_S * 1000;
  const returnAtMs = 2 * PHASE_S * 1000;
  const runs = {};

  // Run A: SIGKILL at 10 s, relaunch at 20 s.
  log(`cache before run A: ${await waitForCache()}`);
  log(`run A: ${RUN_S} s; SIGKILL redis-server at ${PHASE_S} s, relaunch at ${2 * PHASE_S} s`);
  await redisCommand(redisPort, ['CONFIG', 'RESETSTAT']);
  outputMark = app.output().length;
  let harnessConnectionsAtLaunch = 0;
  const runALoad = await runLoad('A', RUN_S, COLD_BASE.A, [
    {
      name: 'fault',
      atMs: faultAtMs,
      run: async (t0) => {
        const before = await commandstats();
        const pid = redis.process.pid;
        await killRedis();
        return { atMs: nowEpoch() - t0, pid, commandsBefore: before };
      },
    },
    {
      name: 'return',
      atMs: returnAtMs,
      run: async (t0) => {
        harnessConnectionsAtLaunch = RawRedis.connections;
        const launch = await launchRedis();
        return {
          atMs: launch.readyAt - t0,
          spawnedAtMs: launch.spawnedAt - t0,
          pid: redis.process.pid,
          readyAfterSpawnMs: round1(launch.readyAt - launch.spawnedAt),
        };
      },
    },
  ]);
  const afterA = await commandstats();
  const statsA = await redisCommand(redisPort, ['INFO', 'stats']);
  runs.A = {
    name: 'A',
    fault: 'SIGKILL, relaunched on the same port with the same arguments',
    load: runALoad,
    faultAtMs: runALoad.events.fault.atMs,
    returnAtMs: runALoad.events.return.atMs,
    events: runALoad.events,
    redisCommands: {
      before: runALoad.events.fault.commandsBefore,
      outage: null,
      after: afterA,
      afterConnectionsReceived: Number(statsA.match(/total_connections_received:(\d+)/)?.[1] ?? NaN),
      afterHarnessConnections: RawRedis.connections - harnessConnectionsAtLaunch,
    },
    warnings: appWarnings(outputMark, runALoad.t0),
  };

  // Run B: SIGSTOP at 10 s, SIGCONT at 20 s.
  log(`cache before run B: ${await waitForCache()}`);
  log(`run B: ${RUN_S} s; SIGSTOP redis-server at ${PHASE_S} s, SIGCONT at ${2 * PHASE_S} s`);
  await redisCommand(redisPort, ['CONFIG', 'RESETSTAT']);
  // A connection of the harness's own, open before the freeze, so INFO can be sent the moment Redis continues.
  const watcher = await RawRedis.connect(redisPort);
  cleanups.push(async () => watcher.close());
  let freezeStart;
  const connectionNames = new Map();
  outputMark = app.output().length;
  const runBLoad = await runLoad('B', RUN_S, COLD_BASE.B, [
    {
      name: 'fault',
      atMs: faultAtMs,
      run: async (t0) => {
        // Which of the app's connections is which (the subscriber is named), by the app's address.
        const clientList = await watcher.command(['CLIENT', 'LIST']);
        for (const match of clientList.matchAll(/\baddr=(\S+).*?\bname=(\S*)/g))
          connectionNames.set(match[1], match[2] || '(main client, unnamed)');
        const before = await commandstats(watcher);
        redis.process.kill('SIGSTOP');
        const stoppedAt = nowEpoch();
        // After the stop: from here on, what the kernel receives for Redis stays unread until SIGCONT.
        freezeStart = await redisSockets(redisPort, [watcher.localPort]);
        return { atMs: stoppedAt - t0, commandsBefore: before };
      },
    },
    {
      name: 'return',
      atMs: returnAtMs,
      run: async (t0) => {
        const freezeEnd = await redisSockets(redisPort, [watcher.localPort]);
        redis.process.kill('SIGCONT');
        const continuedAt = nowEpoch();
        // INFO once Redis has read everything queued while it was stopped (Recv-Q 0 on every connection): Redis
        // reads at most 16 KB per connection per event-loop turn, so an INFO sent at once can overtake the backlog.
        let drained = false;
        while (!drained && nowEpoch() - continuedAt < 1_000) {
          const now = await redisSockets(redisPort, [watcher.localPort]);
          drained = [...now.values()].every((socket) => socket.recvQ === 0);
        }
        const afterContinue = await commandstats(watcher);
        const answeredAt = nowEpoch();
        let bytes = 0;
        let newConnections = 0;
        let unread = 0;
        const byConnection = {};
        for (const [peer, socket] of freezeEnd) {
          const earlier = freezeStart.get(peer);
          if (!earlier) newConnections++;
          const sent = socket.bytesReceived - (earlier?.bytesReceived ?? 0);
          bytes += sent;
          unread += socket.recvQ;
          const name = connectionNames.get(peer) ?? `(new connection ${peer})`;
          byConnection[name] = (byConnection[name] ?? 0) + sent;
        }
        return {
          atMs: continuedAt - t0,
          infoAnsweredAfterMs: round1(answeredAt - continuedAt),
          backlogDrained: drained,
          commandsAfterContinue: afterContinue,
          freeze: {
            bytesSentByApp: bytes,
            bytesByConnection: byConnection,
            unreadBytesAtContinue: unread,
            connectionsBefore: freezeStart.size,
            connectionsAtContinue: freezeEnd.size,
            newConnections,
          },
        };
      },
    },
  ]);
  const afterB = await commandstats(watcher);
  runs.B = {
    name: 'B',
    fault: 'SIGSTOP, then SIGCONT',
    load: runBLoad,
    faultAtMs: runBLoad.events.fault.atMs,
    returnAtMs: runBLoad.events.return.atMs,
    events: runBLoad.events,
    redisCommands: {
      before: runBLoad.events.fault.commandsBefore,
      outage: diffCalls(runBLoad.events.fault.commandsBefore, runBLoad.events.return.commandsAfterContinue),
      after: diffCalls(runBLoad.events.return.commandsAfterContinue, afterB),
      freeze: runBLoad.events.return.freeze,
      infoAnsweredAfterMs: runBLoad.events.return.infoAnsweredAfterMs,
      backlogDrained: runBLoad.events.return.backlogDrained,
    },
    warnings: appWarnings(outputMark, runBLoad.t0),
  };
  watcher.close();
  const appAlive = app.process.exitCode === null && app.process.signalCode === null;
  if (!appAlive) throw new Error(`the app exited during the runs:\n${app.output().slice(-3_000)}`);

  // Figures per run and phase, from the records.
  for (const run of Object.values(runs)) {
    run.phases = {
      before: phaseStats(run.load, 0, run.faultAtMs),
      outage: phaseStats(run.load, run.faultAtMs, run.returnAtMs),
      after: phaseStats(run.load, run.returnAtMs, Infinity),
    };
    const beforeRatio = run.phases.before.hotHitRatio ?? 1;
    const firstColdMiss = run.load.records
      .filter((r) => r[4] === COLD && r[3] === 1 && r[0] >= run.returnAtMs)
      .sort((a, b) => a[0] - b[0])[0];
    run.recovery = {
      beforeHotHitRatio: beforeRatio,
      hot: recoveryOf(
        windows(run.load, HOT, (r) => r[3] === 0, run.returnAtMs),
        Math.max(0, beforeRatio - 0.05),
      ),
      hotDuringOutage: recoveryOf(
        windows(run.load, HOT, (r) => r[3] === 0, run.faultAtMs).filter(
          (w) => w.afterS * 1000 + 1000 <= run.returnAtMs - run.faultAtMs,
        ),
        Math.max(0, beforeRatio - 0.05),
      ).lowest,
      coldMiss: recoveryOf(
        windows(run.load, COLD, (r) => r[3] === 1, run.returnAtMs),
        0.95,
      ),
      firstColdMissAfterS: firstColdMiss ? seconds(firstColdMiss[0] - run.returnAtMs) : null,
    };
    run.timeline = timeline(run.load);
  }
  if (opts.records) {
    writeFileSync(
      opts.records,
      JSON.stringify({
        columns: [
          'sentAtMs',
          'latencyMs',
          'status',
          'xcache (0 HIT, 1 MISS, 2 BYPASS, 3 other)',
          'kind (0 hot, 1 cold)',
        ],
        baseline: baselineLoad.records,
        A: { faultAtMs: runs.A.faultAtMs, returnAtMs: runs.A.returnAtMs, records: runs.A.load.records },
        B: { faultAtMs: runs.B.faultAtMs, returnAtMs: runs.B.returnAtMs, records: runs.B.load.records },
      }),
    );
    log(`raw records: ${opts.records}`);
  }

  const allPhases = [baseline.all, ...Object.values(runs).flatMap((r) => Object.values(r.phases))];
  const targets = [
    {
      name: '0 5xx in all phases (baseline, runs A and B)',
      value: `${allPhases.reduce((s, p) => s + p.status5xx, 0)} 5xx`,
      met: allPhases.every((p) => p.status5xx === 0),
    },
    ...Object.values(runs).flatMap((run) => [
      {
        name: `run ${run.name}: outage-phase p99 <= DB-path p99 + ${DEADLINE_MS} ms (${ms(dbPathP99)} + ${DEADLINE_MS} = ${ms(dbPathP99 + DEADLINE_MS)} ms)`,
        value: `${ms(run.phases.outage.p99)} ms`,
        met: run.phases.outage.p99 !== null && run.phases.outage.p99 <= dbPathP99 + DEADLINE_MS,
      },
      {
        name: `run ${run.name}: hot-key hit ratio restored within 5 s of Redis returning`,
        value: run.recovery.hot.first ? `${run.recovery.hot.first.afterS} s` : 'not within the run',
        met: run.recovery.hot.first !== null && run.recovery.hot.first.afterS <= 5,
      },
    ]),
  ];
  const requestErrors = allPhases.reduce((s, p) => s + p.requestErrors, 0);

  const environment = {
    command:
      `${serverUrlFrom}=${redactUrl(serverUrl)} npm run bench:faults` +
      (process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''),
    date: new Date().toISOString(),
    runSeconds: Math.round((Date.now() - benchStarted) / 1000),
    machine: machineDescription(),
    node: process.version,
    redis: redisVersion,
    redisArgs: redisArgs.join(' '),
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
        'autocannon',
        'drizzle-orm',
        'pg',
        'pino',
      ].map((name) => [name, versionOf(name)]),
    ),
    appEnv: { ...appEnv, DATABASE_URL: redactUrl(databaseUrl) },
    appConfig:
      'one instance of dist/main.js (scripts/app-cluster.mjs spawnApp); CACHE_OP_TIMEOUT_MS, CACHE_L1_* and ' +
      `CACHE_DEFAULT_TTL not set (defaults: deadline ${DEADLINE_MS} ms, L1 10,000 entries / 64 MiB / 5 s)`,
    load:
      `autocannon ${versionOf('autocannon')} programmatic API in a separate process, ${RATE} req/s over ` +
      `${CONNECTIONS} connections: ${INSTANCES} autocannon instances with overallRate ${RATE / INSTANCES} and ` +
      `${CONNECTIONS / INSTANCES} connections each, started ${1000 / INSTANCES} ms apart (autocannon lets each ` +
      `connection send its ${RATE / CONNECTIONS} requests of a second back to back when the second starts; one ` +
      `instance would send all ${RATE} in one burst per second), ignoreCoordinatedOmission (autocannon's ` +
      `correction assumes an interval of ceil(1/rate) = 1 ms; the latencies here are per-response records from ` +
      `the write of the request to the end of the response, and omission shows as requests sent vs intended), ` +
      `timeout ${TIMEOUT_S} s; ${WARMUP_S} s warm-up load before the baseline, not measured; ${COLD_PERCENT}% of ` +
      `requests on never-requested keys (GET /api/jobs?skip=N&limit=M, a unique pair each: limit 20-${20 + COLD_LIMITS - 1}, skip ` +
      `0-${COLD_SKIPS - 1} strided so that every phase has the same mix of page depths), the rest round-robin ` +
      `over ${HOT_PATHS.length} hot keys (GET /api/jobs?skip=0..70&limit=10&location=Berlin)`,
  };

  const report = {
    environment,
    definitions: {
      phase: 'requests by send time (response time - latency) relative to the start of the load',
      dbPathP99:
        'p99 of the never-cached-key requests of the baseline (all answered X-Cache MISS, Redis healthy)',
      hotHitRatio: 'share of hot-key responses with X-Cache: HIT (L1 or L2: the header does not tell which)',
      recovery:
        "start of the first 1-s window (windows start at Redis's return and every 100 ms after it, requests by " +
        "send time, >= 10 hot-key requests) whose hot-key hit ratio is >= the run's 'before' ratio - 5 points; " +
        "'stays' is the start of the first window from which every later window of the run qualifies",
      coldMissRecovery:
        'the same for never-cached keys answering MISS (>= 95% of them): the Redis path is read and written again',
    },
    dbPathP99,
    deadlineMs: DEADLINE_MS,
    baseline: { ...baseline, load: undefined, summary: baselineLoad.summary, cpu: baselineLoad.cpu },
    runs: Object.fromEntries(
      Object.entries(runs).map(([key, run]) => [
        key,
        {
          ...run,
          load: undefined,
          events: {
            fault: { ...run.events.fault, commandsBefore: undefined },
            return: { ...run.events.return, commandsAfterContinue: undefined },
          },
          summary: run.load.summary,
          cpu: run.load.cpu,
          requestErrorsSample: run.load.errors.slice(0, 20),
        },
      ]),
    ),
    targets,
    requestErrors,
  };

  // Markdown.
  const mixText = (x) => `${x.HIT} / ${x.MISS} / ${x.BYPASS}${x.other ? ` (+${x.other} other)` : ''}`;
  const phaseRow = (label, phase, p) =>
    `| ${label} | ${phase} | ${p.fromS}-${p.toS} | ${p.requests} (${p.intended}) | ${p.non2xx} | ${p.status5xx} | ` +
    `${p.requestErrors} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${p.atLeastDeadline} | ${mixText(p.xcache)} | ` +
    `${pct(p.hotHitRatio)} | ${ms(p.coldP99)} |`;
  const runRows = Object.values(runs).flatMap((run) =>
    Object.entries(run.phases).map(([phase, p]) =>
      phaseRow(`${run.name} (${run.fault.split(',')[0]})`, phase, p),
    ),
  );
  const recoveryText = (w) => (w ? `${w.afterS} s (${pct(w.ratio)} of ${w.requests})` : 'not within the run');
  const timelineRows = (run) =>
    run.timeline.map(
      (s) =>
        `| ${s.second}-${s.second + 1} | ${s.requests} (${s.intended}) | ${s.status5xx} | ${s.requestErrors} | ${ms(s.p99)} | ` +
        `${ms(s.max)} | ${pct(s.hotHitRatio)} | ${pct(s.coldMissRatio)} | ${s.bypass} | ` +
        `${s.cpu ? `${Math.round(s.cpu.machineBusyPercent)} / ${Math.round(s.cpu.appPercent)} / ${Math.round(s.cpu.restOfBenchPercent)} / ${Math.round(s.cpu.otherProgramsPercent)}` : '-'} |`,
    );
  const warningText = (warnings) =>
    warnings.length === 0
      ? 'none'
      : `${warnings.length}: ${warnings
          .slice(0, 8)
          .map((w) => `[${w.t ?? '?'} s] ${w.msg}`)
          .join('; ')}${warnings.length > 8 ? '; ...' : ''}`;
  const freeze = runs.B.redisCommands.freeze;
  const contended = [
    ['the baseline', baselineLoad.cpu],
    ['run A', runs.A.load.cpu],
    ['run B', runs.B.load.cpu],
  ]
    .filter(([, c]) => c.otherProgramsPercent > FOREIGN_FLAG_PERCENT)
    .map(([label, c]) => `${label} (${c.otherProgramsPercent}%)`);
  const markdown = [
    `# Redis faults under load (${environment.date})`,
    '',
    `\`${environment.command}\` on ${environment.machine}, Node ${environment.node}, Redis ${environment.redis}; ` +
      `${environment.runSeconds} s in all.`,
    `${environment.load}. ${environment.appConfig}. Runs of ${RUN_S} s: before 0-${PHASE_S} s, outage ` +
      `${PHASE_S}-${2 * PHASE_S} s (actual fault times below), after; requests belong to a phase by send time.`,
    `Run A: \`kill -9\` of redis-server, relaunched (\`${['redis-server', ...redisArgs].join(' ')}\`) at ` +
      `${PHASE_S * 2} s; its "return" is when the new server answered. Run B: \`kill -STOP\`, then \`kill -CONT\`.`,
    '',
    `DB-path p99 (baseline, Redis healthy, ${baseline.all.coldRequests} never-cached-key requests, ` +
      `${pct(baseline.all.coldMissRatio)} MISS): **${ms(dbPathP99)} ms**; with the deadline D = ${DEADLINE_MS} ms ` +
      `the outage bound is ${ms(dbPathP99 + DEADLINE_MS)} ms. Never-cached-key p99 in the 'before' phases: ` +
      `A ${ms(runs.A.phases.before.coldMissP99)} ms, B ${ms(runs.B.phases.before.coldMissP99)} ms (noise reference).`,
    '',
    `| run | phase | window s | requests (intended) | non-2xx | 5xx | req errors | p50 ms | p99 ms | max ms | >= ${DEADLINE_MS} ms | HIT / MISS / BYPASS | hot-key hit % | never-cached p99 ms |`,
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    phaseRow('baseline', 'Redis healthy', baseline.all),
    ...runRows,
    '',
    '**Time to recover the hit ratio**, from the moment Redis returned (run A: the relaunched server answered ' +
      'INFO; run B: SIGCONT sent) to the start of the first 1-s window whose hot-key hit ratio is at least the ' +
      "'before' phase's minus 5 points (windows start at the return and every 100 ms after it; requests by send " +
      "time; windows with fewer than 10 hot-key requests skipped). 'Stays' is the first window from which every " +
      "later one of the run qualifies; 'lowest' the worst window. Redis path: the same for never-cached keys " +
      'answering MISS (>= 95% of them), i.e. Redis read and written again. X-Cache HIT covers L1 and L2 alike: ' +
      'during an outage the app serves hot keys from L1 (filled from the database for at most CACHE_L1_TTL), so ' +
      'the hot-key ratio alone does not show when Redis is used again; the Redis-path columns do.',
    '',
    "| run | Redis returned at | 'before' hot-key hit % (threshold) | lowest window in the outage | hit ratio back after | stays back after | lowest window after the return | first never-cached MISS after | Redis path back after (stays) |",
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.values(runs).map(
      (run) =>
        `| ${run.name} | ${ms(run.returnAtMs / 1000)} s (fault at ${ms(run.faultAtMs / 1000)} s) | ` +
        `${pct(run.recovery.beforeHotHitRatio)} (${pct(run.recovery.hot.threshold)}) | ` +
        `${run.recovery.hotDuringOutage ? `${pct(run.recovery.hotDuringOutage.ratio)} at +${run.recovery.hotDuringOutage.afterS} s` : '-'} | ` +
        `${recoveryText(run.recovery.hot.first)} | ${recoveryText(run.recovery.hot.stays)} | ` +
        `${run.recovery.hot.lowest ? `${pct(run.recovery.hot.lowest.ratio)} at +${run.recovery.hot.lowest.afterS} s` : '-'} | ` +
        `${run.recovery.firstColdMissAfterS === null ? '-' : `${run.recovery.firstColdMissAfterS} s`} | ` +
        `${recoveryText(run.recovery.coldMiss.first)} (${run.recovery.coldMiss.stays ? `${run.recovery.coldMiss.stays.afterS} s` : '-'}) |`,
    ),
    '',
    "Redis commands sent by the app (INFO commandstats of the script's redis-server, without the script's own INFO " +
      'and CONFIG RESETSTAT):',
    '',
    `- Run A before (reset at the start of the run, read just before the kill): ${callsText(runs.A.redisCommands.before)}.`,
    "- Run A outage: not measurable at Redis, and none can arrive: no server listens on the port, the app's " +
      'reconnects are refused (the app logs them, once per 10 s window). The kill also wipes the counters, so ' +
      `nothing after the relaunch tells what was tried before it. After the relaunch (new server, counted from its ` +
      `start to the end of the run): ${callsText(runs.A.redisCommands.after)}; ` +
      `${runs.A.redisCommands.afterConnectionsReceived} connections accepted, ` +
      `${runs.A.redisCommands.afterHarnessConnections} of them the script's own. What the app attempted meanwhile ` +
      "shows only in its own rate-limited log ('cache read failed ... (N more since the last report)', below).",
    `- Run B before: ${callsText(runs.B.redisCommands.before)}.`,
    `- Run B outage, exact, from the kernel (ss -ti: bytes received on Redis's side of each connection while ` +
      `redis-server was stopped, ${round1((runs.B.returnAtMs - runs.B.faultAtMs) / 1000)} s): ` +
      `${freeze.bytesSentByApp} bytes sent by the app (${Object.entries(freeze.bytesByConnection)
        .map(([name, bytes]) => `${name} ${bytes}`)
        .join(
          ', ',
        )}), ${freeze.unreadBytesAtContinue} still unread at SIGCONT; ${freeze.newConnections} new ` +
      `connections (${freeze.connectionsBefore} before, ${freeze.connectionsAtContinue} at SIGCONT). As commands ` +
      `(commandstats read just before SIGSTOP and once Redis had read the backlog after SIGCONT, ` +
      `${runs.B.redisCommands.infoAnsweredAfterMs} ms later${runs.B.redisCommands.backlogDrained ? '' : ', backlog NOT drained within 1 s'}; ` +
      'commands sent in those ms are included, and a SET or PEXPIRE is a fill of a lookup that started before the ' +
      `freeze): ${callsText(runs.B.redisCommands.outage)}. From the load's side, ` +
      `${runs.B.phases.outage.atLeastDeadline} requests of the outage took >= ${DEADLINE_MS} ms (before ` +
      `${runs.B.phases.before.atLeastDeadline}, after ${runs.B.phases.after.atLeastDeadline}): on a quiet machine, the ` +
      'reads that waited on the frozen server for the whole deadline (those in flight before the circuit opened, ' +
      'then one probe per cool-down); under CPU contention also requests that were merely slow.',
    `- Run B after (SIGCONT to the end of the run): ${callsText(runs.B.redisCommands.after)}.`,
    '',
    'Targets:',
    '',
    ...targets.map((t) => `- ${t.met ? 'MET' : 'NOT MET'}: ${t.name} (${t.value})`),
    '',
    `Request errors (connection errors, timeouts; not in the targets): ${requestErrors}. autocannon's own totals: ` +
      `baseline ${JSON.stringify(baselineLoad.summary)}, A ${JSON.stringify(runs.A.load.summary)}, B ` +
      `${JSON.stringify(runs.B.load.summary)}.`,
    'CPU, percent of all cores during each load: machine busy = app + rest of this bench (load worker, Redis, the ' +
      'PostgreSQL backends of the scratch database, this process) + other programs; ' +
      [
        ['baseline', baselineLoad.cpu],
        ['A', runs.A.load.cpu],
        ['B', runs.B.load.cpu],
      ]
        .map(
          ([label, c]) =>
            `${label} ${c.machineBusyPercent} = ${c.appPercent} + ${c.restOfBenchPercent} + ${c.otherProgramsPercent}` +
            ` (rest of bench: load worker ${c.restOfBench.loadWorkerPercent}, Redis ${c.restOfBench.redisPercent}, ` +
            `PostgreSQL ${c.restOfBench.postgresBackendsPercent}, harness ${c.restOfBench.harnessPercent}; steal ` +
            `${c.stealPercent})`,
        )
        .join(', ') +
      '.' +
      (contended.length
        ? ` **Other programs used more than ${FOREIGN_FLAG_PERCENT}% of the machine during ${contended.join(', ')}: ` +
          'the latencies there are inflated by CPU contention (see the per-second tables), not only by the app.**'
        : ''),
    '',
    `App warn/error log lines: baseline ${warningText(baseline.warnings)}. Run A ${warningText(runs.A.warnings)}. ` +
      `Run B ${warningText(runs.B.warnings)}.`,
    '',
    ...Object.values(runs).flatMap((run) => [
      `<details><summary>Run ${run.name} per second</summary>`,
      '',
      '| s | requests (intended) | 5xx | req errors | p99 ms | max ms | hot-key hit % | never-cached MISS % | BYPASS | CPU % machine / app / rest of bench / other programs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...timelineRows(run),
      '',
      '</details>',
      '',
    ]),
    `Packages: ${Object.entries(environment.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ].join('\n');

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = environment.date.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `faults-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, `faults-${stamp}.md`), markdown);
  writeFileSync(join(resultsDir, 'faults-latest.md'), markdown);
  console.log(`\n${markdown}`);
  for (const target of targets)
    log(`target ${target.met ? 'MET' : 'NOT MET'}: ${target.name} (${target.value})`);
  log(`results: bench/results/faults-${stamp}.json, .md, faults-latest.md`);
  const missed = targets.filter((target) => !target.met);
  if (opts.check && missed.length > 0) {
    console.error(`[faults] ${missed.length} target(s) not met: ${missed.map((t) => t.name).join('; ')}`);
    process.exitCode = 3;
  }
}

// ---------------------------------------------------------------------------------------------------------------

let cleaningUp;
let cleanedUp = false;
function cleanup() {
  cleaningUp ??= (async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
    const stopped = await Promise.allSettled(apps.map((app) => app.stop()));
    for (const result of stopped) if (result.status === 'rejected') log('stop:', result.reason);
    for (const socket of sockets) socket.destroy();
    for (const fn of cleanups.reverse()) await fn().catch((error) => log('cleanup:', error.message));
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cleanedUp = true;
  })();
  return cleaningUp;
}

function runHarness() {
  process.on('exit', () => {
    if (!cleanedUp)
      console.error(
        '[faults] exiting before cleanup finished: app, Redis or the scratch database may remain',
      );
  });
  process.once('uncaughtException', (error) => {
    console.error('[faults] failed (uncaught):', error);
    void cleanup().then(() => process.exit(1));
  });
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => {
      console.error(`[faults] ${signal}: cleaning up`);
      void cleanup().then(() => process.exit(130));
    });
  // The whole script stops by itself: a hard limit well above its normal run time.
  const hardLimit = setTimeout(() => {
    console.error('[faults] did not finish within 15 minutes: cleaning up');
    void cleanup().then(() => process.exit(1));
  }, 15 * 60_000);
  hardLimit.unref();
  main()
    .then(cleanup)
    .catch(async (error) => {
      console.error('[faults] failed:', error);
      await cleanup();
      process.exit(1);
    });
}

if (process.argv[2] === '--load-worker') {
  runLoadWorker().catch((error) => {
    console.error('[faults load worker]', error);
    process.exit(1);
  });
} else runHarness();
