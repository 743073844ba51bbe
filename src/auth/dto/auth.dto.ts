import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { CodeField, EmailField, NicknameField, PasswordField, PhoneNumberField } from '../../common/fields';

export class SignupDto {
  @EmailField() email: string;
  @PasswordField() password: string;
  @NicknameField() nickname: string;
  @PhoneNumberField() phoneNumber?: string;
}

export class ConfirmSignupDto {
  @EmailField() email: string;
  @CodeField() code: string;
}

export class EmailOnlyDto {
  @EmailField() email: string;
}

export class LoginDto {
  @EmailField() email: string;
  @PasswordField() password: string;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token from login' })
  @IsString()
  @Length(1, 8192)
  refreshToken: string;
}

export class ResetPasswordDto {
  @EmailField() email: string;
  @CodeField() code: string;
  @PasswordField('The new password') newPassword: string;
}

export class ChangePasswordDto {
  @PasswordField('The current password') currentPassword: string;
  @PasswordField('The new password') newPassword: string;
}

/** The challenges a client can answer through the API (Cognito's names). */
export const ANSWERABLE_CHALLENGES = ['SOFTWARE_TOKEN_MFA', 'NEW_PASSWORD_REQUIRED', 'MFA_SETUP', 'SMS_MFA', 'EMAIL_OTP'] as const;
export type AnswerableChallenge = (typeof ANSWERABLE_CHALLENGES)[number];

export class ChallengeAnswerDto {
  @EmailField() email: string;

  @ApiProperty({ enum: ANSWERABLE_CHALLENGES, description: 'The `challenge.name` of the previous answer' })
  @IsIn(ANSWERABLE_CHALLENGES)
  name: AnswerableChallenge;

  @ApiProperty({ description: 'The `challenge.session` of the previous answer' })
  @IsString()
  @Length(1, 4096)
  session: string;

  @ApiPropertyOptional({
    example: '123456',
    description: 'SOFTWARE_TOKEN_MFA / MFA_SETUP: the authenticator app code; SMS_MFA / EMAIL_OTP: the code sent',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9]{6,8}$/, { message: '$property must be the 6 to 8 digit code' })
  code?: string;

  @ApiPropertyOptional({ format: 'password', description: 'NEW_PASSWORD_REQUIRED: the password that replaces the temporary one' })
  @IsOptional()
  @PasswordField('The new password')
  newPassword?: string;
}

export class OAuthTokenDto {
  @ApiProperty({ description: 'The `code` query parameter Cognito redirected to the app with' })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,2048}$/, { message: '$property must be the authorization code' })
  code: string;

  @ApiProperty({ description: 'The PKCE code verifier whose S256 challenge started the login (RFC 7636: 43-128 characters)' })
  @IsString()
  @Matches(/^[A-Za-z0-9._~-]{43,128}$/, { message: '$property must be 43 to 128 characters of A-Z a-z 0-9 . _ ~ -' })
  codeVerifier: string;

  @ApiProperty({
    description: 'The redirect URI the login started with; one of OAUTH_REDIRECT_URIS',
    example: 'https://app.example.com/callback',
  })
  @IsString()
  @Length(1, 2048)
  redirectUri: string;
}
