import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { CacheAdminController } from './cache-admin.controller.js';

/** Endpoints behind ADMIN_TOKEN. */
@Module({ controllers: [CacheAdminController], providers: [AdminTokenGuard] })
export class AdminModule {}
