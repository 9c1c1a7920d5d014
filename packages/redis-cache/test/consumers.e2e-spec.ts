import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TSC = join(here, '../../../node_modules/typescript/bin/tsc');

/** Runs a command to completion (bounded), failing with its output when it does not exit 0. */
function run(args: string[], label: string): string {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(`${label} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the compiled package in consumers other than this repository (dist/ must be built)', () => {
  it('type-checks in a CommonJS app targeting ES2017 (skipLibCheck off) and runs there through require(esm)', () => {
    const app = join(here, 'fixtures/commonjs-app');
    run([TSC, '-p', join(app, 'tsconfig.json')], 'tsc');
    const result = JSON.parse(run([join(app, 'dist/main.js')], 'the CommonJS app'));
    expect(result).toEqual({
      module: 'commonjs',
      statuses: [200, 200],
      xCache: ['MISS', 'HIT'],
      bodies: ['{"hello":"world"}', '{"hello":"world"}'],
      calls: 1,
      hits: 1,
    });
  });
});
