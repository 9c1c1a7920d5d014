// autocannon, the second load generator: closed loop for CPU per request, or at an overall rate for the cross-check
// of the open-loop generator. Run in this process (its CPU is not the server's, which is read from /proc by pid).
import autocannon from 'autocannon';
import { callInChild, serveInChild } from './child.js';

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

interface CannonCall {
  url: string;
  requests: CannonRequest[];
  options: Parameters<typeof cannon>[2];
}

/**
 * `cannon` in a process of its own, as the open-loop generator runs, so that neither shares an event loop with the
 * bench (its heap, the apps' log pipes) when the two are compared.
 */
export const cannonInChild = (url: string, requests: CannonRequest[], options: CannonCall['options']) =>
  callInChild<CannonResult>(import.meta.url, '--cannon', { url, requests, options } satisfies CannonCall);

serveInChild('--cannon', ({ url, requests, options }: CannonCall) => cannon(url, requests, options));
