// Runs the package's HTTP contract suite and its adoption suite against NestJS 11 (the peer range says ^11 || ^12,
// and this is what backs the ^11): packs the built package, installs it with NestJS 11 into a scratch directory
// outside the workspace (so nothing resolves to the repository's NestJS 12), transpiles the suites there with the
// import of the sources replaced by the package name, and runs them with jest. Needs the npm registry and
// redis-server; `npm run test:compat -w @jobboard/redis-cache` (about a minute, most of it the install).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');

/** The NestJS 11 set under test, with the versions of everything else the suites import. */
const NEST_11 = {
  '@nestjs/common': '11.2.10',
  '@nestjs/core': '11.2.10',
  '@nestjs/platform-express': '11.2.10',
  '@nestjs/platform-fastify': '11.2.8',
  '@nestjs/testing': '11.2.6',
  '@nestjs/swagger': '11.4.7',
};
const SHARED = [
  'reflect-metadata',
  'rxjs',
  'class-validator',
  'class-transformer',
  'supertest',
  'jest',
  '@jest/globals',
];
/** The suites that must pass unchanged; the negative control reaches into internals and stays at home. */
const SUITES = [
  'test/http-contract.e2e-spec.ts',
  'test/adoption.e2e-spec.ts',
  'test/support/contract-app.ts',
  'test/support/http-contract.ts',
];

const rootLock = JSON.parse(readFileSync(join(packageDir, '../../package-lock.json'), 'utf8'));
const lockedVersion = (name) => rootLock.packages[`node_modules/${name}`]?.version ?? 'latest';

function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, npm_config_fund: 'false' } });
}

const scratch = mkdtempSync(join(tmpdir(), 'redis-cache-nest11-'));
try {
  run('npm', ['pack', '--silent', '--pack-destination', scratch], packageDir);
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const dependencies = {
    ...NEST_11,
    ...Object.fromEntries(SHARED.map((name) => [name, lockedVersion(name)])),
    '@jobboard/redis-cache': `file:./jobboard-redis-cache-${version}.tgz`,
  };
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'nest11-compat', private: true, type: 'module', dependencies }, null, 2),
  );
  writeFileSync(
    join(scratch, 'jest.config.json'),
    JSON.stringify({
      testTimeout: 60_000,
      testMatch: ['**/*.e2e-spec.js'],
      transform: {},
      testEnvironment: 'node',
    }),
  );
  console.log(`NestJS 11 compatibility in ${scratch}:`, dependencies);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], scratch);
  for (const file of SUITES) {
    const source = readFileSync(join(packageDir, file), 'utf8')
      .replace(/'(\.\.\/)+src\/index\.js'/g, "'@jobboard/redis-cache'")
      .replace(/'(\.\.\/)+src\/testing\/index\.js'/g, "'@jobboard/redis-cache/testing'");
    if (/'(\.\.\/)+src\//.test(source)) throw new Error(`${file} imports the package's internals`);
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    const target = join(scratch, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  run(
    process.execPath,
    ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', '--runInBand'],
    scratch,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
