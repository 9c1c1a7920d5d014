// The process helpers live in scripts/app-cluster.mjs, shared with `npm run bench`.
export {
  freePort,
  runAppExpectingExit,
  spawnApp,
  startAppCluster,
  type AppCluster,
  type SpawnedApp,
} from '../../scripts/app-cluster.mjs';
