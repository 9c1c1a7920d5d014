import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { INT4_MAX } from '../common/validation/validators.js';
import type { AuthUser } from './auth.types.js';

interface AccessTokenPayload {
  sub: number;
  exp?: number;
}

/** Issues and checks access tokens (HS256 JWTs whose subject is the user id). */
@Injectable()
export class TokenService {
  constructor(private readonly jwt: JwtService) {}

  issue(user: AuthUser): Promise<string> {
    return this.jwt.signAsync({ sub: user.id } satisfies AccessTokenPayload);
  }

  /**
   * @returns the user the token names, or undefined when it is malformed, forged, expired or has no expiry (a
   *   correctly signed token without `exp` would be valid forever: we never issue one, so it was not made here).
   */
  async verify(token: string): Promise<AuthUser | undefined> {
    try {
      const payload = await this.jwt.verifyAsync<AccessTokenPayload>(token, { algorithms: ['HS256'] });
      const id = payload.sub;
      if (typeof payload.exp !== 'number') return undefined;
      return Number.isInteger(id) && id >= 1 && id <= INT4_MAX ? { id } : undefined;
    } catch {
      return undefined;
    }
  }
}
