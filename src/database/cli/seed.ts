import { parseArgs } from 'node:util';
import { loadAppConfig } from '../../config/config.module.js';
import { openDatabase } from '../database.connection.js';
import { runMigrations } from '../migrate.js';
import { DatabaseNotEmptyError, SEED_PASSWORD, seedDatabase } from '../seed.js';

const USAGE = `npm run db:seed -- [--users N] [--jobs N] [--posts N] [--seed N] [--reset]
  Sizes default to SEED_USERS, SEED_JOBS, SEED_POSTS (2000, 10000, 20000). --reset replaces existing data.`;

function count(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,8}$/.test(value)) {
    console.error(`--${flag} must be a whole number\n${USAGE}`);
    process.exit(2);
  }
  return Number(value);
}

const { values } = parseArgs({
  options: {
    users: { type: 'string' },
    jobs: { type: 'string' },
    posts: { type: 'string' },
    seed: { type: 'string' },
    reset: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const config = loadAppConfig();
const database = await openDatabase(config.database);
try {
  await runMigrations(database);
  const started = performance.now();
  const result = await seedDatabase(
    database.db,
    {
      users: count(values.users, config.seed.users, 'users'),
      jobs: count(values.jobs, config.seed.jobs, 'jobs'),
      posts: count(values.posts, config.seed.posts, 'posts'),
      seed: count(values.seed, 42, 'seed'),
    },
    { reset: values.reset },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`seeded ${database.location} in ${seconds}s: ${JSON.stringify(result)}`);
  console.log(
    `every seeded user (user1@example.com ... user${result.users}@example.com) has the password ${SEED_PASSWORD}`,
  );
} catch (error) {
  if (!(error instanceof DatabaseNotEmptyError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await database.close();
}
