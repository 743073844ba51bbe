import { ApiProperty } from '@nestjs/swagger';

export class TotpSecretResponse {
  @ApiProperty({ description: 'The TOTP secret (base32) to type into an authenticator app' }) secretCode: string;
  @ApiProperty({
    example: 'otpauth://totp/cognito-nest-api:jane%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=cognito-nest-api',
    description: 'The same secret as a key URI, for a QR code',
  })
  otpauthUri: string;
}

export class MfaStatusResponse {
  @ApiProperty({ description: 'Whether a verified authenticator app (TOTP) is a second step of this account' }) totp: boolean;
  @ApiProperty({ enum: ['SOFTWARE_TOKEN_MFA'], nullable: true, type: String }) preferred: 'SOFTWARE_TOKEN_MFA' | null;
}
