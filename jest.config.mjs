// Native-ESM jest (Node 20 cannot load NestJS 12 through CommonJS jest); see ../shared/STACK.md.
const esm = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};

export default {
  // A global option: per-project values are ignored. E2E suites boot apps and databases in their hooks.
  testTimeout: 60_000,
  projects: [
    // The benches' own helpers (bench/day/lib) are unit-tested with the app.
    {
      ...esm,
      displayName: 'unit',
      rootDir: '.',
      roots: ['<rootDir>/src', '<rootDir>/bench'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...esm,
      displayName: 'e2e',
      rootDir: '.',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
    },
  ],
};
