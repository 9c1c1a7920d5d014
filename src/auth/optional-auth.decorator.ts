import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { OptionalJwtAuthGuard } from './auth.guards.js';

/**
 * A route that anyone may call and that answers a signed-in viewer with their own view (`isFollowing`, the
 * following feed). The OpenAPI security list gets the empty requirement besides the bearer scheme, which is how
 * OpenAPI says "authentication optional"; a token that is sent must be valid (401 otherwise).
 */
export const OptionalAuth = () =>
  applyDecorators(UseGuards(OptionalJwtAuthGuard), ApiBearerAuth(), ApiSecurity({}));
