import { otpauthUri } from './otpauth-uri';

describe('otpauthUri', () => {
  it('labels the entry issuer:account and repeats the issuer as a parameter', () => {
    expect(otpauthUri('cognito-nest-api', 'jane@example.com', 'JBSWY3DPEHPK3PXP')).toBe(
      'otpauth://totp/cognito-nest-api:jane%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=cognito-nest-api',
    );
  });

  it('percent-encodes spaces and colons so the label stays issuer:account', () => {
    const uri = new URL(otpauthUri('My App: EU', 'a:b@example.com', 'ABC'));
    expect(uri.pathname).toBe('/My%20App%3A%20EU:a%3Ab%40example.com');
    expect(uri.searchParams.get('issuer')).toBe('My App: EU');
    expect(uri.toString()).not.toContain('+');
  });
});
