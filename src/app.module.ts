import { DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { AdminModule } from './admin/admin.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RedisCacheModule } from '@jobboard/redis-cache';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter.js';
import { StrictValidationPipe } from './common/validation/strict-validation.pipe.js';
import { UndeclaredQueryGuard } from './common/validation/undeclared-query.guard.js';
import { AppConfig } from './config/app-config.js';
import { AppConfigModule, type EnvOverrides } from './config/config.module.js';
import { DATABASE_CONNECTION } from './database/database.constants.js';
import { DatabaseModule } from './database/database.module.js';
import type { DatabaseConnection } from './database/database.types.js';
import { invalidationOutbox } from './database/invalidation-outbox.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { PostsModule } from './posts/posts.module.js';
import { UsersModule } from './users/users.module.js';

/** The one validation rule set: unknown fields are 400s (junk parameters must not reach handlers or cache keys). */
export function createValidationPipe(): StrictValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    // One message per field: a value that breaks five rules needs one fix, and the list stays short.
    stopAtFirstError: true,
    transform: true,
    validationError: { target: false, value: false },
  });
}

/** Modules composed into the app ahead of its own, e.g. the peer cache a benchmark compares with (bench/peers). */
export type ExtraImports = (Type | DynamicModule | Promise<DynamicModule>)[];

@Module({})
export class AppModule {
  /**
   * @param env values that win over the process environment (tests give each app its own database).
   * @param extraImports modules composed in ahead of the app's own (none in production).
   */
  static forRoot(env: EnvOverrides = {}, extraImports: ExtraImports = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...extraImports,
        AppConfigModule.forRoot(env),
        RedisCacheModule.forRootAsync({
          isGlobal: true,
          imports: [DatabaseModule],
          inject: [AppConfig, DATABASE_CONNECTION],
          useFactory: (config: AppConfig, database: DatabaseConnection) => ({
            url: config.redis.url,
            sentinel: config.redis.sentinel,
            cluster: config.redis.cluster,
            tlsCaFile: config.redis.tlsCaFile,
            prefix: config.cache.prefix,
            opTimeoutMs: config.cache.opTimeoutMs,
            l1: {
              maxEntries: config.cache.l1MaxEntries,
              maxBytes: config.cache.l1MaxBytes,
              ttlMs: config.cache.l1TtlMs,
            },
            enabled: config.cache.enabled,
            // While the database fails or lags, cached answers keep coming (X-Cache: STALE) for the grace period.
            failSafe: {
              grace: config.cache.graceMs === 0 ? 0 : (`${config.cache.graceMs}ms` as const),
              softTimeout:
                config.cache.softTimeoutMs === 0 ? 0 : (`${config.cache.softTimeoutMs}ms` as const),
            },
            // Every unguarded cached route here is public by declaration; no app-global guard needs to see its hits.
            fastHits: true,
            // An invalidation this instance cannot make in Redis is kept in PostgreSQL for any instance to apply.
            outbox: invalidationOutbox(database),
          }),
        }),
        // For the exception filter, which counts and logs a database that cannot serve.
        DatabaseModule,
        AuthModule,
        UsersModule,
        JobsModule,
        PostsModule,
        HealthModule,
        AdminModule,
        MetricsModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_GUARD, useClass: UndeclaredQueryGuard },
      ],
    };
  }
}
