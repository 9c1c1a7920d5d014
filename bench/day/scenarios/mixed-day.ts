// The production day: each mode under the same seeded mix at increasing fixed arrival rates, until p99 passes the
// bound or errors appear. One ladder of rates for every mode (and, per rung, the same requests in the same order);
// a mode starts on the highest rung under 60% of what a short overload probe showed it completes per second (the
// rungs below are not run: they would hold), and the highest rung that held is its figure.
import { join } from 'node:path';
import { root } from '../../lib.mjs';
import { costsSince, resetRedisCounters, snapshot, type Costs, type Probe } from '../lib/measure.js';
import { runOpenLoop, type LoadResult } from '../lib/open-loop.js';
import { log, startInstances, type Instances } from '../lib/processes.js';
import { round } from '../lib/stats.js';
import { IdealCache, operations, type Universe } from '../lib/workload.js';

export interface DayMode {
  name: string;
  describe: string;
  env: Record<string, string>;
  instances: number;
  entry?: string;
  /** Our cache, with /cache/stats to count hits. */
  ours: boolean;
}

export const DAY_MODES: DayMode[] = [
  { name: 'ours', describe: 'L1 + L2 (defaults)', env: {}, instances: 1, ours: true },
  {
    name: 'ours-l1-off',
    describe: 'CACHE_L1_MAX_ENTRIES=0',
    env: { CACHE_L1_MAX_ENTRIES: '0' },
    instances: 1,
    ours: true,
  },
  {
    name: 'ours-2-instances',
    describe: '2 instances, one Redis and prefix',
    env: {},
    instances: 2,
    ours: true,
  },
  {
    name: 'official',
    describe: '@nestjs/cache-manager CacheInterceptor (per-viewer routes uncached), CACHE_ENABLED=false',
    env: { CACHE_ENABLED: 'false' },
    instances: 1,
    entry: join(root, 'bench/peers/official-cache.mjs'),
    ours: false,
  },
  {
    name: 'off',
    describe: 'CACHE_ENABLED=false',
    env: { CACHE_ENABLED: 'false' },
    instances: 1,
    ours: false,
  },
];

export const P99_BOUND_MS = 50;
/** The rungs: 40 req/s times powers of 1.3. */
export const RUNGS = Array.from({ length: 24 }, (_, k) => Math.round(40 * 1.3 ** k));
const PROBE_RATE = 8_000;
const PROBE_SECONDS = 6;
const MAX_STEPS = 5;
const WALK_DOWN_STEPS = 3;
/** The ladder starts on the highest rung at or under this share of the probe's completions per second. */
const START_SHARE = 0.6;

export interface StepReport {
  offeredRate: number;
  held: boolean;
  why: string;
  load: LoadResult;
  costs: Costs;
  requests: number;
  cpuMicrosPerRequest: number;
  redisCommandsPerRequest: number;
  hitRatio: number | null;
  /** What a perfect cache (never invalidated, the routes' TTLs) would hit on this step's reads, after the same. */
  idealHitRatio: number;
  /** The same per kind of page, in percent. */
  idealByKind: Record<string, number>;
}

export interface ModeReport {
  mode: DayMode;
  probedRate: number;
  steps: StepReport[];
  heldRate: number;
  stale: number;
}

export interface DayContext {
  probe: Probe;
  universe: Universe;
  seed: number;
  stepSeconds: number;
  env: Record<string, string>;
  flushRedis(): Promise<unknown>;
}

function verdict(load: LoadResult): { held: boolean; why: string } {
  if (load.errorCount > 0)
    return { held: false, why: `${load.errorCount} errors (${Object.keys(load.errors).join(', ')})` };
  if (load.latency.p99 > P99_BOUND_MS)
    return { held: false, why: `p99 ${round(load.latency.p99)} ms > ${P99_BOUND_MS}` };
  if (load.achievedRate < 0.95 * load.offeredRate)
    return { held: false, why: `achieved ${round(load.achievedRate)} < 95% of offered` };
  return { held: true, why: 'held' };
}

