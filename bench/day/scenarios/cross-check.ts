// The open-loop generator against autocannon at one rate, on the same reads (the mix without its writes, in
// autocannon's `requests` order per connection) against one instance with caching off, so that every request costs
// the same whichever generator sends it and in whatever order (a cache would make the second one's requests hits):
// the achieved rate and the mean latency should agree within 15%, at 40% of the rate caching off held: there
// autocannon's one connection, which sends each second's quota back to back, is done in well under the second
// (nearer that rate its mean rose to 1.6x the open loop's in a trial, its answers then waiting on each other). One autocannon connection walks the list in order
// and sends each second's quota back to back, so its requests never queue behind each other; the server's CPU per
// request is shown too, and is lower under such bursts than under evenly spaced arrivals (fewer wake-ups). autocannon sends each connection's quota at the
// start of every second and corrects its histogram for coordinated omission, whereas ours schedules every request
// on its own, so their latencies are printed side by side but not held to agree.
import { cannonInChild, type CannonRequest, type CannonResult } from '../lib/autocannon.js';
import { runOpenLoop, type LoadResult } from '../lib/open-loop.js';
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
  meanRatio: number | null;
  cpuRatio: number | null;
  agrees: boolean;
}

const ROUNDS = 2;

export async function runCrossCheck(
  env: Record<string, string>,
  universe: Universe,
  { rate, seconds, seed }: { rate: number; seconds: number; seed: number },
): Promise<CrossCheck> {
  const app = await startInstances(1, { ...env, CACHE_ENABLED: 'false' });
  try {
    const plan = { universe, targets: app.urls, rate, durationS: seconds, seed, step: 500, readsOnly: true };
    // The database's buffers and the app's JIT, for both: another step's requests, as many as one run's.
    await runOpenLoop({ ...plan, step: 501 });
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
    // One connection walks the whole list in order, as the open loop does; the two alternate, twice.
    let oursCpuMicros = 0;
    let theirCpuMicros = 0;
    let ours: LoadResult | undefined;
    let theirs: CannonResult | undefined;
    let theirRequests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let before = app.cpuMicros();
      ours = await runOpenLoop(plan);
      oursCpuMicros += app.cpuMicros() - before;
      before = app.cpuMicros();
      theirs = await cannonInChild(app.urls[0], reads, {
        connections: 1,
        durationS: seconds,
        overallRate: Math.round(ours.offeredRate),
      });
      theirCpuMicros += app.cpuMicros() - before;
      theirRequests += theirs.requests;
    }
    if (!ours || !theirs) throw new Error('no cross-check round ran');
    const oursCpu = oursCpuMicros / (ours.sent * ROUNDS);
    const theirCpu = theirCpuMicros / theirRequests;
    const check: CrossCheck = {
      rate: round(ours.offeredRate),
      seconds,
      connections: 1,
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
      meanRatio: ratio(ours.latency.mean, theirs.latency.mean),
      cpuRatio: ratio(oursCpu, theirCpu),
      agrees: false,
    };
    check.agrees = [check.rateRatio, check.meanRatio].every((r) => r !== null && Math.abs(r - 1) <= 0.15);
    log(`cross-check at ${check.rate}/s:`, JSON.stringify(check));
    return check;
  } finally {
    await app.stop();
  }
}
