import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { DATABASE_CONNECTION, DB, STARTUP_SEED_SIZES } from './database.constants.js';
import { DatabaseOutages } from './database-outages.js';
import { openDatabase } from './database.connection.js';
import type { DatabaseConnection } from './database.types.js';
import { runMigrations } from './migrate.js';
import { TransactionRunner } from './transaction-runner.js';
import { isDatabaseEmpty, seedDatabase } from './seed.js';

async function connect(config: AppConfig): Promise<DatabaseConnection> {
  const logger = new Logger('Database');
  const database = await openDatabase({
    ...config.database,
    onPoolError: (error) => logger.warn(`idle PostgreSQL client failed: ${error.message}`),
    // One line per query at LOG_LEVEL=debug (the multi-instance tests count them); dropped cheaply otherwise.
    onQuery:
      config.logLevel === 'debug' || config.logLevel === 'trace'
        ? (sql) => logger.debug(`query: ${sql}`)
        : undefined,
  });
  logger.log(`using ${database.location}`);
  if (config.database.migrateOnStart) {
    await runMigrations(database);
    logger.log('migrations applied');
  }
  if (database.driver === 'pglite' && config.database.seedOnEmpty && (await isDatabaseEmpty(database.db))) {
    const seeded = await seedDatabase(database.db, STARTUP_SEED_SIZES);
    logger.log(
      `empty embedded database seeded: ${JSON.stringify(seeded)} (run npm run db:seed for the full set)`,
    );
  }
  return database;
}

/** PostgreSQL via DATABASE_URL, or embedded PGlite when it is unset; migrated on start when configured. */
@Module({
  providers: [
    { provide: DATABASE_CONNECTION, inject: [AppConfig], useFactory: connect },
    { provide: DB, inject: [DATABASE_CONNECTION], useFactory: (database: DatabaseConnection) => database.db },
    DatabaseOutages,
    TransactionRunner,
  ],
  exports: [DATABASE_CONNECTION, DB, DatabaseOutages, TransactionRunner],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE_CONNECTION) private readonly database: DatabaseConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
