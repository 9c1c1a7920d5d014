import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RedisCacheService } from '@jobboard/redis-cache';
import { AdminTokenGuard } from './admin-token.guard.js';

/** Operators' view of the cache (ARCHITECTURE.md §7): counters and circuit state, never key names or values. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('cache')
export class CacheAdminController {
  constructor(private readonly cache: RedisCacheService) {}

  @Get('stats')
  @ApiOkResponse({ description: 'Totals and per-prefix counters, circuit state', schema: { type: 'object' } })
  stats() {
    return this.cache.stats();
  }

  /** Makes every entry under CACHE_PREFIX unreachable (one generation bump) and every instance's L1 with it. */
  @Post('clear')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every entry is unreachable' })
  async clear(): Promise<void> {
    await this.cache.clear();
  }
}
