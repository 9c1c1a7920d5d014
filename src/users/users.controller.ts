import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/auth.guards.js';
import { OptionalAuth } from '../auth/optional-auth.decorator.js';
import type { AuthUser } from '../auth/auth.types.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { Cached, InvalidatesCache } from '@jobboard/redis-cache';
import { IdParams } from '../common/dto/id.params.js';
import { ListUsersQuery } from './dto/list-users.query.js';
import { UserPageDto, UserProfileDto } from './dto/user.response.js';
import { UsersService } from './users.service.js';
import { ApiCachedResponse } from '../common/http/openapi-document.js';

/**
 * A follow changes both users' counts, every list's counts and isFollowing, and the follower's following feed only
 * (PostsController.list keys it `posts:list:true:<viewer>:`; the public feed does not change).
 */
const FOLLOW_CHANGES = [
  'users:list:',
  'users:item:{id}',
  'users:item:{user.id}',
  'posts:list:true:{user.id}:',
];

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('list')
  @OptionalAuth()
  @Cached(180, 'users:list:{skip}:{limit}:{search}:{user.id}')
  @ApiCachedResponse(UserPageDto, { perViewer: true })
  @ApiOperation({ summary: 'List users, newest first' })
  list(@Query() query: ListUsersQuery, @CurrentUser() viewer?: AuthUser) {
    return this.users.list(query, viewer);
  }

  @Get(':id')
  @OptionalAuth()
  @Cached(180, 'users:item:{id}:{user.id}')
  @ApiCachedResponse(UserProfileDto, { perViewer: true })
  @ApiOperation({ summary: "Get a user's public profile" })
  get(@Param() { id }: IdParams, @CurrentUser() viewer?: AuthUser) {
    return this.users.getProfile(id, viewer);
  }

  @Post(':id/follow')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @InvalidatesCache(...FOLLOW_CHANGES)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Follow a user' })
  follow(@Param() { id }: IdParams, @CurrentUser() viewer: AuthUser) {
    return this.users.follow(viewer, id);
  }

  @Delete(':id/follow')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @InvalidatesCache(...FOLLOW_CHANGES)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Stop following a user' })
  unfollow(@Param() { id }: IdParams, @CurrentUser() viewer: AuthUser) {
    return this.users.unfollow(viewer, id);
  }
}
