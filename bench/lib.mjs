// What bench/run.mjs and bench/faults.mjs share: CPU accounting from /proc, the environment they print, and the
// seeded scratch database each run on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let clkTck;
/** Kernel clock ticks per second, the unit of /proc CPU times. */
export const ticksPerSecond = () =>
  (clkTck ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100);

/** user+system CPU time of a process in microseconds, from /proc; undefined once it has exited. */
export function cpuMicros(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond()) * 1e6;
}

/**
 * The machine's CPU time in microseconds from /proc/stat: busy (user, nice, system, irq, softirq) and steal (time
 * the hypervisor gave to others).
 */
export function machineCpuMicros() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .map(Number);
  const toMicros = (ticks) => (ticks / ticksPerSecond()) * 1e6;
  return { busy: toMicros(user + nice + system + irq + softirq), steal: toMicros(steal) };
}

export function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'n/a';
  }
}

/** The commit the bench ran on, with `-dirty` when the tree has uncommitted changes. */
export function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}

/** A connection URL as printed: the password masked. */
export function redactUrl(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export const machineDescription = () =>
  `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
  `${os.platform()} ${os.release()}`;

/**
 * Creates `jobboard_<label>_<pid>` on the PostgreSQL server at `serverUrl`. Returns its name, its URL and `drop()`,
 * which the caller registers for cleanup before filling it.
 */
export async function createScratchDatabase(serverUrl, label, log) {
  const { default: pg } = await import('pg');
  const name = `jobboard_${label}_${process.pid}`;
  const asAdmin = async (sql) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await asAdmin(`CREATE DATABASE "${name}"`);
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  return {
    name,
    url: target.toString(),
    async drop() {
      await asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      log(`dropped scratch database ${name}`);
    },
  };
}

/** Seeds the database at `url` with `jobs` jobs (and the default users and posts) through the built seed CLI. */
export function seedJobs(database, jobs, log) {
  log(`seeding ${jobs} jobs into ${database.name}`);
  execFileSync(process.execPath, [join(root, 'dist/database/cli/seed.js'), '--jobs', String(jobs)], {
    env: { ...process.env, DATABASE_URL: database.url },
    stdio: 'ignore',
  });
}
