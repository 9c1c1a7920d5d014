import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import type { Page } from '../common/dto/pagination.query.js';
import { ListUsersQuery } from './dto/list-users.query.js';
import { UsersRepository } from './users.repository.js';
import type { UserProfile } from './users.types.js';

@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  async list(query: ListUsersQuery, viewer: AuthUser | undefined): Promise<Page<UserProfile>> {
    const { items, total } = await this.users.list(query, viewer?.id);
    return { items, total, skip: query.skip, limit: query.limit };
  }

  async getProfile(id: number, viewer: AuthUser | undefined): Promise<UserProfile> {
    const profile = await this.users.findProfile(id, viewer?.id);
    if (!profile) throw new NotFoundException(`User ${id} not found`);
    return profile;
  }

  async follow(viewer: AuthUser, id: number): Promise<void> {
    await this.assertFollowable(viewer, id);
    await this.users.follow(viewer.id, id);
  }

  async unfollow(viewer: AuthUser, id: number): Promise<void> {
    await this.assertFollowable(viewer, id);
    await this.users.unfollow(viewer.id, id);
  }

  private async assertFollowable(viewer: AuthUser, id: number): Promise<void> {
    if (viewer.id === id) throw new BadRequestException('You cannot follow yourself');
    if (!(await this.users.exists(id))) throw new NotFoundException(`User ${id} not found`);
  }
}
