// Native-ESM jest, as at the root (NestJS 12 is ESM-only). Unit specs sit beside the code; e2e suites in test/ need
// only redis-server on PATH (they spawn their own on free ports), never PostgreSQL.
const esm = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
  // The consumer fixtures are separate programs (their own package.json and build), run by consumers.e2e-spec.ts.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/test/fixtures/'],
};

export default {
  testTimeout: 60_000,
  projects: [
    { ...esm, displayName: 'unit', rootDir: '.', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    { ...esm, displayName: 'e2e', rootDir: '.', roots: ['<rootDir>/test'], testMatch: ['**/*.e2e-spec.ts'] },
  ],
};
