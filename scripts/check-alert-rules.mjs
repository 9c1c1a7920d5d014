// `promtool check rules` and `promtool test rules` on ops/prometheus: the alerts parse, and each one fires on its
// condition and stays quiet without it (alerts.test.yml). promtool comes from PROMTOOL, PATH, or the directory
// .ci/run extracts Debian's prometheus package into.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const cached = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'jobboard-promtool/usr/bin/promtool',
);
const onPath = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
const promtool = process.env.PROMTOOL || onPath || (existsSync(cached) ? cached : '');
if (!promtool) {
  console.error(
    'promtool not found: set PROMTOOL, or install it (bash .ci/run does: apt-get download prometheus, then ' +
      'dpkg-deb -x the package and use usr/bin/promtool).',
  );
  process.exit(1);
}
const run = (...args) => execFileSync(promtool, args, { cwd: 'ops/prometheus', stdio: 'inherit' });
run('check', 'rules', 'alerts.yml');
run('test', 'rules', 'alerts.test.yml');
