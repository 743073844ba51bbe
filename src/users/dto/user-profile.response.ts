import { ApiProperty } from '@nestjs/swagger';
import { UserMapping, UserStatus, USER_STATUSES } from '../../identity/entities/user-mapping.entity';

export class UserProfileResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) phoneNumber: string | null;
  @ApiProperty({ nullable: true, type: String }) nickname: string | null;
  @ApiProperty({ enum: USER_STATUSES }) status: UserStatus;
  @ApiProperty({ type: [String] }) groups: string[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static from(user: UserMapping, groups: string[]): UserProfileResponse {
    return {
      id: user.id,
      email: user.email,
      phoneNumber: user.phoneNumber,
      nickname: user.nickname,
      status: user.status,
      groups,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    };
  }
}

export class PublicProfileResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) nickname: string | null;
  @ApiProperty({ enum: USER_STATUSES }) status: UserStatus;

  static from(user: Pick<UserMapping, 'id' | 'nickname' | 'status'>): PublicProfileResponse {
    return { id: user.id, nickname: user.nickname, status: user.status };
  }
}

export class UserProfileEnvelope {
  @ApiProperty({ type: UserProfileResponse }) user: UserProfileResponse;
}

export class CodeDeliveryResponse {
  @ApiProperty() destination: string;
  @ApiProperty() medium: string;
}

export class CodeDeliveryEnvelope {
  @ApiProperty({ type: CodeDeliveryResponse }) codeDelivery: CodeDeliveryResponse;
}
