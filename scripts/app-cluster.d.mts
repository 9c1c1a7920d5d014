import type { ChildProcess } from 'node:child_process';

export declare const MAIN: string;

export declare function freePort(): Promise<number>;

export interface SpawnedApp {
  baseUrl: string;
  process: ChildProcess;
  /** Everything the instance printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then how the process ended; `killed` means it had to be SIGKILLed after 15 s. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
}

export interface AppCluster {
  instances: SpawnedApp[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }[]>;
}

export declare function spawnApp(
  env: Record<string, string>,
  options?: { timeoutMs?: number; entry?: string; outputTail?: number },
): Promise<SpawnedApp>;

export declare function startAppCluster(
  count: number,
  env: Record<string, string>,
  options?: { timeoutMs?: number; entry?: string; outputTail?: number },
): Promise<AppCluster>;

export declare function runAppExpectingExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }>;
