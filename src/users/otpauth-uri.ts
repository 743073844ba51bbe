/**
 * The key URI an authenticator app reads from a QR code (the Key Uri Format of Google
 * Authenticator): `otpauth://totp/{issuer}:{account}?secret=...&issuer=...`. Cognito's TOTP is
 * the default of that format (SHA-1, 6 digits, 30 s), so those parameters are left out.
 */
export function otpauthUri(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({ secret, issuer });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}
