import { loadAppConfig } from '../../config/config.module.js';
import { openDatabase } from '../database.connection.js';
import { runMigrations } from '../migrate.js';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the PGlite directory when it is unset. */
const config = loadAppConfig();
const database = await openDatabase(config.database);
try {
  await runMigrations(database);
  console.log(`migrations applied to ${database.location}`);
} finally {
  await database.close();
}
