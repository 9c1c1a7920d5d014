import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { RedisCacheModule } from './cache/index.js';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter.js';
import { StrictValidationPipe } from './common/validation/strict-validation.pipe.js';
import { AppConfig } from './config/app-config.js';
import { AppConfigModule, type EnvOverrides } from './config/config.module.js';
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
    transform: true,
    validationError: { target: false, value: false },
  });
}

@Module({})
export class AppModule {
  /** @param env values that win over the process environment (tests give each app its own database). */
  static forRoot(env: EnvOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        RedisCacheModule.forRootAsync({
          isGlobal: true,
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            url: config.redis.url,
            tlsCaFile: config.redis.tlsCaFile,
            prefix: config.cache.prefix,
            opTimeoutMs: config.cache.opTimeoutMs,
            argumentPipe: createValidationPipe(),
          }),
        }),
        AuthModule,
        UsersModule,
        JobsModule,
        PostsModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
