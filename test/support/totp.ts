import { generateSync } from 'otplib';

/** The code an authenticator app shows now for `secret` (Cognito's TOTP: SHA-1, 6 digits, 30 s). */
export function totp(secret: string): string {
  return generateSync({ secret, algorithm: 'sha1', digits: 6, period: 30 });
}

/** A 6-digit code that is not the current one (nor its neighbours). */
export function wrongTotp(secret: string): string {
  const right = totp(secret);
  return right === '000000' ? '111111' : '000000';
}