async function step(
  context: DayContext,
  mode: DayMode,
  instances: Instances,
  ideal: IdealCache,
  rate: number,
  index: number,
) {
  // Reset first: CONFIG RESETSTAT zeroes the keyspace hits that the snapshot reads too.
  await resetRedisCounters(context.probe);
  const before = await snapshot(context.probe, instances, mode.ours);
  const load = await runOpenLoop({
    universe: context.universe,
    targets: instances.urls,
    rate,
    durationS: context.stepSeconds,
    seed: context.seed,
    step: index,
  });
  const after = await snapshot(context.probe, instances, mode.ours);
  const { universe, seed, stepSeconds } = context;
  const perfect = ideal.replay(operations(universe, seed, index, Math.round(rate * stepSeconds)), rate);
  const costs = await costsSince(context.probe, before, after, context.stepSeconds);
  const requests = load.sent + load.checks + load.primes;
  const { held, why } = verdict(load);
  const report: StepReport = {
    offeredRate: rate,
    held,
    why,
    load,
    costs,
    requests,
    cpuMicrosPerRequest: round(costs.serverCpuMicros / requests),
    redisCommandsPerRequest: round(costs.redisCommands / requests, 3),
    hitRatio: costs.hits + costs.misses > 0 ? round(costs.hits / (costs.hits + costs.misses), 3) : null,
    idealHitRatio: round(perfect.hits / Math.max(1, perfect.reads), 3),
    idealByKind: Object.fromEntries(
      Object.entries(perfect.byKind).map(([kind, c]) => [kind, round((c.hits / c.reads) * 100, 1)]),
    ),
  };
  log(
    `  ${mode.name} @ ${rate}/s: achieved ${round(load.achievedRate)}/s, p50 ${round(load.latency.p50, 2)} ms, ` +
      `p99 ${round(load.latency.p99, 2)} ms, p99.9 ${round(load.latency.p999, 2)} ms, hit ratio ${report.hitRatio} ` +
      `(a perfect cache ${report.idealHitRatio}), ` +
      `${report.cpuMicrosPerRequest} us CPU/req, ${report.redisCommandsPerRequest} Redis cmds/req, ` +
      `${round(costs.databaseTransactionsPerSecond)} DB xact/s, ${load.bodyBytesPerAnswer} B/answer, ` +
      `stale ${load.stale}/${load.checks} (${load.engagedChecks} engaged): ${why}`,
  );
  return report;
}

export async function runMode(context: DayContext, mode: DayMode): Promise<ModeReport> {
  await context.flushRedis();
  const instances = await startInstances(
    mode.instances,
    { ...context.env, ...mode.env, CACHE_PREFIX: `day-${mode.name}:` },
    mode.entry,
  );
  try {
    // The probe overloads on purpose (its errors are expected) and warms the caches; only its completions count.
    const probe = await runOpenLoop({
      universe: context.universe,
      targets: instances.urls,
      rate: PROBE_RATE,
      durationS: PROBE_SECONDS,
      seed: context.seed,
      step: 999,
      maxInFlight: 256,
    });
    const probedRate = probe.achievedRate;
    // The perfect cache sees as many of the probe's reads as the probe completed (spread over its schedule; the rest
    // went unanswered, overloaded).
    const ideal = new IdealCache(context.universe);
    const scheduled = operations(context.universe, context.seed, 999, PROBE_RATE * PROBE_SECONDS);
    const completed = Math.max(1, Math.round(probedRate * PROBE_SECONDS));
    const stride = scheduled.length / completed;
    ideal.replay(
      Array.from(
        { length: Math.min(completed, scheduled.length) },
        (_, k) => scheduled[Math.floor(k * stride)],
      ),
      completed / PROBE_SECONDS,
    );
    const startRung = Math.max(
      0,
      RUNGS.findLastIndex((rate) => rate <= probedRate * START_SHARE),
    );
    let rung = startRung;
    log(
      `${mode.name}: probe completed ${round(probedRate)}/s at ${PROBE_RATE}/s offered; ladder from ${RUNGS[rung]}/s`,
    );
    const steps: StepReport[] = [];
    for (let taken = 0; taken < MAX_STEPS && rung < RUNGS.length; taken++, rung++) {
      const report = await step(context, mode, instances, ideal, RUNGS[rung], rung);
      steps.push(report);
      if (!report.held) break;
    }
    // The first rung failed: walk down until one holds, so the figure is a rate that was run, not assumed. Two
    // rungs (1.7x) per step and at most WALK_DOWN_STEPS of them, so that a mode failing everywhere costs bounded time.
    for (
      rung = startRung - 2;
      steps.every((s) => !s.held) && rung >= 0 && steps.length <= WALK_DOWN_STEPS;
      rung -= 2
    )
      steps.unshift(await step(context, mode, instances, ideal, RUNGS[rung], rung));
    const held = steps.filter((s) => s.held);
    // No rung held: the figure is below the ladder's start, which only says it is under that rate.
    return {
      mode,
      probedRate: round(probedRate),
      steps,
      heldRate: held.length > 0 ? held[held.length - 1].offeredRate : 0,
      stale: steps.reduce((sum, s) => sum + s.load.stale, 0),
    };
  } finally {
    await instances.stop();
  }
}
