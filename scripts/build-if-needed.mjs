// `npm start` runs the built app; this builds it first when dist/ is missing or older than the sources, so a
// fresh clone needs only `npm install && npm start`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ENTRY = 'dist/main.js';

function newestModification(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const sourcesChanged = () =>
  Math.max(
    newestModification('src'),
    statSync('tsconfig.json').mtimeMs,
    statSync('tsconfig.build.json').mtimeMs,
  ) > statSync(ENTRY).mtimeMs;

if (!existsSync(ENTRY) || sourcesChanged()) {
  console.log('building dist/ (tsc -p tsconfig.build.json)...');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
