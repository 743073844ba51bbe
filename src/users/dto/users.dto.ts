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
