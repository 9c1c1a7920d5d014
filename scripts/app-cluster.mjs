// Starts the built app (`dist/main.js`, what `npm start` runs) as separate OS processes: one, or several sharing
// one PostgreSQL and one Redis, as the service is deployed behind a load balancer. Used by the e2e tests (through
// test/support/spawn-app.ts) and by `npm run bench`. Plain ESM so both can import it; types in app-cluster.d.mts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@jobboard/redis-cache/testing';

export const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

export { freePort };

/** The environment of a child: exactly `env` on top of PATH and HOME, on loopback. */
function childEnv(port, env) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...env,
  };
}

/**
 * Runs one instance (of `entry`, dist/main.js unless a benchmark names its own) and waits for /health. `output()` is
 * everything it printed so far (stdout and stderr; the last `outputTail` characters or more when that is set);
 * `stop()` sends SIGTERM and resolves with how it ended (`killed`: it had to be SIGKILLed after 15 s).
 */
export async function spawnApp(env, { timeoutMs = 30_000, entry = MAIN, outputTail = Infinity } = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [entry], {
    env: childEnv(port, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // A long benchmark keeps only the tail (`outputTail` characters): the request log of minutes would fill memory.
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 2 * outputTail) output = output.slice(-outputTail);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  const baseUrl = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`app exited with ${child.exitCode} before serving:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`app did not answer /health within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    baseUrl,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 15_000);
      const ended = await exited;
      clearTimeout(timer);
      return { ...ended, killed };
    },
  };
}

/**
 * Starts `count` instances with the same environment (so the same DATABASE_URL, REDIS_URL and CACHE_PREFIX), each
 * on its own port, in parallel. If one fails to start, the others are stopped before the error is thrown.
 */
export async function startAppCluster(count, env, options = {}) {
  const started = await Promise.allSettled(Array.from({ length: count }, () => spawnApp(env, options)));
  const instances = started.filter((result) => result.status === 'fulfilled').map((result) => result.value);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(instances.map((instance) => instance.stop()));
    throw failure.reason;
  }
  return {
    instances,
    stop: () => Promise.all(instances.map((instance) => instance.stop())),
  };
}

/** Runs the app expecting it to refuse to start; resolves with its exit code and everything it printed. */
export async function runAppExpectingExit(env) {
  const child = spawn(process.execPath, [MAIN], { env: childEnv(0, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk.toString()));
  child.stderr.on('data', (chunk) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code, output };
}
