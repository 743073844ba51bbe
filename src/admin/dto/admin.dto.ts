import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { EmailField, NicknameField, PhoneNumberField } from '../../common/fields';
import { PageQueryDto } from '../../common/pagination';
import { USER_STATUSES, UserStatus } from '../../identity/entities/user-mapping.entity';

/** Cognito group names: 1..128 characters; we allow the printable ASCII subset clients can put in a path. */
export const GROUP_NAME = /^[A-Za-z0-9_.+=@-]{1,128}$/;

export class AdminUserQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: USER_STATUSES })
  @IsOptional()
  @IsIn(USER_STATUSES)
  status?: UserStatus;

  @ApiPropertyOptional({ description: 'Matches email or nickname, case-insensitively' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  q?: string;
}

export class CreateGroupDto {
  @ApiPropertyOptional({ example: 'editors' })
  @IsString()
  @Matches(GROUP_NAME, { message: 'name must be 1-128 letters, digits or _.+=@-' })
  name: string;

  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  description?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 2147483647 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2147483647)
  precedence?: number;
}

export class InviteUserDto {
  @EmailField() email: string;
  @NicknameField() nickname: string;
  @PhoneNumberField() phoneNumber?: string;

  @ApiPropertyOptional({ type: [String], example: ['moderator'], description: 'Existing groups to put the new user in' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(25)
  @IsString({ each: true })
  @Matches(GROUP_NAME, { each: true, message: 'each group must be 1-128 letters, digits or _.+=@-' })
  groups?: string[];
}
