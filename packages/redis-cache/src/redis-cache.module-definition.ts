import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisCacheModuleOptions } from './redis-cache.types.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: REDIS_CACHE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisCacheModuleOptions>({ moduleName: 'RedisCache' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
