import { Module } from '@nestjs/common';
import { TokenModule } from '../auth/token.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { UsersModule } from '../users/users.module.js';
import { PostWritesInvalidation } from './post-writes.invalidation.js';
import { PostsController } from './posts.controller.js';
import { PostsRepository } from './posts.repository.js';
import { PostsService } from './posts.service.js';

@Module({
  imports: [DatabaseModule, TokenModule, UsersModule],
  controllers: [PostsController],
  providers: [PostsRepository, PostsService, PostWritesInvalidation],
})
export class PostsModule {}
