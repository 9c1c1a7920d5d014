// Types of bench/lib.mjs for the TypeScript benches (bench/day).
export declare const root: string;
export declare function ticksPerSecond(): number;
export declare function cpuMicros(pid: number): number | undefined;
export declare function machineCpuMicros(): { busy: number; steal: number };
export declare function versionOf(name: string): string;
export declare function gitCommit(): string;
export declare function redactUrl(url: string): string;
export declare function machineDescription(): string;
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}
export declare function createScratchDatabase(
  serverUrl: string,
  label: string,
  log: (...args: unknown[]) => void,
): Promise<ScratchDatabase>;
export declare function seedJobs(
  database: ScratchDatabase,
  jobs: number,
  log: (...args: unknown[]) => void,
): void;
