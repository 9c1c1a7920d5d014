import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { existsSync } from 'node:fs';
import { AppConfig } from './app-config.js';
import { EnvironmentVariables } from './env.schema.js';
import { validateEnv } from './validate-env.js';

export type EnvOverrides = Record<string, string | undefined>;

/**
 * Loads `.env` (when present) and the process environment through @nestjs/config, validates them once with the
 * class-validator schema, and exposes the typed {@link AppConfig} to every module.
 */
@Module({})
export class AppConfigModule {
  /** @param overrides values that win over the environment (tests start apps with their own database, prefix...). */
  static forRoot(overrides: EnvOverrides = {}): DynamicModule {
    let validated: EnvironmentVariables | undefined;
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          envFilePath: '.env',
          validate: (raw) => (validated = validateEnv({ ...raw, ...overrides })),
        }),
      ],
      providers: [{ provide: AppConfig, useFactory: () => new AppConfig(validated!) }],
      exports: [AppConfig],
    };
  }
}

/**
 * Configuration for code that runs before or outside the Nest container (main.ts builds the HTTP adapter from
 * it; the CLI scripts use it). Reads `.env` like ConfigModule does, without overriding set variables.
 */
export function loadAppConfig(overrides: EnvOverrides = {}): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return new AppConfig(validateEnv({ ...process.env, ...overrides }));
}
