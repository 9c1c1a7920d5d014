// Types of bench/topologies.mjs for the TypeScript benches (bench/day): the one-server deployment only.
/** What the harness asks a Redis connection (any RESP version's client has these). */
export interface RedisAdmin {
  info(section: string): Promise<string>;
  configResetStat(): Promise<unknown>;
}

export interface RequestCalls {
  calls: number;
  byCommand: Record<string, number>;
  byNode: Record<string, number>;
}
export interface Deployment {
  describe: string;
  pids: number[];
  resetStats(): Promise<unknown>;
  requestCalls(): Promise<RequestCalls>;
}
export declare function standaloneDeployment(client: RedisAdmin, port: number, pid: number): Deployment;
