import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
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
