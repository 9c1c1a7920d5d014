import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'dist-typecheck/**',
      '**/node_modules/**',
      '.data/**',
      'coverage/**',
      'drizzle/**',
      'clients/typescript/src/schema.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // Adopters of the cache (the app, its tests, the example, the benches) use its public API only: the package's
    // `exports` map enforces it at run time, this at lint time, before a relative path can reach around it.
    files: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.{ts,mjs}', 'scripts/**/*.mjs'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@jobboard/redis-cache/*', '!@jobboard/redis-cache/testing'],
              message:
                'Import the cache from @jobboard/redis-cache (tests: also /testing); nothing else is its API.',
            },
            {
              group: ['**/packages/redis-cache/**', '**/redis-cache/src/**', '**/redis-cache/dist/**'],
              message: 'Import the cache by its package name, @jobboard/redis-cache, never by path.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'examples/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@jobboard/redis-cache/*'],
              message: 'Production code imports @jobboard/redis-cache only; /testing is for tests.',
            },
            {
              group: ['**/packages/redis-cache/**', '**/redis-cache/src/**', '**/redis-cache/dist/**'],
              message: 'Import the cache by its package name, @jobboard/redis-cache, never by path.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
