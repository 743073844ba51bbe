import { rateLimitClientKey } from './rate-limit.guard';

describe('rateLimitClientKey', () => {
  it('counts every address of one IPv6 /64 as one client', () => {
    const a = rateLimitClientKey('2001:db8:1:2:aaaa::1');
    expect(rateLimitClientKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(a);
    expect(rateLimitClientKey('2001:0db8:0001:0002::9')).toBe(a);
    expect(rateLimitClientKey('2001:db8:1:3::1')).not.toBe(a);
  });

  it('keeps IPv4 clients apart, and treats an IPv4-mapped IPv6 address as IPv4', () => {
    expect(rateLimitClientKey('10.0.0.1')).not.toBe(rateLimitClientKey('10.0.0.2'));
    expect(rateLimitClientKey('::ffff:10.0.0.1')).toBe(rateLimitClientKey('10.0.0.1'));
  });
});
