// The day's report: tables per mode and step, the hit paths, the generator cross-check, the targets as same-run
// ratios, and the files (scenarios measure; this only writes down).
import { p99Chart, table, writeResults } from './lib/report.js';
import { ratio, round } from './lib/stats.js';
import type { CrossCheck } from './scenarios/cross-check.js';
import type { PathCost } from './scenarios/hit-paths.js';
import { P99_BOUND_MS, type ModeReport } from './scenarios/mixed-day.js';

export interface DayRun {
  command: string;
  machine: string;
  versions: Record<string, string>;
  commit: string;
  loadAverage: number[];
  database: string;
  workload: { distinctUrls: number; viewers: number; tokenShare: number; writeShare: number };
  stepSeconds: number;
  modes: ModeReport[];
  paths: { paths: PathCost[]; ratios: Record<string, number | null> };
  crossCheck: CrossCheck;
  elapsedS: number;
  resultsDir: string;
}

const BUDGET_S = 15 * 60;

function targets(run: DayRun) {
  const held = (name: string) => run.modes.find((m) => m.mode.name === name)?.heldRate;
  const ours = run.modes.find((m) => m.mode.name === 'ours');
  const heldStep = ours?.steps.filter((s) => s.held).at(-1);
  const r = run.paths.ratios;
  const ourStale = run.modes.filter((m) => m.mode.ours).reduce((sum, m) => sum + m.stale, 0);
  const vsOfficial = ratio(held('ours'), held('official'));
  const vsOff = ratio(held('ours'), held('off'));
  const list: [string, boolean, string][] = [
    ['highest held rate: ours >= 4x official', (vsOfficial ?? 0) >= 4, `${vsOfficial}x`],
    ['highest held rate: ours >= 10x caching off', (vsOff ?? 0) >= 10, `${vsOff}x`],
    [
      'hit ratio >= 90% with the 1% writes (ours, highest held step)',
      (heldStep?.hitRatio ?? 0) >= 0.9,
      `${round((heldStep?.hitRatio ?? 0) * 100)}%; a perfect cache, never invalidated, ` +
        `${round((heldStep?.idealHitRatio ?? 0) * 100)}% on the same reads`,
    ],
    ['stale answers after writes: 0 (our modes)', ourStale === 0, String(ourStale)],
    [
      'guarded L1 hit CPU <= 2x fast hit',
      (r.guardedL1VsFastHitCpu ?? 99) <= 2,
      `${r.guardedL1VsFastHitCpu}x`,
    ],
    ['fast hit CPU <= 1.6x ceiling', (r.fastHitVsCeilingCpu ?? 99) <= 1.6, `${r.fastHitVsCeilingCpu}x`],
    [
      'gzip: >= 60% fewer bytes per response',
      (r.gzipBytesSaved ?? 0) >= 0.6,
      `${round((r.gzipBytesSaved ?? 0) * 100)}% fewer`,
    ],
    [
      'gzip: CPU per hit no worse than plain (within 10%)',
      (r.gzipVsPlainCpu ?? 99) <= 1.1,
      `${r.gzipVsPlainCpu}x`,
    ],
    [
      'open-loop generator and autocannon agree within 15% (achieved rate, mean latency)',
      run.crossCheck.agrees,
      `rate ${run.crossCheck.rateRatio}x, mean ${run.crossCheck.meanRatio}x`,
    ],
    ['the run took under 15 minutes', run.elapsedS < BUDGET_S, `${run.elapsedS} s`],
  ];
  return { list, vsOfficial, vsOff, ourStale, heldStep };
}

