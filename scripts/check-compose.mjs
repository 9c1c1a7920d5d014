#!/usr/bin/env node
// Validates docker-compose.yml and docker-compose.cluster.yml with `docker-compose config -q` (Debian's docker-compose 1.29, no Docker engine
// needed). JWT_SECRET and ADMIN_TOKEN use the required `${VAR:?message}` syntax in the compose file, so the check
// gives the child process dummy values for them (the real values are never read or printed).
// CI installs the tool first: apt-get install -y --no-install-recommends docker-compose
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const file of ['docker-compose.yml', 'docker-compose.cluster.yml']) check(file);

function check(file) {
  const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      JWT_SECRET: 'compose-check-dummy-jwt-secret-000000000000',
      ADMIN_TOKEN: 'compose-check-dummy-admin-token',
    },
  });

  if (result.error) {
    if (result.error.code === 'ENOENT') {
      console.error(
        'docker-compose is not installed (needed to validate the compose files).\n' +
          'Install it with: apt-get install -y --no-install-recommends docker-compose',
      );
    } else {
      console.error(`could not run docker-compose: ${result.error.message}`);
    }
    process.exit(1);
  }

  if (result.status !== 0) {
    const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
    console.error(`${file}: invalid (docker-compose exited with ${result.status ?? result.signal})`);
    if (output) console.error(output);
    process.exit(result.status || 1);
  }

  console.log(`${file}: valid`);
}
