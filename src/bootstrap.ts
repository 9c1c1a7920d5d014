import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, type ExtraImports } from './app.module.js';
import { configureApp, createFastifyAdapter } from './app.setup.js';
import { PinoNestLogger } from './common/logging/pino-nest.logger.js';
import type { AppConfig } from './config/app-config.js';
import { loadAppConfig } from './config/config.module.js';
import { InvalidEnvironmentError } from './config/validate-env.js';

function loadConfigOrExit(): AppConfig {
  try {
    return loadAppConfig();
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/**
 * Starts the API as `npm start` runs it: configuration from the environment, the Fastify adapter, the HTTP setup,
 * listening, and signal handlers for a graceful shutdown. `extraImports` lets a benchmark compose a peer module in
 * (bench/peers); production passes none.
 */
export async function bootstrap(extraImports: (config: AppConfig) => ExtraImports = () => []): Promise<void> {
  const config = loadConfigOrExit();
  const adapter = createFastifyAdapter(config);
  const logger = new PinoNestLogger(adapter.getInstance().log);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({}, extraImports(config)),
    adapter,
    { logger },
  );
  const shutdown = await configureApp(app, config);
  await app.listen({ port: config.port, host: config.host });
  shutdown.listen(app, config.shutdown, logger);
  logger.log(`listening on ${await app.getUrl()} with ${JSON.stringify(config.describe())}`, 'Bootstrap');
  if (config.usesDevelopmentJwtSecret)
    logger.warn('JWT_SECRET is unset: using the development signing key', 'Bootstrap');
}