export function renderDay(run: DayRun) {
  const t = targets(run);
  const stepRows = run.modes.flatMap((m) =>
    m.steps.map((s) => [
      m.mode.name,
      s.offeredRate,
      round(s.load.achievedRate),
      round(s.load.latency.p50, 2),
      round(s.load.latency.p99, 2),
      round(s.load.latency.p999, 2),
      s.hitRatio === null ? null : round(s.hitRatio * 100, 1),
      round(s.idealHitRatio * 100, 1),
      round(s.costs.databaseTransactionsPerSecond),
      s.redisCommandsPerRequest,
      s.cpuMicrosPerRequest,
      s.load.errorCount,
      s.load.bodyBytesPerAnswer,
      `${s.load.stale}/${s.load.checks} (${s.load.engagedChecks})`,
      s.held ? 'held' : s.why,
    ]),
  );
  const stepTable = table(
    [
      'mode',
      'offered/s',
      'achieved/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'hit %',
      'perfect cache hit %',
      'DB xact/s',
      'Redis cmds/req',
      'server CPU us/req',
      'errors',
      'body B/answer',
      'stale/checks (engaged)',
      'verdict',
    ],
    stepRows,
  );
  const modeTable = table(
    ['mode', 'what', 'instances', 'probe completions/s', 'highest held rate/s', 'stale'],
    run.modes.map((m) => [m.mode.name, m.mode.describe, m.mode.instances, m.probedRate, m.heldRate, m.stale]),
  );
  const pathTable = table(
    ['path', 'what', 'server CPU us/req', 'req/s', 'p99 ms', 'bytes/response', 'errors'],
    run.paths.paths.map((p) => [
      p.name,
      p.describe,
      p.cpuMicrosPerRequest,
      p.rate,
      p.p99Ms,
      p.bytesPerResponse,
      p.errors,
    ]),
  );
  const c = run.crossCheck;
  const crossTable = table(
    ['generator', 'achieved/s', 'server CPU us/req', 'mean ms', 'p50 ms', 'p99 ms', 'errors'],
    [
      ['open loop (ours, node:http)', c.openLoop],
      [`autocannon ${run.versions.autocannon} (-R ${c.rate}, -c ${c.connections})`, c.autocannon],
    ].map(([name, f]) => {
      const figures = f as CrossCheck['openLoop'];
      return [
        name as string,
        figures.rate,
        figures.cpuMicrosPerRequest,
        figures.meanMs,
        figures.p50Ms,
        figures.p99Ms,
        figures.errors,
      ];
    }),
  );
  // Which pages answer from the cache, per mode at its highest held step (X-Cache; similar jobs are cached inside
  // a service, so their route sends none): where the misses come from.
  const figureStep = (m: ModeReport) => m.steps.filter((s) => s.held).at(-1) ?? m.steps.at(-1);
  const kindNames = [
    ...new Set(run.modes.flatMap((m) => Object.keys(figureStep(m)?.load.xCacheByKind ?? {}))),
  ].sort();
  const ours = run.modes.find((m) => m.mode.name === 'ours');
  const kindTable = table(
    ['page', 'perfect cache %', ...run.modes.map((m) => `${m.mode.name} HIT+STALE %`)],
    kindNames.map((kind) => [
      kind,
      (ours && figureStep(ours)?.idealByKind[kind]) ?? null,
      ...run.modes.map((m) => {
        const counts = figureStep(m)?.load.xCacheByKind[kind] ?? {};
        const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
        const hits = (counts.HIT ?? 0) + (counts.STALE ?? 0);
        return total === 0 || counts['-'] === total ? null : round((hits / total) * 100, 1);
      }),
    ]),
  );
  const targetLines = t.list.map(([what, met, value]) => `- ${met ? 'MET' : 'MISSED'}: ${what} (${value})`);
  const w = run.workload;
  const markdown = [
    `# A production day under load (${new Date().toISOString()})`,
    '',
    `\`${run.command}\` on ${run.machine}; Node ${run.versions.node}, Redis ${run.versions.redis}, PostgreSQL ${run.versions.postgres}, ` +
      `NestJS ${run.versions.nest}, Fastify ${run.versions.fastify}; commit ${run.commit}; ${run.elapsedS} s in all; load average at the end ${run.loadAverage.map((l) => round(l, 2)).join(' ')}.`,
    '',
    `Database: ${run.database}. Traffic: ${w.distinctUrls} distinct valid URLs, Zipf (s=1) within each kind of page (posts feed with and ` +
      `without following=true, jobs lists by filter and page, job items, similar jobs, users lists, profiles); ${w.tokenShare * 100}% of reads ` +
      `(all following=true reads) carry one of ${w.viewers} users' tokens; ${w.writeShare * 100}% writes (new posts 40%, job updates 30%, ` +
      `follow toggles 30%), each followed by a read of what it changed on the next instance (stale when it does not show it). ` +
      `Open model: request i is due at start + i/rate and its latency counts from then. Steps of ${run.stepSeconds} s on one ladder of ` +
      `rates (40 x 1.3^k); a step holds when p99 <= ${P99_BOUND_MS} ms, no errors and >= 95% of the offered rate completed.`,
    '',
    '## Targets (same-run ratios)',
    '',
    ...targetLines,
    '',
    '## Modes',
    '',
    modeTable,
    '',
    `![p99 against offered rate](latest-day.svg)`,
    '',
    '## Every step',
    '',
    stepTable,
    '',
    "hit %: our cache's own counters (L1, L2 and named caches; /cache/stats) for our modes, Redis keyspace hits for the official " +
      'interceptor (which caches public routes only). perfect cache hit %: the same schedule of reads (the probe and then ' +
      'each step) through a cache of unbounded size that is never invalidated, keyed as our routes key (per viewer where ' +
      "the answer is the viewer's) and keeping each entry for its route's TTL: its misses are first requests and " +
      "expiries, which no cache avoids, so it bounds every mode's hit ratio on this traffic. DB xact/s: pg_stat_database transactions of the scratch database. Redis " +
      'cmds/req: request-path commands (INFO commandstats without PING, INFO, CONFIG) over requests sent, checks included. ' +
      'Reads ask as browsers do (Accept-Encoding: gzip); body B/answer is what came over the wire. stale/checks (engaged): ' +
      'after every write, the read of what it changed on the next instance, and how many of those checks were engaged (the ' +
      'same read on that instance just before the write was a HIT, so the check tested an invalidation). Writes count their ' +
      'latency from their send, after that priming read; reads from their intended start.',
    '',
    "## Where the misses are (X-Cache per kind of page, at each mode's highest held step)",
    '',
    kindTable,
    '',
    '## CPU per request along the hit paths (closed loop, autocannon -c 20, medians of interleaved rounds)',
    '',
    pathTable,
    '',
    `Ratios: ${Object.entries(run.paths.ratios)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    `## Generators cross-checked (ours at ${c.rate}/s offered for ${c.seconds} s, the same reads, one instance with caching off)`,
    '',
    crossTable,
    '',
    `Achieved rate ratio ${c.rateRatio}, mean latency ratio ${c.meanRatio}: ${c.agrees ? 'within' : 'NOT within'} 15% ` +
      `(two alternating rounds each; server CPU per request ratio ${c.cpuRatio}). autocannon's one connection sends each ` +
      "second's quota back to back (its percentiles are whole milliseconds), the open loop spaces requests evenly; an idle " +
      'server woken for every request spends more CPU on each than one answering a burst.',
    '',
  ].join('\n');
  const svg = p99Chart(
    run.modes.map((m) => ({
      name: `${m.mode.name} (held ${m.heldRate}/s)`,
      points: m.steps.map((s) => ({ x: s.offeredRate, y: s.load.latency.p99, held: s.held })),
    })),
    P99_BOUND_MS,
    `p99 against offered rate, ${run.stepSeconds} s steps (${run.machine.split(',')[0]})`,
  );
  const csvHeader =
    'date,commit,machine,step_s,ours_held,official_held,off_held,ours_vs_official,ours_vs_off,hit_ratio,stale,fast_vs_ceiling_cpu,guarded_l1_vs_fast_cpu,gzip_bytes_saved,elapsed_s';
  const held = (name: string) => run.modes.find((m) => m.mode.name === name)?.heldRate ?? '';
  const csvLine = [
    new Date().toISOString(),
    run.commit,
    `"${run.machine}"`,
    run.stepSeconds,
    held('ours'),
    held('official'),
    held('off'),
    t.vsOfficial ?? '',
    t.vsOff ?? '',
    t.heldStep?.hitRatio ?? '',
    t.ourStale,
    run.paths.ratios.fastHitVsCeilingCpu ?? '',
    run.paths.ratios.guardedL1VsFastHitCpu ?? '',
    run.paths.ratios.gzipBytesSaved ?? '',
    run.elapsedS,
  ].join(',');
  const files = writeResults(run.resultsDir, 'day', { json: run, markdown, svg, csvHeader, csvLine });
  const summary = [
    modeTable,
    '',
    stepTable,
    '',
    kindTable,
    '',
    pathTable,
    '',
    crossTable,
    '',
    ...targetLines,
    '',
    `stale answers (our modes): ${t.ourStale}`,
  ].join('\n');
  return { files, summary };
}
