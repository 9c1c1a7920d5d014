import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// Express is Nest's default platform: no adapter to choose.
const app = await NestFactory.create(AppModule.forRoot({ redisUrl: process.env.REDIS_URL }));
app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
app.enableCors({ origin: ['http://localhost:5173'], exposedHeaders: ['ETag', 'X-Cache'] });
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3001));
console.log(`books example on ${await app.getUrl()}/books`);
