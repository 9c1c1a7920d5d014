// `npm start` runs the built app; this builds it first (the cache package, then the app) when a dist/ is missing or
// older than its sources, so a fresh clone needs only `npm install && npm start`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TSC = 'node_modules/typescript/bin/tsc';

function newestModification(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds `project` unless `entry` exists and is newer than its sources and tsconfig files. */
function buildIfStale(directory, entry, project) {
  const sources = Math.max(
    newestModification(join(directory, 'src')),
    statSync(join(directory, 'tsconfig.json')).mtimeMs,
    statSync(join(directory, project)).mtimeMs,
  );
  const built = join(directory, entry);
  if (existsSync(built) && sources <= statSync(built).mtimeMs) return;
  console.log(`building ${join(directory, 'dist')}/ (tsc -p ${project})...`);
  execFileSync(process.execPath, [TSC, '-p', join(directory, project)], { stdio: 'inherit' });
}

buildIfStale('packages/redis-cache', 'dist/index.js', 'tsconfig.build.json');
buildIfStale('.', 'dist/main.js', 'tsconfig.build.json');
