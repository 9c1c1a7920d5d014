/**
 * The users every test Redis runs with: `default`, the harness's (everything, for CLUSTER, INFO, kills and
 * reconfiguration), and `app`, what an application gets in production: only keys and channels under its prefix,
 * nothing dangerous (no KEYS, FLUSHALL, CONFIG, INFO).
 */
export const HARNESS_PASSWORD = 'harness-admin-password';
export const APP_USER = 'app';
export const APP_PASSWORD = 'app-user-password';

/** `redis-server` arguments defining the harness user and, with a prefix, the app user limited to it. */
export function aclArguments(appPrefix?: string): string[] {
  const harness = ['--user', 'default', 'on', `>${HARNESS_PASSWORD}`, '~*', '&*', '+@all'];
  if (appPrefix === undefined) return harness;
  return [
    ...harness,
    ...[
      '--user',
      APP_USER,
      'on',
      `>${APP_PASSWORD}`,
      `~${appPrefix}*`,
      `&${appPrefix}*`,
      '+@all',
      '-@dangerous',
    ],
  ];
}
