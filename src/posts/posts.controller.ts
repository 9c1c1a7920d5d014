import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { JwtAuthGuard } from '../auth/auth.guards.js';
import { OptionalAuth } from '../auth/optional-auth.decorator.js';
import type { AuthUser } from '../auth/auth.types.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { Cached } from '@jobboard/redis-cache';
import { IdParams } from '../common/dto/id.params.js';
import { PaginationQuery } from '../common/dto/pagination.query.js';
import { ListPostsQuery, PostContentDto, PostDto, PostPageDto, UserIdParams } from './dto/posts.dto.js';
import { PostsService } from './posts.service.js';
import { ApiCachedResponse } from '../common/http/openapi-document.js';
import { jsonBytesFor, MaxBodyBytes } from '../common/validation/input-caps.js';

/** A post is at most 5,000 characters. */
const POST_BODY_BYTES = jsonBytesFor(5_000);

@ApiTags('posts')
@Controller('api/posts')
export class PostsController {
  constructor(private readonly posts: PostsService) {}

  @Get()
  @OptionalAuth()
  // Only `following=true` depends on who asks: the rest of the feed is one entry for everyone, not one per viewer.
  // `following` and the viewer lead the key, so that a follow invalidates that viewer's following feed alone, and a
  // post the feeds of its author's followers (PostWritesInvalidation; writes invalidate in PostsService).
  @Cached(30, 'posts:list:{following}:{user.id}:{skip}:{limit}', {
    scope: ({ query }) => (query.following === true ? 'viewer' : 'public'),
  })
  @ApiCachedResponse(PostPageDto, { perViewer: true })
  @ApiOperation({ summary: 'The posts feed, newest first (optionally only followed authors)' })
  list(@Query() query: ListPostsQuery, @CurrentUser() viewer?: AuthUser) {
    return this.posts.list(query, viewer);
  }

  @Get('user/:userId')
  @Cached(30, 'posts:user:{userId}:{skip}:{limit}')
  @ApiCachedResponse(PostPageDto)
  @ApiOperation({ summary: 'Posts by one author' })
  listByAuthor(@Param() { userId }: UserIdParams, @Query() page: PaginationQuery) {
    return this.posts.listByAuthor(userId, page);
  }

  @Post()
  @MaxBodyBytes(POST_BODY_BYTES)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: PostDto })
  @ApiOperation({ summary: 'Write a post' })
  create(@Body() dto: PostContentDto, @CurrentUser() viewer: AuthUser) {
    return this.posts.create(viewer, dto.content);
  }

  @Patch(':id')
  @MaxBodyBytes(POST_BODY_BYTES)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: PostDto })
  @ApiForbiddenResponse({ description: 'Not the author' })
  @ApiOperation({ summary: 'Edit your post' })
  update(@Param() { id }: IdParams, @Body() dto: PostContentDto, @CurrentUser() viewer: AuthUser) {
    return this.posts.update(id, viewer, dto.content);
  }

  @Delete(':id')
  @HttpCode(204)
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'Not the author' })
  @ApiOperation({ summary: 'Delete your post' })
  async delete(@Param() { id }: IdParams, @CurrentUser() viewer: AuthUser): Promise<void> {
    await this.posts.delete(id, viewer);
  }
}
