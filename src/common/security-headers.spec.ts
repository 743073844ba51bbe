import { securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it("computes helmet's headers for the app's CSP", () => {
    const headers = securityHeaders();
    expect(headers['content-security-policy']).toBe(
      "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;" +
        "object-src 'none';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline';upgrade-insecure-requests",
    );
    expect(headers).toMatchObject({
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    });
  });

  it('follows the options it is given, so a weakened policy cannot hide behind the cache', () => {
    expect(securityHeaders({ frameguard: { action: 'deny' }, hsts: false })).toMatchObject({ 'x-frame-options': 'DENY' });
    expect(securityHeaders({ hsts: false })['strict-transport-security']).toBeUndefined();
  });
});
