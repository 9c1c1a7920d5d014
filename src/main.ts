import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
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

const config = loadConfigOrExit();
const adapter = createFastifyAdapter(config);
const logger = new PinoNestLogger(adapter.getInstance().log);
const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({}, config), adapter, {
  logger,
});
const shutdown = await configureApp(app, config);
await app.listen({ port: config.port, host: config.host });
shutdown.listen(app, config.shutdown, logger);
logger.log(`listening on ${await app.getUrl()} with ${JSON.stringify(config.describe())}`, 'Bootstrap');
if (config.usesDevelopmentJwtSecret)
  logger.warn('JWT_SECRET is unset: using the development signing key', 'Bootstrap');
