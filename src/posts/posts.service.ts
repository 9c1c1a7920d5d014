import { ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import type { Page } from '../common/dto/pagination.query.js';
import { UsersRepository } from '../users/users.repository.js';
import { ListPostsQuery } from './dto/posts.dto.js';
import { PostsRepository } from './posts.repository.js';
import { PostWritesInvalidation } from './post-writes.invalidation.js';
import type { PostView } from './posts.types.js';

@Injectable()
export class PostsService {
  constructor(
    private readonly posts: PostsRepository,
    private readonly users: UsersRepository,
    private readonly invalidation: PostWritesInvalidation,
  ) {}

  async list(query: ListPostsQuery, viewer: AuthUser | undefined): Promise<Page<PostView>> {
    if (query.following && !viewer)
      throw new UnauthorizedException('following=true needs an authenticated viewer');
    const { items, total } = await this.posts.list(
      { followedBy: query.following ? viewer!.id : undefined },
      query,
    );
    return { items, total, skip: query.skip, limit: query.limit };
  }

  async listByAuthor(authorId: number, page: { skip: number; limit: number }): Promise<Page<PostView>> {
    if (!(await this.users.exists(authorId))) throw new NotFoundException(`User ${authorId} not found`);
    const { items, total } = await this.posts.list({ authorId }, page);
    return { items, total, skip: page.skip, limit: page.limit };
  }

  /** Every write invalidates the feeds that show the post once it is committed (PostWritesInvalidation). */
  async create(viewer: AuthUser, content: string): Promise<PostView> {
    const id = await this.posts.create(viewer.id, content);
    await this.invalidation.afterWrite(viewer.id);
    return (await this.posts.findById(id))!;
  }

  async update(id: number, viewer: AuthUser, content: string): Promise<PostView> {
    await this.getOwned(id, viewer);
    await this.posts.update(id, content);
    await this.invalidation.afterWrite(viewer.id);
    const updated = await this.posts.findById(id);
    if (!updated) throw new NotFoundException(`Post ${id} not found`);
    return updated;
  }

  async delete(id: number, viewer: AuthUser): Promise<PostView> {
    const post = await this.getOwned(id, viewer);
    await this.posts.delete(id);
    await this.invalidation.afterWrite(viewer.id);
    return post;
  }

  private async getOwned(id: number, viewer: AuthUser): Promise<PostView> {
    const post = await this.posts.findById(id);
    if (!post) throw new NotFoundException(`Post ${id} not found`);
    if (post.authorId !== viewer.id) throw new ForbiddenException('Only the author can change this post');
    return post;
  }
}
