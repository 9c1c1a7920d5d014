import { describe, expect, it } from '@jest/globals';
import { UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { loadAppConfig } from '../config/config.module.js';
import { AdminTokenGuard } from './admin-token.guard.js';

const context = (authorization?: string) =>
  ({
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
    }),
  }) as unknown as ExecutionContext;

describe('AdminTokenGuard', () => {
  it('refuses everything when ADMIN_TOKEN is unset, whatever is sent', () => {
    const guard = new AdminTokenGuard(loadAppConfig({}));
    for (const header of [undefined, '', 'Bearer ', 'Bearer undefined', 'Bearer x'])
      expect(() => guard.canActivate(context(header))).toThrow(UnauthorizedException);
  });

  it('accepts exactly the configured token, with the scheme in any case', () => {
    const guard = new AdminTokenGuard(loadAppConfig({ ADMIN_TOKEN: 's3cret-admin-token-0123456789abcdef' }));
    expect(guard.canActivate(context('Bearer s3cret-admin-token-0123456789abcdef'))).toBe(true);
    expect(guard.canActivate(context('BEARER s3cret-admin-token-0123456789abcdef'))).toBe(true);
    for (const header of [
      'Bearer s3cret-admin-token-0123456789abcdeF',
      'Bearer s3cret-admin-token-0123456789abcdef ',
      'Bearer s3cret',
      's3cret-admin-token-0123456789abcdef',
      'Basic s3cret-admin-token-0123456789abcdef',
    ])
      expect(() => guard.canActivate(context(header))).toThrow(UnauthorizedException);
  });
});
