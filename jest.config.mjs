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
    { ...esm, displayName: 'unit', rootDir: '.', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    {
      ...esm,
      displayName: 'e2e',
      rootDir: '.',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
    },
  ],
};
