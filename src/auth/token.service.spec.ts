import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { TokenService } from './token.service.js';

const SECRET = 'a-secret-of-the-token-service-spec';

describe('TokenService', () => {
  const jwt = new JwtService({ secret: SECRET, signOptions: { expiresIn: '15m' } });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('verifies a token once, then answers from memory until the token itself expires', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-03T12:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const tokens = new TokenService(jwt);
    const token = await tokens.issue({ id: 7 });
    const verifyAsync = jest.spyOn(jwt, 'verifyAsync');
    expect(await tokens.verify(token)).toEqual({ id: 7 });
    expect(await tokens.verify(token)).toEqual({ id: 7 });
    expect(await tokens.verify(token)).toEqual({ id: 7 });
    expect(verifyAsync).toHaveBeenCalledTimes(1);

    jest.setSystemTime(new Date('2026-12-03T12:14:59Z'));
    expect(await tokens.verify(token)).toEqual({ id: 7 });
    jest.setSystemTime(new Date('2026-12-03T12:15:00Z')); // exp: refused from memory as jsonwebtoken would
    expect(await tokens.verify(token)).toBeUndefined();
    expect(await tokens.verify(token)).toBeUndefined();
    verifyAsync.mockRestore();
  });

  it('never remembers a token that failed: forged, malformed, without exp or naming no valid user', async () => {
    const tokens = new TokenService(jwt);
    const forged = new JwtService({ secret: 'another-secret-entirely-000000' }).sign(
      { sub: 7 },
      { expiresIn: '1h' },
    );
    const noExp = new JwtService({ secret: SECRET }).sign({ sub: 7 });
    const badSubject = jwt.sign({ sub: 'admin' });
    const verifyAsync = jest.spyOn(jwt, 'verifyAsync');
    for (const token of [forged, 'not.a.token', noExp, badSubject]) {
      expect(await tokens.verify(token)).toBeUndefined();
      expect(await tokens.verify(token)).toBeUndefined();
    }
    expect(verifyAsync).toHaveBeenCalledTimes(8);
    verifyAsync.mockRestore();
  });
});
