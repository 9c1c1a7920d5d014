import { Module } from '@nestjs/common';
import { TokenModule } from '../auth/token.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { JobWritesInvalidation } from './job-writes.invalidation.js';
import { JobsController } from './jobs.controller.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';

@Module({
  imports: [DatabaseModule, TokenModule],
  controllers: [JobsController],
  providers: [JobsRepository, JobsService, JobWritesInvalidation],
})
export class JobsModule {}
