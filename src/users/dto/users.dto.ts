import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { CodeField, EmailField, NicknameField, PhoneNumberField } from '../../common/fields';

export class UpdateProfileDto {
  @NicknameField(true) nickname?: string;
  @PhoneNumberField(true) phoneNumber?: string;
}

export class ChangeEmailDto {
  @EmailField() email: string;
}

export class VerifyEmailDto {
  @CodeField() code: string;
}

export class VerifyTotpDto {
  @ApiProperty({ example: '123456', description: 'The current 6-digit code of the authenticator app' })
  @IsString()
  @Matches(/^[0-9]{6}$/, { message: '$property must be the 6-digit code' })
  code: string;
}
