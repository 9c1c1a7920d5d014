import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Cache statistics per route prefix and tier (admin token)' })
  stats() {
    return this.cache.stats();
  }

  /** Makes every entry under CACHE_PREFIX unreachable (one generation bump) and every instance's L1 with it. */
  @Post('clear')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every entry is unreachable' })
  @ApiOperation({ summary: 'Drop every cached answer (admin token)' })
  async clear(): Promise<void> {
    await this.cache.clear();
  }
}
