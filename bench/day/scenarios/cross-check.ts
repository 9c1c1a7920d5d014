// The open-loop generator against autocannon at one rate, on the same warm instance and the same reads (the mix
// without its writes, in autocannon's `requests` order per connection): the achieved rate and the server's CPU per
// request (the same work, whoever asks) should agree within 15%. autocannon sends each connection's quota at the
// start of every second and corrects its histogram for coordinated omission, whereas ours schedules every request
// on its own, so their latencies are printed side by side but not held to agree.
import { cannon, type CannonRequest } from '../lib/autocannon.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { log, startInstances } from '../lib/processes.js';
import { ratio, round } from '../lib/stats.js';
import { operations, type Universe } from '../lib/workload.js';

interface Figures {
  rate: number;
  cpuMicrosPerRequest: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface CrossCheck {
  rate: number;
  seconds: number;
  connections: number;
  openLoop: Figures;
  autocannon: Figures;
  rateRatio: number | null;
  cpuRatio: number | null;
  agrees: boolean;
}

const CONNECTIONS = 8;

export async function runCrossCheck(
  env: Record<string, string>,
  universe: Universe,
  { rate, seconds, seed }: { rate: number; seconds: number; seed: number },
): Promise<CrossCheck> {
  const app = await startInstances(1, { ...env, CACHE_PREFIX: 'cross-check:' });
  try {
    const plan = { universe, targets: app.urls, rate, durationS: seconds, seed, step: 500, readsOnly: true };
    await runOpenLoop({ ...plan, durationS: 5 }); // warm the same keys for both
    let cpuBefore = app.cpuMicros();
    const ours = await runOpenLoop(plan);
    const oursCpu = (app.cpuMicros() - cpuBefore) / ours.sent;
    const reads: CannonRequest[] = operations(universe, seed, 500, Math.round(rate * seconds)).flatMap(
      (op) =>
        op.kind === 'read'
          ? [
              {
                path: op.path,
                headers:
                  op.viewer === undefined
                    ? {}
                    : ({ authorization: `Bearer ${universe.viewers[op.viewer].token}` } as Record<
                        string,
                        string
                      >),
              },
            ]
          : [],
    );
    cpuBefore = app.cpuMicros();
    const theirs = await cannon(app.urls[0], reads, {
      connections: CONNECTIONS,
      durationS: seconds,
      overallRate: Math.round(ours.offeredRate),
    });
    const theirCpu = (app.cpuMicros() - cpuBefore) / theirs.requests;
    const check: CrossCheck = {
      rate: round(ours.offeredRate),
      seconds,
      connections: CONNECTIONS,
      openLoop: {
        rate: round(ours.achievedRate),
        cpuMicrosPerRequest: round(oursCpu),
        meanMs: round(ours.latency.mean, 2),
        p50Ms: round(ours.latency.p50, 2),
        p99Ms: round(ours.latency.p99, 2),
        errors: ours.errorCount,
      },
      autocannon: {
        rate: round(theirs.rate),
        cpuMicrosPerRequest: round(theirCpu),
        meanMs: round(theirs.latency.mean, 2),
        p50Ms: theirs.latency.p50,
        p99Ms: theirs.latency.p99,
        errors: theirs.errors + theirs.non2xx,
      },
      rateRatio: ratio(ours.achievedRate, theirs.rate),
      cpuRatio: ratio(oursCpu, theirCpu),
      agrees: false,
    };
    check.agrees = [check.rateRatio, check.cpuRatio].every((r) => r !== null && Math.abs(r - 1) <= 0.15);
    log(`cross-check at ${check.rate}/s:`, JSON.stringify(check));
    return check;
  } finally {
    await app.stop();
  }
}
