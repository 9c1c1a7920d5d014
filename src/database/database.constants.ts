/** DI token of the open {@link DatabaseConnection}. */
export const DATABASE_CONNECTION = Symbol('database:connection');
/** DI token of the typed query builder ({@link Db}), the one repositories use. */
export const DB = Symbol('database:db');

/** What `npm start` puts into an empty embedded database, so the first request shows data. */
export const STARTUP_SEED_SIZES = { users: 50, jobs: 300, posts: 400, maxFollowsPerUser: 8 };
