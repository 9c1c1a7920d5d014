import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { UnsupportedPlatformError } from '../errors.js';
import { expressPlatform } from './express.platform.js';
import { fastifyPlatform } from './fastify.platform.js';
import type { HttpPlatform } from './http-platform.js';

const PLATFORMS: Record<string, HttpPlatform> = { fastify: fastifyPlatform, express: expressPlatform };

/**
 * Which HTTP platform the application runs on, from Nest's adapter (`getType()`). Known once the application has
 * its adapter (after `NestFactory.create` or `createNestApplication`), so it is read when needed, not injected.
 */
@Injectable()
export class PlatformHost {
  private platform: HttpPlatform | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** The platform, or undefined in an application without HTTP (a microservice, a standalone context). */
  get current(): HttpPlatform | undefined {
    if (this.platform) return this.platform;
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return undefined;
    const type = adapter.getType();
    this.platform = PLATFORMS[type];
    if (!this.platform)
      throw new UnsupportedPlatformError(
        `RedisCacheModule supports the Fastify and Express adapters; this application runs on '${type}'`,
      );
    return this.platform;
  }

  /** The adapter's server instance (the Fastify instance, or the Express app). */
  instance<T>(): T | undefined {
    return this.adapterHost.httpAdapter?.getInstance<T>();
  }
}
