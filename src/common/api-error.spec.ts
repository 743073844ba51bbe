import { ApiError, INVALID_TOKEN_CHALLENGE } from './api-error';

describe('ApiError', () => {
  it('refuses a code outside the contract at compile time', () => {
    // `npm run lint` runs tsc over this file: if ErrorCode ever accepted any string, this directive would be unused
    // and tsc would fail.
    // @ts-expect-error 'VALIDATON_FAILED' is a typo, not a contract code
    const typo = new ApiError(400, 'VALIDATON_FAILED', 'x');
    expect(typo.getStatus()).toBe(400);
  });

  it('gives every 401 for a bad token the RFC 6750 challenge', () => {
    expect(ApiError.unauthenticated().headers).toEqual(INVALID_TOKEN_CHALLENGE);
    expect(ApiError.unauthenticated().headers).not.toBe(INVALID_TOKEN_CHALLENGE);
  });
});
