// The Redis deployments of `npm run bench`: its one server, a Redis Cluster (3 masters + 3 replicas) and a Sentinel
// group (1 master + 1 replica + 3 sentinels), the last two started from redis-server by the package's test helpers
// (`@jobboard/redis-cache/testing`) with the app's ACL user, as deployed. Each gives what the app needs in its
// environment, the pids of its processes (for the CPU accounting) and the Redis commands its masters ran since the
// last reset, without the ones that are not the request path.
import { TestRedisCluster, TestRedisSentinel } from '@jobboard/redis-cache/testing';

/**
 * Commands that are not the request path: the harness's own (INFO, CONFIG RESETSTAT), the bus's heartbeat (PING),
 * the cluster client's slot-map and replica watch (CLUSTER *), replication and sentinel chatter, and connection
 * set-up (AUTH, HELLO, CLIENT *, the subscriptions).
 */
const NOT_REQUEST_COMMAND =
  /^(ping|info|replconf|role|auth|hello|readonly|select|s?subscribe|psubscribe)$|^(config|cluster|sentinel|client|command)\|/;

/** Adds the request-path calls of one node's `INFO commandstats` to `into` (command -> calls). */
function addRequestCalls(info, into) {
  for (const match of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    if (NOT_REQUEST_COMMAND.test(match[1])) continue;
    into[match[1]] = (into[match[1]] ?? 0) + Number(match[2]);
  }
}

/** Request-path calls over some nodes: the total, by command and by node (port). */
async function requestCalls(nodes) {
  const byCommand = {};
  const byNode = {};
  for (const { port, client } of nodes) {
    const own = {};
    addRequestCalls(await client.info('commandstats'), own);
    byNode[port] = Object.values(own).reduce((sum, n) => sum + n, 0);
    for (const [command, calls] of Object.entries(own))
      byCommand[command] = (byCommand[command] ?? 0) + calls;
  }
  return { calls: Object.values(byNode).reduce((sum, n) => sum + n, 0), byCommand, byNode };
}

/** The bench's one redis-server, through the harness connection the bench already holds. */
export function standaloneDeployment(client, port, pid) {
  const nodes = [{ port, client }];
  return {
    describe: 'one redis-server',
    pids: [pid],
    resetStats: () => client.configResetStat(),
    requestCalls: () => requestCalls(nodes),
  };
}

/** A 3-master + 3-replica Redis Cluster; the app is given two seeds (`REDIS_CLUSTER_NODES`), as its ACL user. */
export async function startClusterDeployment(prefix) {
  const cluster = await TestRedisCluster.start({ appUser: { prefix } });
  const masters = async () =>
    Promise.all(
      (await cluster.masters()).map(async ({ port }) => ({ port, client: await cluster.admin(port) })),
    );
  return {
    describe: 'Redis Cluster, 3 masters + 3 replicas, the app as an ACL user given 2 seeds',
    env: { REDIS_CLUSTER_NODES: cluster.seedUrls.slice(0, 2).join(',') },
    pids: cluster.nodes.map((node) => node.process.pid),
    resetStats: async () => {
      for (const { client } of await masters()) await client.configResetStat();
    },
    requestCalls: async () => requestCalls(await masters()),
    stop: () => cluster.stop(),
  };
}

/** 1 master + 1 replica + 3 sentinels (quorum 2); the app finds the master through the sentinels, as its ACL user. */
export async function startSentinelDeployment(prefix) {
  const group = await TestRedisSentinel.start({ prefix });
  const masterPort = await group.masterPort();
  const master = await group.admin(masterPort);
  const nodes = [{ port: masterPort, client: master }];
  return {
    describe: 'Redis Sentinel, 1 master + 1 replica + 3 sentinels, the app as an ACL user',
    env: {
      REDIS_SENTINELS: group.sentinelAddresses.join(','),
      REDIS_SENTINEL_MASTER: group.masterName,
      REDIS_USERNAME: group.username,
      REDIS_PASSWORD: group.password,
      REDIS_SENTINEL_PASSWORD: group.sentinelPassword,
    },
    pids: [...group.data, ...group.sentinels].map((node) => node.process.pid),
    resetStats: () => master.configResetStat(),
    requestCalls: () => requestCalls(nodes),
    stop: async () => {
      master.destroy();
      await group.stop();
    },
  };
}
