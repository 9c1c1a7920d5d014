// autocannon, the second load generator: closed loop for CPU per request, or at an overall rate for the cross-check
// of the open-loop generator. Run in this process (its CPU is not the server's, which is read from /proc by pid).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export interface CannonRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
}

export interface CannonResult {
  requests: number;
  durationS: number;
  rate: number;
  latency: { mean: number; p50: number; p99: number };
  bytesPerResponse: number;
  non2xx: number;
  errors: number;
}

export async function cannon(
  url: string,
  requests: CannonRequest[],
  {
    connections,
    durationS,
    overallRate,
    ignoreCoordinatedOmission,
  }: { connections: number; durationS: number; overallRate?: number; ignoreCoordinatedOmission?: boolean },
): Promise<CannonResult> {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    overallRate,
    ignoreCoordinatedOmission,
    requests: requests.map((request) => ({ method: 'GET', ...request }) as autocannon.Request),
  });
  return {
    requests: result.requests.total,
    durationS: result.duration,
    rate: result.requests.total / result.duration,
    latency: { mean: result.latency.average, p50: result.latency.p50, p99: result.latency.p99 },
    bytesPerResponse: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const LOADER = fileURLToPath(new URL('../../ts-loader.mjs', import.meta.url));

/**
 * `cannon` in a process of its own, as the open-loop generator runs: timing in the bench's busy main process (its
 * heap and the apps' log pipes) measured autocannon's answers twice as slow as in a process that only loads.
 */
export function cannonInChild(
  url: string,
  requests: CannonRequest[],
  options: Parameters<typeof cannon>[2],
): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--cannon'], {
      execArgv: ['--import', LOADER],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: CannonResult | undefined;
    child.on('message', (message) => (result = message as CannonResult));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`autocannon child exited with ${code}`)),
    );
    child.send({ url, requests, options });
  });
}

if (process.argv.includes('--cannon'))
  process.once('message', (message) => {
    const { url, requests, options } = message as {
      url: string;
      requests: CannonRequest[];
      options: Parameters<typeof cannon>[2];
    };
    void cannon(url, requests, options).then((result) => process.send?.(result, () => process.exit(0)));
  });
