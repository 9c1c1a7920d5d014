// CPU per request along the paths a request can take, closed loop with autocannon, rounds interleaved, medians:
// the node:http ceiling (the same bytes, nothing else), a fast hit (a public cached route, answered before Nest's
// pipeline), a guarded L1 hit and a guarded L2 hit (a per-viewer route with a token: guard, pipes, interceptor),
// an uncached answer, and the fast hit again for a client that accepts gzip (bytes on the wire).
import { cannon, type CannonRequest } from '../lib/autocannon.js';
import { log, sleep, startCeiling, startInstances, type Instances } from '../lib/processes.js';
import { median, ratio, round } from '../lib/stats.js';

export const PUBLIC_PATH = '/api/jobs?skip=0&limit=20&location=Berlin';
export const GUARDED_PATH = '/api/posts?skip=0&limit=10';

export interface PathCost {
  name: string;
  describe: string;
  cpuMicrosPerRequest: number;
  rate: number;
  p99Ms: number;
  bytesPerResponse: number;
  errors: number;
}

interface Target {
  name: string;
  describe: string;
  server: () => Instances;
  request: CannonRequest;
}

const CONNECTIONS = 20;
const WARMUP_S = 2;

export async function runHitPaths(
  env: Record<string, string>,
  token: string,
  { rounds, seconds }: { rounds: number; seconds: number },
): Promise<{ paths: PathCost[]; ratios: Record<string, number | null> }> {
  const ours = await startInstances(1, { ...env, CACHE_PREFIX: 'paths-ours:' });
  const l2Only = await startInstances(1, { ...env, CACHE_PREFIX: 'paths-l2:', CACHE_L1_MAX_ENTRIES: '0' });
  const off = await startInstances(1, { ...env, CACHE_ENABLED: 'false' });
  const fastHit = await fetch(ours.urls[0] + PUBLIC_PATH);
  await fetch(ours.urls[0] + PUBLIC_PATH);
  const body = Buffer.from(await (await fetch(ours.urls[0] + PUBLIC_PATH)).arrayBuffer());
  if (fastHit.status !== 200) throw new Error(`fast hit path answered ${fastHit.status}`);
  const ceiling = await startCeiling(body, { 'content-type': 'application/json; charset=utf-8' });
  const bearer = { authorization: `Bearer ${token}` };
  const targets: Target[] = [
    {
      name: 'ceiling',
      describe: 'node:http, the same bytes',
      server: () => ceiling,
      request: { path: PUBLIC_PATH },
    },
    {
      name: 'fast hit',
      describe: `GET ${PUBLIC_PATH}, L1`,
      server: () => ours,
      request: { path: PUBLIC_PATH },
    },
    {
      name: 'fast hit, gzip',
      describe: `the same, Accept-Encoding: gzip`,
      server: () => ours,
      request: { path: PUBLIC_PATH, headers: { 'accept-encoding': 'gzip' } },
    },
    {
      name: 'guarded L1 hit',
      describe: `GET ${GUARDED_PATH} with a token, L1`,
      server: () => ours,
      request: { path: GUARDED_PATH, headers: bearer },
    },
    {
      name: 'guarded L2 hit',
      describe: 'the same, CACHE_L1_MAX_ENTRIES=0',
      server: () => l2Only,
      request: { path: GUARDED_PATH, headers: bearer },
    },
    {
      name: 'uncached',
      describe: `GET ${PUBLIC_PATH}, CACHE_ENABLED=false`,
      server: () => off,
      request: { path: PUBLIC_PATH },
    },
  ];
  const samples = new Map<
    string,
    { cpu: number[]; rate: number[]; p99: number[]; bytes: number[]; errors: number }
  >();
  for (let r = 0; r < rounds; r++) {
    const order = [...targets.slice(r % targets.length), ...targets.slice(0, r % targets.length)];
    for (const target of order) {
      const server = target.server();
      await cannon(server.urls[0], [target.request], { connections: CONNECTIONS, durationS: WARMUP_S });
      await sleep(200);
      const before = server.cpuMicros();
      const result = await cannon(server.urls[0], [target.request], {
        connections: CONNECTIONS,
        durationS: seconds,
      });
      const cpu = server.cpuMicros() - before;
      const entry = samples.get(target.name) ?? { cpu: [], rate: [], p99: [], bytes: [], errors: 0 };
      entry.cpu.push(cpu / result.requests);
      entry.rate.push(result.rate);
      entry.p99.push(result.latency.p99);
      entry.bytes.push(result.bytesPerResponse);
      entry.errors += result.errors + result.non2xx;
      samples.set(target.name, entry);
      log(`  ${target.name}: ${round(result.rate)} req/s, ${round(cpu / result.requests)} us CPU/req`);
    }
  }
  await Promise.all([ours.stop(), l2Only.stop(), off.stop(), ceiling.stop()]);
  const paths = targets.map((target) => {
    const s = samples.get(target.name)!;
    return {
      name: target.name,
      describe: target.describe,
      cpuMicrosPerRequest: round(median(s.cpu)),
      rate: round(median(s.rate)),
      p99Ms: median(s.p99),
      bytesPerResponse: Math.round(median(s.bytes)),
      errors: s.errors,
    };
  });
  const cpu = (name: string) => paths.find((p) => p.name === name)?.cpuMicrosPerRequest;
  const bytes = (name: string) => paths.find((p) => p.name === name)?.bytesPerResponse;
  return {
    paths,
    ratios: {
      fastHitVsCeilingCpu: ratio(cpu('fast hit'), cpu('ceiling')),
      guardedL1VsFastHitCpu: ratio(cpu('guarded L1 hit'), cpu('fast hit')),
      guardedL2VsGuardedL1Cpu: ratio(cpu('guarded L2 hit'), cpu('guarded L1 hit')),
      uncachedVsFastHitCpu: ratio(cpu('uncached'), cpu('fast hit')),
      gzipVsPlainCpu: ratio(cpu('fast hit, gzip'), cpu('fast hit')),
      gzipBytesSaved: (() => {
        const saved = ratio(bytes('fast hit, gzip'), bytes('fast hit'));
        return saved === null ? null : round(1 - saved, 2);
      })(),
    },
  };
}
