import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LRUCache } from 'lru-cache';
import { INT4_MAX } from '../common/validation/validators.js';
import type { AuthUser } from './auth.types.js';

interface AccessTokenPayload {
  sub: number;
  exp?: number;
}

/** Tokens remembered as verified: one per recently active viewer (a token is some 150 bytes). */
const VERIFIED_TOKENS = 20_000;

/** A token that verified, and until when it is valid (its `exp`). */
interface Verified {
  user: AuthUser;
  expiresAtMs: number;
}

/**
 * Issues and checks access tokens (HS256 JWTs whose subject is the user id). A token that verified is remembered
 * until its own expiry, so a viewer's cached reads pay one map lookup instead of an HMAC and a JSON parse each
 * (about a third of a per-viewer hit's CPU). Only successes are remembered: forged or malformed tokens, which an
 * attacker can vary at will, never take room; and since the key is the whole token, nothing unverified can match.
 */
@Injectable()
export class TokenService {
  private readonly verified = new LRUCache<string, Verified>({ max: VERIFIED_TOKENS });

  constructor(private readonly jwt: JwtService) {}

  issue(user: AuthUser): Promise<string> {
    return this.jwt.signAsync({ sub: user.id } satisfies AccessTokenPayload);
  }

  /**
   * @returns the user the token names, or undefined when it is malformed, forged, expired or has no expiry (a
   *   correctly signed token without `exp` would be valid forever: we never issue one, so it was not made here).
   */
  async verify(token: string): Promise<AuthUser | undefined> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAtMs) return known.user;
      this.verified.delete(token);
      return undefined;
    }
    try {
      const payload = await this.jwt.verifyAsync<AccessTokenPayload>(token, { algorithms: ['HS256'] });
      const id = payload.sub;
      if (typeof payload.exp !== 'number') return undefined;
      if (!(Number.isInteger(id) && id >= 1 && id <= INT4_MAX)) return undefined;
      const user = { id };
      this.verified.set(token, { user, expiresAtMs: payload.exp * 1_000 });
      return user;
    } catch {
      return undefined;
    }
  }
}
